"""One nominee gathered for its page: the form as read, the findings, the files with their pictures,
the mails of its thread (ours included) in order, and the history of what was done."""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import datetime
from email import policy

from sqlmodel import Session, select

from campaigns.schema import Profile
from core.times import aware
from service.runtime import Runtime
from staff.export import field_value
from staff.form_template import FORM_LABELS
from storage.db import session as new_session
from storage.models import AttachmentRow, AuditRow, FieldCorrectionRow, FindingRow, MessageRow, NomineeRow, ReplyRow
from storage.queries import awaiting_choice, findings_of, later_awaiting, message_findings_of
from storage.stored import Shelf
from web.previews import FilePreview, Previews


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str
    ocr: bool  # read by OCR from a scan: may be misread
    inferred: bool = False  # not written in its own cell but read from another (core/words.py INFERRED_NOTE)


@dataclass(frozen=True)
class ShownFile:
    record: AttachmentRow
    what: str  # "photo" | "pages" | "video" | "": how it is shown
    preview: FilePreview | None
    kept: bool  # its bytes are still in the stored mail


@dataclass(frozen=True)
class MailItem:
    """A mail of the thread: theirs (a message) or ours (a reply)."""

    at: datetime
    ours: bool
    number: str  # M8, or 回复 12
    sender: str
    to: str
    subject: str
    text: str
    state: str  # a message's verdict, a reply's state


@dataclass(frozen=True)
class Dossier:
    nominee: NomineeRow
    message: MessageRow
    fields: list[FormField]
    findings: list[FindingRow]
    message_findings: list[FindingRow]
    files: list[ShownFile]
    loose: list[ShownFile]
    thread: list[MailItem]
    history: list[AuditRow]
    corrections: list[FieldCorrectionRow]
    earlier: NomineeRow | None  # the accepted filing this later one competes with
    later: NomineeRow | None  # the later, worse filing competing with this accepted one
    replaced_by: NomineeRow | None


def what_shown(record: AttachmentRow) -> str:
    """Which pictures of the file the page shows: "pages" (p1, p2 …), "photo" (thumb, large), "video" (poster)."""
    if record.role in ("form", "form_scan"):
        return "pages"
    if record.role == "video" or record.media_type.startswith("video/"):
        return "video"
    if record.role == "photo" or (record.role == "other" and record.media_type.startswith("image/")):
        return "photo"
    return ""


def _form_fields(profile: Profile, row: NomineeRow, findings: list[FindingRow],
                 records: list[AttachmentRow]) -> list[FormField]:
    """The form's values in the form's order; a field is marked as OCR's where the form came only as
    a scan, or where a finding says OCR read it, and as inferred where it was not in its own cell."""
    scan_only = any(r.role == "form_scan" for r in records) and not any(r.role == "form" for r in records)
    by_ocr = {f.detail.get("field") for f in findings if f.detail.get("source") == "ocr"}
    values, inferred = row.fields or {}, row.field_sources or {}
    return [FormField(name, label, field_value(profile, row, name), scan_only or name in by_ocr, name in inferred)
            for name, label in FORM_LABELS.items() if values.get(name)]


def _reply_text(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=policy.default)
    body = message.get_body(("plain",))
    return body.get_content() if body is not None else ""


def thread_ids(session: Session, row: NomineeRow) -> set[int]:
    """The mails of this person: each filing's mail, the mails its files came in, what they complete
    and what completes them."""
    filings = session.exec(select(NomineeRow).where(NomineeRow.campaign_id == row.campaign_id,
                                                    NomineeRow.identity_key == row.identity_key)).all()
    ids = {n.message_id for n in filings} | {row.message_id}
    ids |= set(session.exec(select(AttachmentRow.message_id).where(
        AttachmentRow.nominee_id.in_([n.id for n in filings] or [row.id]))).all())
    for message in session.exec(select(MessageRow).where(MessageRow.id.in_(ids))).all():
        if message.completes:
            ids.add(message.completes)
    ids |= set(session.exec(select(MessageRow.id).where(MessageRow.completes.in_(ids))).all())
    return ids


def thread(session: Session, shelf: Shelf, row: NomineeRow) -> list[MailItem]:
    ids = thread_ids(session, row)
    items = []
    for message in session.exec(select(MessageRow).where(MessageRow.id.in_(ids))).all():
        index = shelf.index(message.id)
        text = index.message.body_text if index is not None else "（原始邮件已删除）"
        items.append(MailItem(aware(message.received_at), False, f"M{message.id}", message.from_addr or "", "",
                              message.subject, text, message.status or message.state))
    for reply in session.exec(select(ReplyRow).where(ReplyRow.message_id.in_(ids))).all():
        items.append(MailItem(aware(reply.sent_at or reply.created_at), True, f"回复 {reply.id}", "", reply.to_addr,
                              reply.subject, _reply_text(reply.raw), reply.state))
    return sorted(items, key=lambda item: (item.at, item.ours))


def _history(session: Session, row: NomineeRow) -> list[AuditRow]:
    entries = session.exec(select(AuditRow).where(
        ((AuditRow.entity == "nominee") & (AuditRow.entity_id == row.id))
        | ((AuditRow.entity == "message") & (AuditRow.entity_id == row.message_id)))).all()
    return sorted(entries, key=lambda a: (aware(a.at), a.id))


def _shown(records: list[tuple[AttachmentRow, bytes | None]], previews: Previews) -> list[ShownFile]:
    wanted = [(r.sha256, what_shown(r), data, r.path, (r.probe or {}).get("seconds"))
              for r, data in records if what_shown(r)]
    made = previews.prepare(wanted)
    return [ShownFile(r, what_shown(r), made.get(r.sha256 + what_shown(r)) if what_shown(r) else None, data is not None)
            for r, data in records]


def gather(runtime: Runtime, nominee_id: int, previews: Previews) -> Dossier | None:
    with new_session(runtime.engine) as session:
        row = session.get(NomineeRow, nominee_id)
        if row is None or row.campaign_id != runtime.profile.id:
            return None
        message = session.get(MessageRow, row.message_id)
        shelf = Shelf(session, runtime.blobs, runtime.profile.limits)
        own = [(s.record, s.data) for s in shelf.files_of(row.id)]
        index = shelf.index(message.id)
        loose_rows = session.exec(select(AttachmentRow).where(AttachmentRow.message_id == message.id,
                                                              AttachmentRow.nominee_id.is_(None))
                                  .order_by(AttachmentRow.id)).all()
        loose = [(r, (a.data if (a := index.find(r)) is not None else None) if index else None) for r in loose_rows]
        findings = findings_of(session, row.id)
        corrections = session.exec(select(FieldCorrectionRow).where(FieldCorrectionRow.nominee_id == row.id)
                                   .order_by(FieldCorrectionRow.id)).all()
        return Dossier(
            nominee=row, message=message, fields=_form_fields(runtime.profile, row, findings, [r for r, _ in own]),
            findings=findings, message_findings=message_findings_of(session, message.id),
            files=_shown(own, previews), loose=_shown(loose, previews), thread=thread(session, shelf, row),
            history=_history(session, row), corrections=list(corrections), earlier=awaiting_choice(session, row),
            later=later_awaiting(session, row) if row.status == "accepted" else None,
            replaced_by=session.get(NomineeRow, row.superseded_by) if row.superseded_by else None)
