"""MIME entities split at their boundaries with bytes.find: fast where email.feedparser goes line by line."""

# The standard parser reads a message one line at a time, some 40 ms per MB of base64; a
# 2 MB nomination must cost a few ms. Here only header blocks go through the email package
# (`parts.POLICY`, raw values kept); bodies are sliced out whole and stay bytes. Malformed
# input follows the standard parser's choices: a header block ends at the first line that
# is not a header, a multipart without its boundary is text, a missing close boundary ends
# the last part at the end of the data.

from __future__ import annotations

import binascii
import re
from email import errors
from email.message import Message as MimePart
from email.parser import HeaderParser

from ingest import charsets

# the header-line test of email.feedparser: a field name and a colon, a continuation, or mbox "From "
_HEADER_LINE = re.compile(rb"(From |[\x21-\x39\x3b-\x7e]+:|[ \t])")
_FORWARDED = {"message/rfc822", "message/global", "message/news"}


# A body is a span of one buffer, (buffer, start, end): slicing a 2 MB attachment out of
# its multipart, and out of its entity, would copy it twice for nothing.
Span = tuple[bytes, int, int]


def parse(data: bytes, policy, max_parts: int) -> MimePart:
    """The tree of `data`: multiparts hold lists of children, forwarded mails one message,
    leaves a memoryview of their still-encoded body.

    Splitting stops after `max_parts` entities; what is left unsplit stays a leaf.
    """
    root, body = _entity((data, 0, len(data)), policy)
    stack = [(root, body)]
    made = 1
    while stack:
        entity, body = stack.pop()
        children = _children(entity, body, policy, max_parts - made)
        if len(children) > max_parts - made and not any(isinstance(d, PartsLimitDefect) for d in root.defects):
            root.defects.append(PartsLimitDefect(f"more than {max_parts} MIME parts; the rest was not read"))
        children = children[: max(0, max_parts - made)]
        if not children:
            buffer, start, end = body
            entity.set_payload(memoryview(buffer)[start:end])
            continue
        made += len(children)
        entity.set_payload([child for child, _body in children])
        stack.extend(reversed(children))
    return root


class PartsLimitDefect(errors.MessageDefect):
    """More entities than `Limits.mime_max_parts`: the rest of the message was left unsplit."""


def _children(entity: MimePart, body: Span, policy, room: int) -> list[tuple[MimePart, Span]]:
    """The entity's children, at most `room` + 1 of them parsed (one more says "too many")."""
    ctype = entity.get_content_type()
    if room < 1:  # no room: a stand-in child is enough to tell the caller there was more
        return [(entity, body)] if ctype.startswith("multipart/") or ctype in _FORWARDED else []
    if ctype.startswith("multipart/"):
        return _multipart(entity, body, policy, room + 1)
    if ctype in _FORWARDED:
        return [_entity(_forwarded(entity, body), policy)]
    return []


def _multipart(entity: MimePart, body: Span, policy, most: int) -> list[tuple[MimePart, Span]]:
    boundary = entity.get_boundary()
    if not boundary:
        entity.defects.append(errors.NoBoundaryInMultipartDefect())
        return []
    pieces = _split(body, charsets.to_bytes(boundary), entity)
    if not pieces:
        entity.defects.append(errors.StartBoundaryNotFoundDefect())
        return []
    children = [_entity(piece, policy) for piece in pieces[:most]]
    if entity.get_content_type() == "multipart/digest":  # RFC 2046 §5.1.5
        for child, _body in children:
            child.set_default_type("message/rfc822")
    return children


def _split(body: Span, boundary: bytes, entity: MimePart) -> list[Span]:
    """The bodies between delimiter lines; a delimiter must match the whole boundary."""
    buffer, begin, stop = body
    delimiter = b"--" + boundary
    pieces: list[Span] = []
    start = None  # where the current piece begins
    position = begin
    while True:
        found = buffer.find(delimiter, position, stop)
        if found < 0:
            break
        position = found + len(delimiter)
        if found > begin and buffer[found - 1] not in b"\r\n":
            continue
        line_end = buffer.find(b"\n", position, stop)
        line_end = stop if line_end < 0 else line_end + 1
        rest = buffer[position:line_end]
        closing = rest.startswith(b"--")
        if rest[2 if closing else 0 :].strip(b" \t\r\n"):
            continue  # a longer boundary that begins with ours
        if start is not None:
            pieces.append((buffer, start, _before_line_break(buffer, start, found)))
        if closing:
            return pieces
        start = position = line_end
    if start is not None:
        entity.defects.append(errors.CloseBoundaryNotFoundDefect())
        pieces.append((buffer, start, stop))
    return pieces


def _before_line_break(buffer: bytes, start: int, end: int) -> int:
    # the line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1)
    if end - start >= 2 and buffer[end - 2 : end] == b"\r\n":
        return end - 2
    return end - 1 if end > start and buffer[end - 1] in b"\r\n" else end


def _entity(body: Span, policy) -> tuple[MimePart, Span]:
    """Headers parsed by the email package, and the span of the body."""
    buffer, start, stop = body
    header_end, body_start, separated = _header_split(buffer, start, stop)
    entity = HeaderParser(policy=policy).parsestr(buffer[start:header_end].decode("ascii", "surrogateescape"))
    if not separated:
        entity.defects.append(errors.MissingHeaderBodySeparatorDefect())
    return entity, (buffer, body_start, stop)


def _header_split(buffer: bytes, start: int, stop: int) -> tuple[int, int, bool]:
    """(end of the header block, start of the body, whether a blank line separated them)."""
    position = start
    while position < stop:
        newline = buffer.find(b"\n", position, stop)
        line_end = stop if newline < 0 else newline + 1
        line = buffer[position : min(line_end, position + 200)]
        if line.strip(b"\r\n") == b"":
            return position, line_end, True
        if not _HEADER_LINE.match(line):
            return position, position, False
        position = line_end
    return stop, stop, True


def _forwarded(entity: MimePart, body: Span) -> Span:
    # message/rfc822 may not be encoded, but some mailers base64 it anyway
    encoding = str(entity.get("content-transfer-encoding", "")).split(";")[0].strip().lower()
    buffer, start, stop = body
    try:
        if encoding == "base64":
            decoded = binascii.a2b_base64(memoryview(buffer)[start:stop])
            return decoded, 0, len(decoded)
        if encoding == "quoted-printable":
            decoded = binascii.a2b_qp(buffer[start:stop])
            return decoded, 0, len(decoded)
    except binascii.Error:
        pass
    return body
