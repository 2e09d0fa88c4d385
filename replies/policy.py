"""When no reply may go at all, and whether our server found the sender forged: pure functions of the mail.

The service asks these before it queues a reply. Whether a message is `ignored` (auto-replies,
bounces, non-submissions, duplicates) is the judge's call; these add what concerns the
reply itself: loops, senders that cannot or must not be answered, and forged senders
(backscatter to a forged address gets the office's mail server blocklisted).
"""

from __future__ import annotations

import re
from typing import Iterable

from core.words import SenderCheck
from ingest.headers import addresses
from ingest.types import Message
from replies.addressing import reply_recipient

# RFC 5321 §4.5.5 / RFC 3834 §2: never answer the mail system itself
_SYSTEM_LOCAL_PARTS = frozenset({"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster"})
# noreply@, no-reply@, no_reply@, donotreply@, do-not-reply@, noreply-notice@ …
_NO_REPLY = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:$|[-_.+])")
def _reply_to_addresses(message: Message) -> list[tuple[str, str]]:
    return [pair for value in message.header_all("Reply-To") for pair in addresses(value)]


def _local_part(address: str) -> str:
    return address.rsplit("@", 1)[0].lower()


def should_never_reply(message: Message, own_addresses: Iterable[str]) -> str | None:
    """Why no reply may go to this message at all, or None when one may.

    Reasons: `no_sender` (From empty, missing or unusable, e.g. not ASCII, and no usable Reply-To),
    `null_return_path` (`Return-Path: <>`, a bounce: RFC 3834 §2), `auto_submitted`
    (`Auto-Submitted` other than `no`: RFC 3834 §2; the judge ignores these already, this is
    the second lock on the door), `own_address` (the sender or the reply's recipient is one of
    ours: a loop), `mailer_daemon` (MAILER-DAEMON, postmaster), `noreply` (noreply@,
    no-reply@, donotreply@ …).
    """
    own = {address.strip().lower() for address in own_addresses if address and address.strip()}
    recipient = reply_recipient(message)
    if recipient is None:
        return "no_sender"
    if any(value.strip() in ("<>", "") for value in message.header_all("Return-Path")):
        return "null_return_path"
    if any(value.strip().split(";", 1)[0].strip().lower() not in ("no", "") for value in message.header_all("Auto-Submitted")):
        return "auto_submitted"
    said = {recipient, (message.from_addr or "").lower(), *(a.lower() for _n, a in _reply_to_addresses(message))}
    if said & own:
        return "own_address"
    for address in {recipient, (message.from_addr or "").lower()} - {""}:
        if _local_part(address) in _SYSTEM_LOCAL_PARTS:
            return "mailer_daemon"
    if _NO_REPLY.match(_local_part(recipient)):
        return "noreply"
    return None


# --- Authentication-Results (RFC 8601) ------------------------------------------------------

_RESULT = re.compile(r"^\s*([A-Za-z0-9_.-]+)(?:\s*/\s*\d+)?\s*=\s*([A-Za-z]+)")


def _without_comments(value: str) -> str:
    """The header value with (comments) removed, nested ones too, quoted strings kept as they are."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            quoted = char != '"'
            out.append(char)
        elif char == '"' and depth == 0:
            quoted = True
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _split_semicolons(value: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def authentication_results(value: str) -> tuple[str, list[tuple[str, str]]]:
    """`mx.example.cn; spf=pass smtp.mailfrom=…; dkim=fail …` → ("mx.example.cn", [("spf", "pass"), ("dkim", "fail")]).

    Methods and results are lower-cased; `none` (no checks run) gives no results.
    """
    pieces = _split_semicolons(_without_comments(value))
    head = pieces[0].split()
    authserv_id = head[0].lower() if head else ""
    results = []
    for piece in pieces[1:]:
        if match := _RESULT.match(piece):
            results.append((match.group(1).lower(), match.group(2).lower()))
    return authserv_id, results


def _by_method(results: list[tuple[str, str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for method, result in results:
        found.setdefault(method, set()).add(result)
    return found


def _verdict(results: list[tuple[str, str]]) -> SenderCheck:
    """fail: SPF or DMARC failed, or DKIM failed with no signature that verifies; pass: DMARC passed,
    or (no DMARC said) a DKIM signature verifies or SPF passed; none: nothing either way."""
    methods = _by_method(results)
    dkim = methods.get("dkim", set())
    if "fail" in methods.get("spf", set()) | methods.get("dmarc", set()) or ("fail" in dkim and "pass" not in dkim):
        return "fail"
    if "pass" in methods.get("dmarc", set()):
        return "pass"
    if "dmarc" not in methods and ("pass" in dkim or "pass" in methods.get("spf", set())):
        return "pass"
    return "none"


_SPF_WORD = re.compile(r"^\s*([A-Za-z]+)")
_RECEIVER = re.compile(r"\breceiver=([^;\s]+)", re.IGNORECASE)


def _received_spf(value: str) -> tuple[str, list[tuple[str, str]]]:
    """`Fail (…) receiver=mx.cqgh.org; …` → ("mx.cqgh.org", [("spf", "fail")]) (RFC 7208 §9.1)."""
    word = _SPF_WORD.match(value)
    receiver = _RECEIVER.search(value)
    return (receiver.group(1).lower().rstrip(".") if receiver else ""), ([("spf", word.group(1).lower())] if word else [])


def _authentication_headers(message: Message) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every Authentication-Results and Received-SPF header, topmost first, as (server, results)."""
    found = []
    for name, value in message.headers:
        if name.lower() == "authentication-results":
            found.append(authentication_results(value))
        elif name.lower() == "received-spf":
            found.append(_received_spf(value))
    return found


def _ours(headers: list[tuple[str, list[tuple[str, str]]]], trusted: set[str]) -> list[tuple[str, str]]:
    """The results our own receiving server wrote. With `trusted` (replies.authserv_ids) only headers
    naming one of those; without, the topmost header (our server adds its headers last, on top) and
    the ones right below it that name the same server, added in the same pass (OpenDKIM, OpenDMARC
    and an SPF daemon each write one). Anything lower was written on the way, or by the sender."""
    if trusted:
        return [result for server, results in headers if server in trusted for result in results]
    if not headers:
        return []
    top = headers[0][0]
    ours = list(headers[0][1])
    for server, results in headers[1:]:
        if not top or server != top:
            break
        ours += results
    return ours


def sender_check(message: Message, trusted_authserv_ids: Iterable[str] | None = None) -> SenderCheck:
    """What our receiving server found of the sender: `pass`, `fail` (forged), or `none` (it said nothing).

    Only our own server's word counts (`_ours`): a sender can write any header he likes, so a
    forged `spf=pass` placed below our server's `Received-SPF: fail` changes nothing.
    `softfail`, `neutral`, `none`, `temperror`, `permerror` are neither pass nor fail.
    """
    trusted = {i.lower().rstrip(".") for i in trusted_authserv_ids or ()}
    return _verdict(_ours(_authentication_headers(message), trusted))


def sender_authentication_failed(message: Message, trusted_authserv_ids: Iterable[str] | None = None) -> bool:
    """Whether our receiving server found the sender forged (see `sender_check`)."""
    return sender_check(message, trusted_authserv_ids) == "fail"
