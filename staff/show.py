"""One nominee laid out for staff: the record, the mail, the problems, the files written out to open."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from core.files import private_folder, safe_name, write_private
from ingest.types import Message
from service.runtime import Runtime
from staff.lookup import find_nominee
from storage.db import session as new_session
from storage.filing import audit
from storage.models import AttachmentRow, AuditRow, FieldCorrectionRow, FindingRow, MessageRow, NomineeRow, ReplyRow
from storage.queries import awaiting_choice, findings_of, message_findings_of
from storage.stored import AttachmentIndex, stored_message


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


def show(runtime: Runtime, key: str, actor: str = "staff") -> Shown:
    """The nominee, its findings and its files, the files written out under data/review/<id>/
    (audited: they hold personal data in full)."""
    with new_session(runtime.engine) as session:
        row = find_nominee(session, runtime.profile.id, key)
        message = session.get(MessageRow, row.message_id)
        attachments = session.exec(select(AttachmentRow).where(AttachmentRow.message_id == message.id)
                                   .order_by(AttachmentRow.id)).all()
        earlier = awaiting_choice(session, row)
        replies = session.exec(select(ReplyRow).where(ReplyRow.message_id == message.id)
                               .order_by(ReplyRow.id)).all()
        history = session.exec(select(AuditRow).where(AuditRow.entity == "nominee", AuditRow.entity_id == row.id)
                               .order_by(AuditRow.id)).all()
        corrections = session.exec(select(FieldCorrectionRow).where(FieldCorrectionRow.nominee_id == row.id)
                                   .order_by(FieldCorrectionRow.id)).all()
        findings = findings_of(session, row.id)
        message_findings = message_findings_of(session, message.id)
    own = [a for a in attachments if a.nominee_id == row.id]
    loose = [a for a in attachments if a.nominee_id is None]
    parsed = stored_message(runtime.blobs, message, runtime.profile.limits)
    folder = None
    if parsed is not None:
        folder = private_folder(runtime.config.data_path / "review" / str(row.id))
        private_folder(runtime.config.data_path / "review")
    own_files = _write_out(parsed, own, folder)
    loose_files = _write_out(parsed, loose, folder / "其他附件" if folder else None)
    if folder is not None:
        with new_session(runtime.engine) as session:
            audit(session, "nominee", row.id, "files_written_out", actor=actor, note=str(folder))
            session.commit()
    return Shown(row, message, tuple(findings), tuple(message_findings), own_files, loose_files, folder,
                 earlier, tuple(replies), tuple(history), tuple(corrections))


def _write_out(parsed: Message | None, rows: list[AttachmentRow], folder: Path | None) -> tuple[ReviewFile, ...]:
    if parsed is None or folder is None or not rows:
        return tuple(ReviewFile(r, None) for r in rows)
    private_folder(folder)
    index = AttachmentIndex(parsed)
    taken: set[str] = set()
    written = []
    for attachment_row in rows:
        attachment = index.find(attachment_row)
        if attachment is None:
            written.append(ReviewFile(attachment_row, None))
            continue
        target = folder / safe_name(attachment_row.filename, taken)
        write_private(target, attachment.data)
        written.append(ReviewFile(attachment_row, target))
    return tuple(written)
