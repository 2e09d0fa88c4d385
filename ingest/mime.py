"""Any bytes that claim to be an e-mail taken apart into a `Message`, never raising."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import datetime
from email.message import Message as MimePart
from typing import Any

from campaigns.limits import DEFAULT_LIMITS, Limits
from ingest import archives, charsets, headers, html, names, parts, tnef
from ingest.received import parse_date, time_of_receipt
from ingest.sniff import extension_for, sniff
from ingest.types import Attachment, Message, UnsafeContent

# any one of these makes a header block look like mail rather than text that has a colon
_MAIL_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "received", "return-path", "mime-version",
    "content-type", "delivered-to", "sender", "reply-to", "x-mailer", "dkim-signature", "in-reply-to",
}
_FORWARD_SEPARATOR = "---------- 转发的邮件 ----------"
_HEADER_BLOCK_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(r"<[^<>\s]*>")


def parse_message(
    raw: bytes,
    *,
    limits: Limits = DEFAULT_LIMITS,
    received_at: datetime | None = None,
    received_at_source: str = "imap",
) -> Message:
    """Take one raw e-mail apart. Never raises, whatever the bytes.

    `received_at` is the server's arrival time when the caller knows it (IMAP INTERNALDATE,
    the CLI's --received-at; naive means Asia/Shanghai), with `received_at_source` saying
    where it came from. Without it, see `ingest.received.time_of_receipt`.
    """
    try:
        raw = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
        return _parse(raw, limits, received_at, received_at_source)
    except Exception as exc:  # noqa: BLE001 - a bug of ours or of the email package: staff still get the mail
        return _unparsed(raw if isinstance(raw, bytes) else b"", received_at, received_at_source, exc)


def body_text_of(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    """What the sender wrote, as `parse_message` reads it, without taking the files apart (no
    archive unpacked, no winmail.dat): for the lists of mail staff read, shown again and again."""
    try:
        data = _normalised(bytes(raw), [])
        if len(raw) > limits.message_max_bytes:
            data = _header_block(data)
        top = parts.parse(data, limits.mime_max_parts)
        hint = parts.charset(top)
        walked = parts.walk(top, limits.mime_max_parts)
        return _bodies(walked, [(leaf, *_role(leaf.part, hint)) for leaf in walked.leaves], hint)[0]
    except Exception:  # noqa: BLE001 - as parse_message: never raises, whatever the bytes
        return ""


def _parse(raw: bytes, limits: Limits, received_at: datetime | None, received_at_source: str) -> Message:
    defects: list[str] = []
    data = _normalised(raw, defects)
    oversized = len(raw) > limits.message_max_bytes
    if oversized:
        defects.append(f"message of {len(raw)} bytes is over the limit of {limits.message_max_bytes}: headers only")
        data = _header_block(data)
    top = parts.parse(data, limits.mime_max_parts)
    hint = parts.charset(top)
    envelope = _envelope(top, hint, received_at, received_at_source, defects)
    walked = parts.walk(top, limits.mime_max_parts)
    defects.extend(walked.defects)
    leaves = [(leaf, *_role(leaf.part, hint)) for leaf in walked.leaves]
    body_text, body_html, referenced = _bodies(walked, leaves, hint)
    files = _outlook_unpacked(_attachments(leaves, referenced), limits)
    expansion = archives.expand_attachments(files, limits) if _has_archive(files) else None
    if expansion is not None:
        defects.extend(expansion.defects)
    return Message(
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        raw_size=len(raw),
        **envelope,
        body_text=body_text,
        body_html=body_html,
        attachments=tuple(expansion.attachments if expansion else files),
        # an oversized mail is refused out loud, never dropped as "not a submission"
        unsafe=tuple(expansion.unsafe if expansion else ())
        + ((UnsafeContent("（整封邮件）", "message_too_large", figure=len(raw)),) if oversized else ()),
        unreadable_archives=tuple(expansion.unreadable if expansion else ()),
        defects=_summary(defects),
        is_mail=_looks_like_mail(top),
    )


def _normalised(raw: bytes, defects: list[str]) -> bytes:
    """Bytes the parser can read: no BOM, no UTF-16 (Windows tools save .eml so), no leading blank lines."""
    utf16 = _utf16(raw)
    if utf16:
        try:
            raw = raw.decode(utf16).encode("utf-8")
            defects.append("the whole message was UTF-16; read as UTF-8")
        except UnicodeDecodeError:
            pass
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    stripped = raw.lstrip(b"\r\n")
    if len(stripped) != len(raw) and stripped:
        defects.append("blank lines before the headers were skipped")
    return stripped or raw


def _utf16(raw: bytes) -> str | None:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = raw[:64]
    if len(head) >= 16 and not any(head[0::2]) and all(head[1::2]):
        return "utf-16-be"
    if len(head) >= 16 and all(head[0::2]) and not any(head[1::2]):
        return "utf-16-le"
    return None


def _header_block(data: bytes) -> bytes:
    end = _HEADER_BLOCK_END.search(data, 0, 4 << 20)
    return data[: end.end()] if end else data[: 1 << 20]


def _envelope(
    top: MimePart, hint: str | None, received_at: datetime | None, source: str, defects: list[str]
) -> dict[str, Any]:
    """The header-derived fields of a Message."""
    decoded = tuple((str(name), headers.decode_value(value, hint)) for name, value in top.items())
    senders = headers.addresses(top.get("from")) or headers.addresses(top.get("sender"))
    recipients = headers.addresses(top.get("to")) + headers.addresses(top.get("cc"))
    date_header = parse_date(headers.unfold(str(top.get("date", ""))))
    received_headers = [headers.unfold(str(value)) for value in top.get_all("received", [])]
    received, received_source, note = time_of_receipt(received_at, source, received_headers, date_header)
    if note:
        defects.append(note)
    message_id = headers.decode_value(top.get("message-id", ""))
    bracketed = _MESSAGE_ID.search(message_id)
    return {
        "message_id": (bracketed.group(0) if bracketed else message_id) or None,
        "from_addr": senders[0][1] if senders else None,
        "from_name": (senders[0][0] or None) if senders else None,
        "to_addrs": tuple(dict.fromkeys(address for _name, address in recipients)),
        "subject": headers.decode_value(top.get("subject", ""), hint),
        "date_header": date_header,
        "received_at": received,
        "received_at_source": received_source,
        "content_type": parts.content_type(top),
        "headers": decoded,
    }


def _looks_like_mail(top: MimePart) -> bool:
    return any(str(name).lower() in _MAIL_HEADERS for name in top.keys())


_Classified = tuple[parts.Leaf, str, str]  # (leaf, role, file name)


def _role(part: MimePart, hint: str | None) -> tuple[str, str]:
    """("plain" | "html" | "file" | "skip", file name) of a leaf."""
    ctype = parts.content_type(part)
    if ctype in parts.REFERENCES:
        return "skip", ""  # a pointer to content elsewhere (external-body) or a fragment of it (partial)
    if ctype == "application/applefile":
        return "skip", ""  # Apple Mail's resource fork beside the file (multipart/appledouble): no file of the sender's
    filename = names.part_filename(part, parts.charset(part) or hint)
    if filename or parts.disposition(part) == "attachment":
        return "file", filename
    if ctype in parts.PLAIN or ctype in parts.STATUS or ctype.startswith("multipart/"):
        return "plain", ""  # a multipart that lost its boundary is text
    if ctype == "text/html":
        return "html", ""
    return "file", ""


def _text(part: MimePart, ctype_html: bool) -> str:
    data = parts.payload_bytes(part)
    label = parts.charset(part) or (html.declared_charset(data) if ctype_html else None)
    return charsets.decode(data, label)[0]


def _bodies(walked: parts.Walk, leaves: list[_Classified], hint: str | None) -> tuple[str, str | None, set[str]]:
    """(body text, the message's own HTML, Content-IDs that any HTML refers to).

    Plain parts win over HTML; every inline text part counts, because Apple Mail splits a
    body around inline pictures. Forwarded mails' bodies follow the message's own, each
    under a separator with its sender, date and subject: a unit forwarding a nominee's
    mail leaves the download link of a large attachment in there.
    """
    plain: dict[int, list[str]] = {}
    markup: dict[int, list[str]] = {}
    for leaf, role, _name in leaves:
        if role == "plain":
            plain.setdefault(leaf.owner, []).append(_text(leaf.part, False))
        elif role == "html":
            markup.setdefault(leaf.owner, []).append(_text(leaf.part, True))
    referenced = set().union(*(html.content_ids(text) for texts in markup.values() for text in texts))
    sections = []
    for owner in sorted(set(plain) | set(markup)):
        text = "\n".join(plain[owner]) if owner in plain else "\n".join(html.to_text(t) for t in markup[owner])
        sections.append(text.strip() if owner == 0 else _forward_heading(walked.forwards[owner], hint) + text.strip())
    body_html = markup[0][0] if markup.get(0) else None
    return "\n\n".join(sections).strip(), body_html, referenced


def _forward_heading(forwarded: MimePart, hint: str | None) -> str:
    lines = [_FORWARD_SEPARATOR]
    for label, key in (("发件人", "from"), ("日期", "date"), ("主题", "subject")):
        if forwarded.get(key):
            lines.append(f"{label}: {headers.decode_value(forwarded.get(key), hint)}")
    return "\n".join(lines) + "\n\n"


def _attachments(leaves: list[_Classified], referenced: set[str]) -> list[Attachment]:
    files: list[Attachment] = []
    unnamed = 0
    for leaf, role, filename in leaves:
        if role != "file":
            continue
        data = parts.payload_bytes(leaf.part)
        media_type = sniff(data, filename)
        if not filename:
            unnamed += 1
            filename = names.synthetic(unnamed, extension_for(media_type))
        content_id = headers.decode_value(leaf.part.get("content-id", "")).strip("<> ")
        files.append(
            Attachment(
                filename=filename,
                data=data,
                media_type=media_type,
                declared_type=parts.content_type(leaf.part),
                inline=parts.disposition(leaf.part) != "attachment",
                content_id=content_id if content_id.lower() in referenced else None,
            )
        )
    return files


def _outlook_unpacked(files: list[Attachment], limits: Limits) -> list[Attachment]:
    """Each Outlook winmail.dat replaced by the files in it; AppleDouble forks dropped unseen."""
    out: list[Attachment] = []
    for file in files:
        if archives.is_apple_double(file.data):
            continue
        inner = tnef.unpack_tnef(file, limits) if tnef.is_tnef(file) else None
        out.extend(inner if inner is not None else [file])
    return out


def _has_archive(files: list[Attachment]) -> bool:
    return any(file.media_type in archives.ARCHIVE_TYPES for file in files)


def _summary(defects: list[str]) -> tuple[str, ...]:
    """Each defect once, with a count when it repeats: 3,000 broken parts are one line for staff."""
    counted = Counter(defects)
    return tuple(f"{text} (×{count})" if count > 1 else text for text, count in counted.items())


def _unparsed(raw: bytes, received_at: datetime | None, source: str, exc: Exception) -> Message:
    """The last resort when taking the message apart failed: its identity and a defect."""
    received, received_source, _note = time_of_receipt(received_at, source, [], None)
    return Message(
        raw_sha256=hashlib.sha256(raw).hexdigest(), raw_size=len(raw), message_id=None, from_addr=None,
        from_name=None, to_addrs=(), subject="", date_header=None, received_at=received,
        received_at_source=received_source, content_type="application/octet-stream", headers=(),
        body_text="", body_html=None, attachments=(),
        defects=(f"the message could not be taken apart ({type(exc).__name__}); staff must read it",),
        is_mail=False,
    )
