"""The MIME tree walked into its leaves, forwarded mails included, within a budget of parts."""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from email.message import Message as MimePart
from email.policy import Compat32

from ingest import charsets, split

FORWARDED = {"message/rfc822", "message/global", "message/news"}
# machine-readable parts of bounces and receipts: shown with the body, never files
STATUS = {
    "message/delivery-status", "message/global-delivery-status", "message/disposition-notification",
    "message/feedback-report", "text/rfc822-headers", "message/rfc822-headers",
}
REFERENCES = {"message/external-body", "message/partial"}
PLAIN = {"text/plain", "text/enriched", "text/richtext"}
_UUENCODE = {"x-uuencode", "uuencode", "x-uue", "uue"}


class _RawHeaders(Compat32):
    """compat32 that returns header values as read.

    compat32 wraps a value holding 8-bit bytes in an email.header.Header that prints U+FFFD
    for each byte, losing a GBK file name for good; kept surrogate-escaped, we decode it.
    """

    def header_fetch_parse(self, name, value):
        return value


POLICY = _RawHeaders()


def parse(data: bytes, max_parts: int) -> MimePart:
    return split.parse(data, POLICY, max_parts)


@dataclass
class Leaf:
    part: MimePart
    owner: int  # 0: the message itself; n: the n-th forwarded mail inside it


@dataclass
class Walk:
    leaves: list[Leaf] = field(default_factory=list)
    forwards: list[MimePart] = field(default_factory=list)  # the forwarded mails' own headers
    defects: list[str] = field(default_factory=list)


def content_type(part: MimePart) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001 - a header broken beyond what the email package tolerates
        return "application/octet-stream"


def walk(message: MimePart, max_parts: int) -> Walk:
    """Every leaf part in document order, without recursion, stopping after `max_parts` parts."""
    walked = Walk(forwards=[message])
    stack: list[tuple[MimePart, int]] = [(message, 0)]
    seen = 0
    while stack:
        part, owner = stack.pop()
        seen += 1
        if seen > max_parts:
            walked.defects.append(f"more than {max_parts} MIME parts; the rest was not read")
            break
        walked.defects.extend(_defect_text(defect) for defect in getattr(part, "defects", ()))
        payload = part.get_payload()
        ctype = content_type(part)
        if ctype in FORWARDED and isinstance(payload, list):
            for inner in reversed(payload):
                walked.forwards.append(inner)
                stack.append((inner, len(walked.forwards) - 1))
        elif isinstance(payload, list):
            stack.extend((child, owner) for child in reversed(payload) if isinstance(child, MimePart))
        else:
            walked.leaves.append(Leaf(part, owner))
    return walked


def _defect_text(defect: Exception) -> str:
    # the email package's defects say what they are by their class; ours carry a sentence
    return str(defect) if isinstance(defect, split.PartsLimitDefect) else type(defect).__name__


def transfer_encoding(part: MimePart) -> str:
    # "base64;" and "Base64 " occur in the wild
    return str(part.get("content-transfer-encoding", "")).split(";")[0].strip().lower()


def _decode(raw: bytes | memoryview, encoding: str) -> bytes | memoryview:
    if encoding == "base64":
        try:
            return binascii.a2b_base64(raw)
        except binascii.Error:  # bad padding: keep the whole quanta
            cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", bytes(raw))
            cleaned = cleaned[: len(cleaned) - len(cleaned) % 4]
            return binascii.a2b_base64(cleaned)
    if encoding == "quoted-printable":
        return binascii.a2b_qp(raw)
    return raw


def payload_bytes(part: MimePart) -> bytes:
    """The decoded content of a leaf; the raw bytes when the transfer encoding is unknown."""
    payload = part.get_payload()
    if isinstance(payload, list):  # a multipart the walk did not descend into
        return b""
    raw = payload if isinstance(payload, (bytes, memoryview)) else charsets.to_bytes(payload or "")
    encoding = transfer_encoding(part)
    try:
        return _uudecode(bytes(raw)) if encoding in _UUENCODE else bytes(_decode(raw, encoding))
    except (binascii.Error, ValueError):  # undecodable: the raw bytes are still the sender's file
        return bytes(raw)


def _uudecode(raw: bytes) -> bytes:
    lines = raw.splitlines()
    begin = next((i for i, line in enumerate(lines) if line.startswith(b"begin ")), None)
    if begin is None:
        return raw
    out = []
    for line in lines[begin + 1 :]:
        if line.strip() in (b"end", b"`", b""):
            break
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:  # a line padded wrongly by some encoder: trust its length byte
            length = ((line[0] - 32) & 63) if line else 0
            out.append(binascii.a2b_uu(line[: ((length + 2) // 3) * 4 + 1]) if length else b"")
    return b"".join(out)


def charset(part: MimePart) -> str | None:
    try:
        found = part.get_content_charset()
    except Exception:  # noqa: BLE001 - an RFC 2231 charset* parameter gone wrong
        return None
    return found if isinstance(found, str) else None


def disposition(part: MimePart) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001 - a header broken beyond what the email package tolerates
        return None
