"""What passes between us and an IMAP server, read and worded: untagged responses, fetch batches,
the server's times, socket options and error messages for staff."""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
from contextlib import suppress
from datetime import datetime, timezone
from importlib import metadata
from typing import Iterable, Iterator, Sequence

from imapclient import exceptions as imap_errors


def client_id() -> dict[str, str]:
    """What the `ID` command says about us (163 and 126 refuse SELECT until they hear it)."""
    try:
        version = metadata.version("craftsman-intake")
    except metadata.PackageNotFoundError:
        version = "0"
    return {"name": "craftsman-intake", "version": version, "vendor": "craftsman-intake"}


def new_mail(responses: Iterable[tuple], exists: int) -> tuple[bool, int]:
    """Whether these untagged responses announce new mail, and the message count after them."""
    for response in responses:
        if len(response) < 2 or not isinstance(response[0], int):
            continue
        count, kind = response[0], response[1]
        if kind == b"EXISTS":
            if count > exists:
                return True, count
            exists = count
        elif kind == b"EXPUNGE":
            exists -= 1
        elif kind == b"RECENT" and count > 0:
            return True, exists
    return False, exists


def batched(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def by_size(uids: list[int], sizes: dict, budget: int) -> Iterator[list[int]]:
    """Consecutive runs of `uids` of at most `budget` bytes together (a bigger message alone)."""
    part: list[int] = []
    total = 0
    for uid in uids:
        if uid not in sizes:
            continue  # expunged since the search
        size = int(sizes[uid].get(b"RFC822.SIZE") or 0)
        if part and total + size > budget:
            yield part
            part, total = [], 0
        part.append(uid)
        total += size
    if part:
        yield part


def aware(moment: datetime | None) -> datetime | None:
    """imapclient's fixed-offset zone as a plain `datetime.timezone` (same instant)."""
    if moment is None:
        return None
    offset = moment.utcoffset()
    return moment.replace(tzinfo=timezone(offset)) if offset is not None else moment.replace(tzinfo=timezone.utc)


def keep_alive(sock: socket.socket) -> None:
    """TCP keepalive after a minute of silence, so a dead peer is noticed during a long IDLE."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 20), ("TCP_KEEPCNT", 3)):
            if hasattr(socket, option):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def words(exc: Exception) -> str:
    """What the server said, without imaplib's wrapping ("select failed: b'...'" → "...")."""
    text = str(exc).split("=>", 1)[-1].strip()
    quoted = re.fullmatch(r"b(['\"])(.*)\1", text, re.S)
    return quoted[2] if quoted else text


def reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the server's certificate was not accepted ({exc.verify_message}); check mailbox.host and "
                "mailbox.ca_file")
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: is the server running, and are mailbox.host and mailbox.port right?"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s (mailbox.timeout_seconds)"
    if isinstance(exc, imap_errors.IMAPClientAbortError):
        return f"the connection was lost ({exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"


def copies(client, mails: Sequence) -> list[int]:
    """UIDs in the selected folder holding exactly these messages (StoredMail): searched by size
    and by Message-ID, then confirmed by the sha256 of their bytes, so no other mail is touched."""
    found: set[int] = set()
    for size in {mail.size for mail in mails}:
        found.update(client.search(["LARGER", str(size - 1), "SMALLER", str(size + 1)]))
    for message_id in {mail.message_id for mail in mails if mail.message_id}:
        found.update(client.search(["HEADER", "Message-ID", message_id]))
    wanted = {mail.sha256 for mail in mails}
    confirmed = []
    for group in batched(sorted(found), 50):
        for uid, item in client.fetch(group, ["BODY.PEEK[]"]).items():
            if hashlib.sha256(bytes(item.get(b"BODY[]") or b"")).hexdigest() in wanted:
                confirmed.append(uid)
    return sorted(confirmed)
