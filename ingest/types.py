"""The values that ingest hands on: a message taken apart into headers, body and files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from core import filekinds


@dataclass(frozen=True)
class Attachment:
    """One file the sender gave us, wherever it sat: a MIME part or an archive member.

    `filename` is the decoded, NFC-normalised base name. `folder` holds the folders above it
    inside archives (outermost first, archive names excluded), because senders group a
    nominee's files by folder. `archive` names the archive chain it came out of, if any.
    """

    filename: str
    data: bytes = field(repr=False)
    media_type: str  # sniffed from the bytes; the sender's label is only a hint
    declared_type: str = "application/octet-stream"
    folder: tuple[str, ...] = ()
    archive: tuple[str, ...] = ()
    inline: bool = False  # Content-Disposition inline, or no disposition at all
    content_id: str | None = None  # referenced from the HTML body (signature logos, pasted pictures)
    # the ledger number of an earlier mail this file arrived in, when a follow-up completes that
    # mail's nominee and the file is kept from it (service/followup.py); None: this mail
    kept_from: int | None = None

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def category(self) -> filekinds.Category:
        """What the file is to a nomination: document, image, video, spreadsheet, archive, other."""
        return filekinds.category(self.media_type, self.filename)

    @property
    def path(self) -> str:
        """Where the sender put it, for people: `材料.zip/张三/推荐表.docx`."""
        return "/".join((*self.archive, *self.folder, self.filename))


@dataclass(frozen=True)
class UnsafeContent:
    """Something in an attachment we refused to unpack: traversal, a bomb, nesting too deep."""

    filename: str  # the archive (or image) that carried it, as a path
    reason: str  # one of UNSAFE_REASONS
    entry: str = ""  # the offending entry's name, as written in the archive
    figure: float | None = None  # the measured value that broke the limit


UNSAFE_REASONS = (
    "path_traversal",
    "absolute_path",
    "too_many_entries",
    "total_too_large",
    "compression_ratio",
    "nesting_too_deep",
    "image_too_large",
    "message_too_large",
    "media_pixels_budget",  # the message's photos together past limits.message_media_pixels: the rest unread
    "media_seconds_budget",  # its photos and videos past limits.message_media_seconds
)


@dataclass(frozen=True)
class UnreadableArchive:
    """An archive we could not open (corrupt, encrypted): kept as material, named in findings."""

    filename: str
    reason: str  # "corrupt", "encrypted", "unsupported", "timeout", "memory"


@dataclass(frozen=True)
class Message:
    """One e-mail as the rest of the pipeline sees it. Built by `ingest.mime.parse_message`."""

    raw_sha256: str
    raw_size: int
    message_id: str | None
    from_addr: str | None  # bare address, lower-cased
    from_name: str | None
    to_addrs: tuple[str, ...]
    subject: str
    date_header: datetime | None
    received_at: datetime  # timezone-aware; see CONTRACT §1 for where it comes from
    received_at_source: str  # "imap", "option", "received_header", "date_header", "file_mtime", "now"
    content_type: str  # the top-level type, e.g. multipart/report for a bounce
    headers: tuple[tuple[str, str], ...]  # decoded, in order; names as written
    body_text: str  # plain text, or the HTML turned to text
    body_html: str | None
    attachments: tuple[Attachment, ...]
    unsafe: tuple[UnsafeContent, ...] = ()
    unreadable_archives: tuple[UnreadableArchive, ...] = ()
    defects: tuple[str, ...] = ()  # what was broken and repaired, for staff
    is_mail: bool = True  # False when the bytes are not an e-mail at all

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]
