"""Answering the sender after a staff act: the message's standing refreshed, and the reply it now calls for.

The reply is built from the records (not by judging the mail again), so it says exactly what
staff decided; a reply of that message still waiting in the outbox (held, or pending) is
superseded by it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from sqlmodel import Session, select

from ingest.types import Message
from nominees.masking import mask_numbers_in
from nominees.types import NominationFile, Nominee, Submission
from replies.queue import enqueue, never_answered
from replies.staff import StaffNote, compose_staff_reply
from service.runtime import Runtime
from staff.lookup import Cancelled
from storage.filing import audit
from storage.models import AttachmentRow, FieldCorrectionRow, FindingRow, MessageRow, NomineeRow, ReplyRow
from storage.queries import findings_of, latest_of_message, message_findings_of, standing
from storage.stored import AttachmentIndex, Shelf, stored_message
from validators.evaluate import NomineeVerdict, Verdict
from validators.findings import Finding
from validators.status import message_status

# replies not yet gone out: a staff decision on their message replaces them
UNSENT = ("held", "pending")


def _settled_message_findings(findings: list[FindingRow], statuses: list[str]) -> list[FindingRow]:
    """A message's reject and review findings stop counting once staff have every nominee accepted."""
    if statuses and all(status == "accepted" for status in statuses):
        return [f for f in findings if f.severity not in ("reject", "review")]
    return findings


def refresh_message_status(session: Session, message: MessageRow, actor: str, note: str) -> None:
    rows = latest_of_message(session, message.id)
    statuses = [standing(session, r)[0] for r in rows]
    kept = _settled_message_findings(message_findings_of(session, message.id), statuses)
    status = message_status([f.severity for f in kept], statuses) if rows else message.status
    if status != message.status:
        audit(session, "message", message.id, "reviewed", message.status, status, actor=actor, note=note)
        message.status = status
        session.add(message)


def _finding(row: FindingRow, position: int | None) -> Finding:
    return Finding(code=row.code, severity=row.severity, message=row.text, nominee=position, detail=dict(row.detail))


def _shown_findings(row: NomineeRow, findings: list[FindingRow]) -> list[FindingRow]:
    """What a decided nominee's reply still lists: staff accepted over the problems, or rejected
    knowing what there was to check."""
    if row.decision is not None:
        # the staff note says how the resubmission was settled; the filing-time wording is stale
        findings = [f for f in findings if f.code != "RESUBMISSION"]
    if row.decision == "accepted" or row.decision == "kept_earlier":
        return [f for f in findings if f.severity == "info"]
    if row.decision == "rejected":
        return [f for f in findings if f.severity != "review"]
    return findings


def _note(session: Session, row: NomineeRow, label: str, number: str | None) -> StaffNote | None:
    corrected = session.exec(select(FieldCorrectionRow.field_name).where(
        FieldCorrectionRow.nominee_id == row.id).order_by(FieldCorrectionRow.id)).all()
    fields = tuple(dict.fromkeys(corrected))
    if row.decision is None and not fields:
        return None
    return StaffNote(label=label, decision=row.decision, reason=mask_numbers_in(row.decision_reason or ""),
                     intake_number=number, corrected_fields=fields)


