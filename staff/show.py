"""One nominee laid out for staff: the record, the mail, the problems, the files written out to open."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from core.files import private_folder, safe_name, write_private
from ingest.types import Attachment
from service.runtime import Runtime
from staff.lookup import find_nominee
from storage.db import session as new_session
from storage.filing import audit
from storage.models import AttachmentRow, AuditRow, FieldCorrectionRow, FindingRow, MessageRow, NomineeRow, ReplyRow
from storage.queries import awaiting_choice, findings_of, message_findings_of
from storage.stored import Shelf


@dataclass(frozen=True)
class ReviewFile:
    row: AttachmentRow
    path: Path | None  # where it was written for staff to open; None when the raw mail is gone


@dataclass(frozen=True)
class Shown:
    """One nominee laid out for a person: the record, the mail, the problems, the files."""

    nominee: NomineeRow
    message: MessageRow
    findings: tuple[FindingRow, ...]
    message_findings: tuple[FindingRow, ...]
    files: tuple[ReviewFile, ...]
    loose_files: tuple[ReviewFile, ...]
    folder: Path | None
    earlier: NomineeRow | None  # the accepted filing this one may replace (staff choose)
    replies: tuple[ReplyRow, ...]
    history: tuple[AuditRow, ...]
    corrections: tuple[FieldCorrectionRow, ...]
    body: str = ""  # the mail's text: what the sender wrote beside the files


def show(runtime: Runtime, key: str, actor: str = "staff") -> Shown:
    """The nominee, its findings and its files (from every mail that went into it), the files written
    out under data/review/<id>/ (audited: they hold personal data in full)."""
    with new_session(runtime.engine) as session:
        row = find_nominee(session, runtime.profile.id, key)
        message = session.get(MessageRow, row.message_id)
        shelf = Shelf(session, runtime.blobs, runtime.profile.limits)
        own = shelf.attachments_of(row.id)
        loose_rows = session.exec(select(AttachmentRow).where(AttachmentRow.message_id == message.id,
                                                              AttachmentRow.nominee_id.is_(None))
                                  .order_by(AttachmentRow.id)).all()
        index = shelf.index(message.id)
        loose = [(r, index.find(r) if index else None) for r in loose_rows]
        body = index.message.body_text if index else ""
        earlier = awaiting_choice(session, row)
        replies = session.exec(select(ReplyRow).where(ReplyRow.message_id == message.id)
                               .order_by(ReplyRow.id)).all()
        history = session.exec(select(AuditRow).where(AuditRow.entity == "nominee", AuditRow.entity_id == row.id)
                               .order_by(AuditRow.id)).all()
        corrections = session.exec(select(FieldCorrectionRow).where(FieldCorrectionRow.nominee_id == row.id)
                                   .order_by(FieldCorrectionRow.id)).all()
        findings = findings_of(session, row.id)
        message_findings = message_findings_of(session, message.id)
    folder = None
    if any(attachment is not None for _, attachment in own + loose):
        folder = private_folder(runtime.config.data_path / "review" / str(row.id))
        private_folder(runtime.config.data_path / "review")
        with new_session(runtime.engine) as session:
            audit(session, "nominee", row.id, "files_written_out", actor=actor, note=str(folder))
            session.commit()
    own_files = _write_out(own, folder)
    loose_files = _write_out(loose, folder / "其他附件" if folder else None)
    return Shown(row, message, tuple(findings), tuple(message_findings), own_files, loose_files, folder,
                 earlier, tuple(replies), tuple(history), tuple(corrections), body)


def _write_out(found: list[tuple[AttachmentRow, Attachment | None]], folder: Path | None) -> tuple[ReviewFile, ...]:
    if folder is None or not found:
        return tuple(ReviewFile(record, None) for record, _ in found)
    private_folder(folder)
    taken: set[str] = set()
    written = []
    for record, attachment in found:
        if attachment is None:
            written.append(ReviewFile(record, None))
            continue
        target = folder / safe_name(record.filename, taken)
        write_private(target, attachment.data)
        written.append(ReviewFile(record, target))
    return tuple(written)
