"""Whom a reply goes to, and when none may go at all: pure functions over the received message.

The service asks these before it queues a reply. Whether a message is `ignored` (auto-replies,
bounces, non-submissions, duplicates) is the judge's call; these add what concerns the
reply itself: loops, senders that cannot or must not be answered, and forged senders
(backscatter to a forged address gets the office's mail server blocklisted).
"""

from __future__ import annotations

import re
from typing import Iterable

from ingest.headers import addresses
from ingest.types import Message

# RFC 5321 §4.5.5 / RFC 3834 §2: never answer the mail system itself
_SYSTEM_LOCAL_PARTS = frozenset({"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster"})
# noreply@, no-reply@, no_reply@, donotreply@, do-not-reply@, noreply-notice@ …
_NO_REPLY = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:$|[-_.+])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:\[\]]+$")


def _usable(address: str) -> bool:
    # ASCII only: a reply is plain RFC 5322 (no SMTPUTF8), which cannot carry 张三@例子.中国
    return (address.isascii() and bool(_ADDRESS.match(address)) and not address.startswith(".")
            and "." in address.split("@", 1)[1])


def _reply_to_address(message: Message) -> str | None:
    for value in message.header_all("Reply-To"):
        for _name, address in addresses(value):
            if _usable(address):
                return address
    return None


def reply_recipient(message: Message) -> str | None:
    """The bare, lower-cased address a reply goes to, or None when there is none to use.

    Reply-To wins over From: RFC 5322 §3.6.2 says that when Reply-To is present it names
    where the author wants replies to go (a unit's clerk sending from a shared mailbox, a
    form relay). Only the first usable Reply-To address is taken, so that one reply goes to
    one address and the daily cap per address counts it. A Reply-To that cannot be parsed
    falls back to From.
    """
    return _reply_to_address(message) or (message.from_addr if message.from_addr and _usable(message.from_addr) else None)


def _display_name(name: str | None) -> str:
    return " ".join(_CONTROL.sub(" ", name or "").split())[:200]


def reply_recipient_name(message: Message) -> str:
    """The display name to put beside `reply_recipient` in To:, or "" when there is none."""
    target = reply_recipient(message)
    for value in message.header_all("Reply-To"):
        for name, address in addresses(value):
            if address == target:
                return _display_name(name)
    if target and target == message.from_addr:
        return _display_name(message.from_name)
    return ""


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
    if recipient in own or (message.from_addr or "").lower() in own:
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


def _failed(results: list[tuple[str, str]]) -> bool:
    by_method: dict[str, set[str]] = {}
    for method, result in results:
        by_method.setdefault(method, set()).add(result)
    if "fail" in by_method.get("spf", set()) or "fail" in by_method.get("dmarc", set()):
        return True
    dkim = by_method.get("dkim", set())
    # a message may carry several signatures: one that verifies is enough
    return "fail" in dkim and "pass" not in dkim


def sender_authentication_failed(message: Message, trusted_authserv_ids: Iterable[str] | None = None) -> bool:
    """Whether our receiving server found the sender forged: SPF, DMARC or DKIM `fail`.

    Only our own server's verdict counts. With `trusted_authserv_ids` those are the
    Authentication-Results headers whose authserv-id is one of them; without, the topmost
    header names our server (headers are prepended on the way in), and every header carrying
    that same authserv-id is taken together (OpenDKIM, OpenDMARC and an SPF policy daemon each
    add their own; RFC 8601 §5 has a server remove look-alikes of its id from incoming mail).
    `softfail`, `neutral`, `none`, `temperror`, `permerror` are not failures; `dkim=fail`
    beside a `dkim=pass` is not either (one signature that verifies is enough).

    Where no Authentication-Results header is present, the topmost `Received-SPF` header
    (RFC 7208 §9.1, what Postfix's SPF policy daemons add) is read instead: `fail` there
    counts. A forger who adds a fake failing header only stops a reply to himself.
    """
    parsed = [authentication_results(value) for value in message.header_all("Authentication-Results")]
    if parsed:
        trusted = {i.lower() for i in trusted_authserv_ids} if trusted_authserv_ids else {parsed[0][0]}
        ours = [result for authserv_id, results in parsed if authserv_id in trusted for result in results]
        return _failed(ours)
    received_spf = message.header_all("Received-SPF")
    if trusted_authserv_ids is None and received_spf:
        return received_spf[0].strip().lower().startswith("fail")
    return False