def records_verdict(session: Session, runtime: Runtime, message_row: MessageRow,
                    parsed: Message) -> tuple[Verdict, list[str | None], list[StaffNote]]:
    """The message's verdict as the records now stand, for its reply: statuses, numbers and
    findings as filed and decided, each nominee's files found again in the mails they came in."""
    shelf = Shelf(session, runtime.blobs, runtime.profile.limits)
    loose = session.exec(select(AttachmentRow).where(AttachmentRow.message_id == message_row.id,
                                                     AttachmentRow.nominee_id.is_(None))
                         .order_by(AttachmentRow.id)).all()
    index = AttachmentIndex(parsed)

    def files_of(nominee_id: int | None) -> tuple[NominationFile, ...]:
        if nominee_id is None:
            found = [(record, index.find(record)) for record in loose]
        else:
            # this mail's own files are the parsed mail's objects, so the reply lists each once
            found = [(record, index.find(record) if record.message_id == message_row.id
                      else replace(attachment, kept_from=record.message_id))
                     for record, attachment in shelf.attachments_of(nominee_id) if attachment is not None]
        return tuple(NominationFile(attachment, record.role) for record, attachment in found if attachment is not None)

    verdicts, numbers, notes = [], [], []
    for row in latest_of_message(session, message_row.id):
        status, number = standing(session, row)
        fields = dict(row.fields or {})
        nominee = Nominee(index=row.position, fields=fields, raw_fields=fields, field_sources={},
                          files=files_of(row.id), writeup_chars=row.writeup_chars)
        findings = tuple(_finding(f, row.position) for f in _shown_findings(row, findings_of(session, row.id)))
        verdicts.append(NomineeVerdict(nominee, status, findings, row.seal))
        numbers.append(number)
        label = mask_numbers_in(row.name) if row.name else f"第{len(verdicts)}位被推荐人"
        if (note := _note(session, row, label, number)) is not None:
            notes.append(note)
    statuses = [v.status for v in verdicts]
    message_findings = tuple(_finding(f, None) for f in _settled_message_findings(
        message_findings_of(session, message_row.id), statuses))
    submission = Submission(parsed, tuple(v.nominee for v in verdicts), shared=files_of(None), has_material=True)
    status = message_status([f.severity for f in message_findings], statuses)
    return Verdict(submission, status, message_findings, tuple(verdicts)), numbers, notes


def _supersede_unsent(session: Session, message_id: int, actor: str) -> tuple[int, ...]:
    waiting = session.exec(select(ReplyRow).where(ReplyRow.message_id == message_id,
                                                  ReplyRow.state.in_(UNSENT))).all()
    for reply in waiting:
        before = reply.state
        reply.state = "superseded"
        session.add(reply)
        audit(session, "reply", reply.id, "superseded", before, "superseded", actor=actor,
              note="replaced by the reply to a staff decision")
    return tuple(r.id for r in waiting)


def answer(session: Session, runtime: Runtime, message_row: MessageRow, actor: str,
           now: datetime) -> tuple[ReplyRow | None, tuple[int, ...]]:
    """Queue the reply the message's new standing calls for; replies not yet sent are superseded."""
    superseded = _supersede_unsent(session, message_row.id, actor)
    parsed = stored_message(runtime.blobs, message_row, runtime.profile.limits)
    if parsed is None:
        audit(session, "message", message_row.id, "no_reply", actor=actor, note="raw mail purged")
        return None, superseded
    settings = runtime.config.replies
    if message_row.status == "ignored" or (reason := never_answered(parsed, runtime.profile, settings)):
        audit(session, "message", message_row.id, "no_reply", actor=actor,
              note="ignored" if message_row.status == "ignored" else reason)
        return None, superseded
    verdict, numbers, notes = records_verdict(session, runtime, message_row, parsed)
    email = compose_staff_reply(verdict, runtime.profile, intake_numbers=numbers, from_addr=settings.from_addr,
                                now=now, notes=notes)
    reply = enqueue(session, message_row.id, parsed, email, runtime.profile, settings, now, actor=actor,
                    note="staff decision")
    return reply, superseded


@dataclass(frozen=True)
class Answering:
    """How a staff act answers the sender: `send` False records it silently; `confirm` is shown the
    reply before anything is kept, and saying no leaves everything as it was."""

    send: bool = True
    confirm: Callable[[ReplyRow], bool] | None = None


ANSWER = Answering()  # the usual way: answer, without asking


def answer_and_commit(session: Session, runtime: Runtime, message_row: MessageRow, actor: str, now: datetime,
                      answering: Answering) -> tuple[ReplyRow | None, tuple[int, ...]]:
    """End a staff act: the reply it calls for (unless recorded silently), shown for confirmation, committed."""
    if not answering.send:
        audit(session, "message", message_row.id, "no_reply", actor=actor, note="recorded by staff without a reply")
        session.commit()
        return None, ()
    reply, superseded = answer(session, runtime, message_row, actor, now)
    if reply is not None and answering.confirm is not None and not answering.confirm(reply):
        session.rollback()
        raise Cancelled("回复未发送，未做任何更改")
    session.commit()
    return reply, superseded
