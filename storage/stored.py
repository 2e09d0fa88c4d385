"""The mail as it was received, found again: its raw bytes, the message taken apart, each file by its record.

Every staff tool, the reply to a staff decision, reprocessing and forwarding read stored mail
through here, so that "the raw mail is gone after `intake purge`" is answered one way (None).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, select

from campaigns.limits import Limits
from ingest.mime import body_text_of, parse_message
from ingest.types import Attachment, Message
from storage.blobs import BlobStore
from storage.models import AttachmentRow, MessageRow, NomineeRow

# where a ledger row's time of receipt is the server's (or was given by staff), judging uses it as it is
AUTHORITATIVE_TIMES = ("imap", "option")


def raw_mail(blobs: BlobStore, row: MessageRow) -> bytes | None:
    """The bytes as received; None after `intake purge` removed them."""
    try:
        return blobs.get(row.raw_sha256)
    except FileNotFoundError:
        return None


def received_at_of(row: MessageRow) -> datetime | None:
    """The time of receipt to judge the stored mail by; None: read it from the mail's headers again."""
    return row.received_at if row.received_at_source in AUTHORITATIVE_TIMES else None


def stored_message(blobs: BlobStore, row: MessageRow, limits: Limits) -> Message | None:
    """The raw mail taken apart again (no judging); None after `intake purge` removed it."""
    raw = raw_mail(blobs, row)
    if raw is None:
        return None
    return parse_message(raw, limits=limits, received_at=row.received_at, received_at_source=row.received_at_source)


def stored_body(blobs: BlobStore, row: MessageRow, limits: Limits) -> str | None:
    """What the sender wrote, read from the stored mail without its files; None after `intake purge`."""
    raw = raw_mail(blobs, row)
    return None if raw is None else body_text_of(raw, limits)


class AttachmentIndex:
    """The files inside one stored raw mail, found again by sha256 (and path where two match)."""

    def __init__(self, message: Message):
        self.message = message
        self.by_sha: dict[str, list[Attachment]] = {}
        for attachment in message.attachments:
            self.by_sha.setdefault(attachment.sha256, []).append(attachment)

    def find(self, row: AttachmentRow) -> Attachment | None:
        candidates = self.by_sha.get(row.sha256, [])
        return next((a for a in candidates if a.path == row.path), candidates[0] if candidates else None)


@dataclass(frozen=True)
class StoredFile:
    """One file of a nominee as filed, with its bytes found again in the stored mail."""

    record: AttachmentRow
    data: bytes | None  # None: the raw mail was purged, or the file is no longer in it


class Shelf:
    """Stored mails taken apart once each, for tools that go through many nominees (export, forward)."""

    def __init__(self, session: Session, blobs: BlobStore, limits: Limits):
        self.session, self.blobs, self.limits = session, blobs, limits
        self._indexes: dict[int, AttachmentIndex | None] = {}

    def index(self, message_id: int) -> AttachmentIndex | None:
        if message_id not in self._indexes:
            parsed = stored_message(self.blobs, self.session.get(MessageRow, message_id), self.limits)
            self._indexes[message_id] = AttachmentIndex(parsed) if parsed is not None else None
        return self._indexes[message_id]

    def mail_kept(self, message_id: int) -> bool:
        return self.index(message_id) is not None

    def attachments_of(self, nominee_id: int) -> list[tuple[AttachmentRow, Attachment | None]]:
        """Every file that went into the nominee, from whichever mail it came in (a follow-up keeps
        the earlier mail's files), with the attachment found again; None where it is gone."""
        records = self.session.exec(select(AttachmentRow).where(AttachmentRow.nominee_id == nominee_id)
                                    .order_by(AttachmentRow.id)).all()
        found = []
        for record in records:
            index = self.index(record.message_id)
            found.append((record, index.find(record) if index is not None else None))
        return found

    def files_of(self, nominee_id: int) -> list[StoredFile]:
        """The nominee's files as filed, in filing order, each with its bytes where they are still kept."""
        return [StoredFile(record, attachment.data if attachment is not None else None)
                for record, attachment in self.attachments_of(nominee_id)]

    def as_judged(self, row: MessageRow) -> Message | None:
        """The mail as it was judged: its own files and those a follow-up kept from earlier mail
        (each marked with the mail it came in); None after `intake purge` removed it."""
        index = self.index(row.id)
        if index is None:
            return None
        kept = self.session.exec(select(AttachmentRow).join(NomineeRow, NomineeRow.id == AttachmentRow.nominee_id)
                                 .where(NomineeRow.message_id == row.id, AttachmentRow.message_id != row.id)
                                 .order_by(AttachmentRow.id)).all()
        earlier = []
        for record in kept:
            source = self.index(record.message_id)
            if (attachment := source.find(record) if source is not None else None) is not None:
                earlier.append(replace(attachment, kept_from=record.message_id))
        return replace(index.message, attachments=tuple(earlier) + index.message.attachments)
