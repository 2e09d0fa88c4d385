"""Staff settle what the machine was unsure of: accept, reject, correct a field, choose between
filings of the same person, mark a paper copy; every act is audited, and each decision is
answered by the reply its new status calls for.

A decision never edits what was received: the findings stay as filed, and the nominee's
`decision`, `decided_by`, `decided_at` and `decision_reason` say what staff made of them.
The reply is built from the records (not by judging the mail again), so it says exactly what
staff decided; a reply of that message still waiting in the outbox (held, or pending) is
superseded by it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, select

from campaigns.schema import FIELD_NAMES, Profile
from ingest.mime import parse_message
from ingest.types import Attachment, Message
from intake.judge import judge
from intake.replying import hold_reason
from intake.runtime import Runtime
from intake.times import shown
from nominees.masking import mask_id_number, mask_numbers_in, mask_phone
from nominees.normalise import (channel_id, clean_gender, clean_id_number, clean_name, clean_text,
                                clean_yes_no, phone_candidates)
from nominees.types import NominationFile, Nominee, Submission
from parsers.wordcount import count_chars
from replies.compose import TEMPLATES as REPLY_TEMPLATES
from replies.compose import compose_reply, reply_view
from replies.policy import reply_recipient, should_never_reply
from storage.blobs import BlobStore
from storage.db import session as new_session
from storage.filing import NUMBERED, audit, ensure_campaign
from storage.models import AttachmentRow, AuditRow, FieldCorrectionRow, FindingRow, MessageRow, NomineeRow, ReplyRow
from validators.evaluate import NomineeVerdict, Verdict, evaluate
from validators.findings import Finding
from validators.memory import EarlierNominee, identity_key, with_history
from validators.status import message_status, nominee_status

# replies not yet gone out: a staff decision on their message replaces them
UNSENT = ("held", "pending")
KEEP = ("earlier", "later")


class ReviewError(Exception):
    """A staff command that cannot be done as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Outcome:
    """What one staff act changed, for the command's output."""

    nominee: NomineeRow
    before: str
    message: MessageRow
    reply: ReplyRow | None
    superseded_replies: tuple[int, ...] = ()
    findings: tuple[FindingRow, ...] = ()
    rules_status: str | None = None  # correct: what the rules say now (a staff decision may stand over it)
    other: NomineeRow | None = None  # choose: the other filing of the same person


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


# --- finding records ------------------------------------------------------------------------


def find_nominee(session: Session, campaign_id: str, key: str) -> NomineeRow:
    """A nominee by record number (12) or intake number (DCGJ-2018-0003)."""
    key = key.strip()
    row = None
    if key.isdigit():
        row = session.get(NomineeRow, int(key))
    else:
        row = session.exec(select(NomineeRow).where(NomineeRow.intake_number == key)).first()
    if row is None or row.campaign_id != campaign_id:
        raise ReviewError(f"评选活动 {campaign_id} 中没有被推荐人 {key}（可用记录号或受理编号）")
    return row


def _current(session: Session, campaign_id: str, key: str) -> NomineeRow:
    row = find_nominee(session, campaign_id, key)
    if row.superseded_by is not None:
        newer = session.get(NomineeRow, row.superseded_by)
        raise ReviewError(f"被推荐人 #{row.id} 的材料已被 #{newer.id}（{newer.intake_number or '无编号'}）替代，"
                          f"请对 #{newer.id} 操作")
    return row


def _findings(session: Session, nominee_id: int) -> list[FindingRow]:
    return list(session.exec(select(FindingRow).where(FindingRow.nominee_id == nominee_id)
                             .order_by(FindingRow.id)).all())


def _message_findings(session: Session, message_id: int) -> list[FindingRow]:
    return list(session.exec(select(FindingRow).where(FindingRow.message_id == message_id,
                                                      FindingRow.nominee_id.is_(None))
                             .order_by(FindingRow.id)).all())


def awaiting_choice(session: Session, row: NomineeRow) -> NomineeRow | None:
    """The accepted earlier filing that this later, worse one was kept beside (staff choose)."""
    if row.superseded_by is not None:
        return None
    for found in _findings(session, row.id):
        if found.code == "RESUBMISSION" and found.severity == "review":
            earlier = session.get(NomineeRow, int(found.detail.get("earlier", 0) or 0))
            if earlier is not None and earlier.superseded_by is None and earlier.id != row.id:
                return earlier
    return None


def _later_awaiting(session: Session, earlier: NomineeRow) -> NomineeRow | None:
    for found in session.exec(select(FindingRow).where(FindingRow.code == "RESUBMISSION",
                                                       FindingRow.severity == "review")).all():
        if int(found.detail.get("earlier", 0) or 0) == earlier.id and found.nominee_id is not None:
            later = session.get(NomineeRow, found.nominee_id)
            if later is not None and later.superseded_by is None:
                return later
    return None


# --- the queue and one nominee --------------------------------------------------------------


Waiting = tuple[NomineeRow, list[str], NomineeRow | None]  # the nominee, its codes, the filing it competes with


def queue(runtime: Runtime) -> tuple[list[Waiting], list[tuple[ReplyRow, MessageRow]]]:
    """needs_review nominees (with their finding codes and any filing they compete with) and held replies."""
    campaign = runtime.profile.id
    with new_session(runtime.engine) as session:
        rows = session.exec(select(NomineeRow).where(
            NomineeRow.campaign_id == campaign, NomineeRow.status == "needs_review",
            NomineeRow.superseded_by.is_(None)).order_by(NomineeRow.id)).all()
        nominees = []
        for row in rows:
            codes = [f.code for f in _findings(session, row.id) + _message_findings(session, row.message_id)
                     if f.severity in ("review", "reject")]
            nominees.append((row, codes, awaiting_choice(session, row)))
        held = session.exec(select(ReplyRow, MessageRow).join(MessageRow, MessageRow.id == ReplyRow.message_id)
                            .where(MessageRow.campaign_id == campaign, ReplyRow.state == "held")
                            .order_by(ReplyRow.id)).all()
    return nominees, [(reply, message) for reply, message in held]


def _safe_name(name: str, taken: set[str]) -> str:
    """A file name that stays inside its folder and does not overwrite a sibling."""
    clean = re.sub(r"[\\/\x00-\x1f]", "_", name).lstrip(".") or "file"
    candidate, number = clean, 2
    while candidate in taken:
        stem, dot, suffix = clean.rpartition(".")
        candidate = f"{stem}-{number}.{suffix}" if dot and stem else f"{clean}-{number}"
        number += 1
    taken.add(candidate)
    return candidate


def private_folder(path: Path) -> Path:
    """A folder only the service's user may enter (CONTRACT §5), its parents created the same way."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


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


def stored_message(runtime: Runtime, row: MessageRow) -> Message | None:
    """The raw mail taken apart again (no judging); None after `intake purge` removed it."""
    try:
        raw = BlobStore(runtime.config.data_path / "blobs").get(row.raw_sha256)
    except FileNotFoundError:
        return None
    return parse_message(raw, limits=runtime.profile.limits, received_at=row.received_at,
                         received_at_source=row.received_at_source)


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
        findings = _findings(session, row.id)
        message_findings = _message_findings(session, message.id)
    own = [a for a in attachments if a.nominee_id == row.id]
    loose = [a for a in attachments if a.nominee_id is None]
    parsed = stored_message(runtime, message)
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
        target = folder / _safe_name(attachment_row.filename, taken)
        write_private(target, attachment.data)
        written.append(ReviewFile(attachment_row, target))
    return tuple(written)


# --- numbers, standing, message status ------------------------------------------------------


def next_intake_number(session: Session, profile: Profile) -> str:
    campaign = ensure_campaign(session, profile)
    campaign.last_intake_sequence += 1
    session.add(campaign)
    return profile.intake_number(campaign.last_intake_sequence)


def standing(session: Session, row: NomineeRow) -> tuple[str, str | None]:
    """(status, intake number) the person has by this filing: a filing that staff set aside for an
    earlier accepted one (`kept_earlier`) stands as that one does."""
    if row.decision == "kept_earlier" and row.superseded_by is not None:
        kept = session.get(NomineeRow, row.superseded_by)
        return kept.status, kept.intake_number
    return row.status, row.intake_number


def _message_nominees(session: Session, message_id: int) -> list[NomineeRow]:
    return list(session.exec(select(NomineeRow).where(NomineeRow.message_id == message_id)
                             .order_by(NomineeRow.position, NomineeRow.id)).all())


def _reply_rows(session: Session, message_id: int) -> list[NomineeRow]:
    """The nominees a reply to this message speaks of: its latest filing of each position."""
    latest: dict[int, NomineeRow] = {}
    for row in _message_nominees(session, message_id):
        latest[row.position] = row  # reprocessing files a message again: the newest row wins
    return [latest[position] for position in sorted(latest)]


def _settled_message_findings(findings: list[FindingRow], statuses: list[str]) -> list[FindingRow]:
    """A message's reject and review findings stop counting once staff have every nominee accepted."""
    if statuses and all(status == "accepted" for status in statuses):
        return [f for f in findings if f.severity not in ("reject", "review")]
    return findings


def _refresh_message_status(session: Session, message: MessageRow, actor: str, note: str) -> None:
    rows = _reply_rows(session, message.id)
    statuses = [standing(session, r)[0] for r in rows]
    kept = _settled_message_findings(_message_findings(session, message.id), statuses)
    status = message_status([f.severity for f in kept], statuses) if rows else message.status
    if status != message.status:
        audit(session, "message", message.id, "reviewed", message.status, status, actor=actor, note=note)
        message.status = status
        session.add(message)


# --- the reply --------------------------------------------------------------------------------

STAFF_TEMPLATES = Path(__file__).parent / "templates" / "replies"


@dataclass(frozen=True)
class StaffNote:
    """What staff decided about one nominee, for the reply (the wording is in the templates)."""

    label: str
    decision: str | None  # accepted, rejected, kept_earlier, kept_later; None: only corrected
    reason: str  # masked
    intake_number: str | None
    corrected_fields: tuple[str, ...] = ()  # field names staff corrected


@lru_cache(maxsize=None)
def _staff_environment(template_set: str) -> Environment:
    """The reply set's own templates, with the staff-decision bodies of intake/templates/replies/
    laid over them (the set's own folder if it has one, else zh's)."""
    own = STAFF_TEMPLATES / template_set
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(own if own.is_dir() else STAFF_TEMPLATES / "zh"),
                             FileSystemLoader(REPLY_TEMPLATES / template_set)]),
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def compose_staff_reply(verdict: Verdict, profile: Profile, *, intake_numbers: list[str | None], from_addr: str,
                        now: datetime, notes: list[StaffNote]) -> EmailMessage:
    """The reply to a staff decision: the headers of `compose_reply`, a body that says staff decided."""
    from replies.wording import field_label

    email = compose_reply(verdict, profile, intake_numbers=intake_numbers, from_addr=from_addr, now=now)
    view = reply_view(verdict, profile, intake_numbers, now)
    env = _staff_environment(profile.replies.template_set)
    env.filters["field_label"] = field_label
    subject = " ".join(env.get_template("subject.j2").render(reply=view).split())
    body = env.get_template(f"staff_{view.status}.j2").render(reply=view, staff=notes)
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    email.replace_header("Subject", subject)
    email.set_content(body, charset="utf-8", cte="base64")
    return email


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
    findings as filed and decided, files found again in the raw mail by sha256."""
    index = AttachmentIndex(parsed)
    attachments = session.exec(select(AttachmentRow).where(AttachmentRow.message_id == message_row.id)
                               .order_by(AttachmentRow.id)).all()

    def files_of(nominee_id: int | None) -> tuple[NominationFile, ...]:
        found = []
        for attachment_row in attachments:
            if attachment_row.nominee_id == nominee_id and (attachment := index.find(attachment_row)) is not None:
                found.append(NominationFile(attachment, attachment_row.role))
        return tuple(found)

    verdicts, numbers, notes = [], [], []
    for row in _reply_rows(session, message_row.id):
        status, number = standing(session, row)
        fields = dict(row.fields or {})
        nominee = Nominee(index=row.position, fields=fields, raw_fields=fields, field_sources={},
                          files=files_of(row.id), writeup_chars=row.writeup_chars)
        findings = tuple(_finding(f, row.position) for f in _shown_findings(row, _findings(session, row.id)))
        verdicts.append(NomineeVerdict(nominee, status, findings, row.seal))
        numbers.append(number)
        label = mask_numbers_in(row.name) if row.name else f"第{len(verdicts)}位被推荐人"
        if (note := _note(session, row, label, number)) is not None:
            notes.append(note)
    statuses = [v.status for v in verdicts]
    message_findings = tuple(_finding(f, None) for f in _settled_message_findings(
        _message_findings(session, message_row.id), statuses))
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
    parsed = stored_message(runtime, message_row)
    if parsed is None:
        audit(session, "message", message_row.id, "no_reply", actor=actor, note="raw mail purged")
        return None, superseded
    own = {runtime.config.replies.from_addr.lower(), runtime.profile.mailbox.lower()}
    if message_row.status == "ignored" or (reason := should_never_reply(parsed, own)):
        audit(session, "message", message_row.id, "no_reply", actor=actor,
              note="ignored" if message_row.status == "ignored" else reason)
        return None, superseded
    verdict, numbers, notes = records_verdict(session, runtime, message_row, parsed)
    email = compose_staff_reply(verdict, runtime.profile, intake_numbers=numbers,
                                from_addr=runtime.config.replies.from_addr, now=now, notes=notes)
    recipient = reply_recipient(parsed)
    held = hold_reason(session, verdict, recipient, runtime.profile, runtime.config.replies, now)
    reply = ReplyRow(message_id=message_row.id, to_addr=recipient, subject=str(email["Subject"]),
                     reply_message_id=str(email["Message-ID"]), raw=email.as_bytes(),
                     state="held" if held else "pending", held_reason=held, created_at=now)
    session.add(reply)
    session.flush()
    audit(session, "reply", reply.id, "queued", None, reply.state, actor=actor, note=held or "staff decision")
    return reply, superseded


# --- decisions ------------------------------------------------------------------------------


def _decide(row: NomineeRow, decision: str, actor: str, reason: str | None, now: datetime) -> None:
    row.decision, row.decided_by, row.decided_at, row.decision_reason = decision, actor, now, reason or None


def decide(runtime: Runtime, key: str, decision: str, actor: str, reason: str | None, now: datetime) -> Outcome:
    """accept (also over a rejection: late by minutes, an extension granted) or reject, and answer."""
    if decision not in ("accepted", "rejected"):
        raise ValueError(decision)
    if decision == "rejected" and not (reason or "").strip():
        raise ReviewError("退回须写明原因（--reason），原因会写进给报送单位的回复")
    with new_session(runtime.engine) as session:
        row = _current(session, runtime.profile.id, key)
        if (earlier := awaiting_choice(session, row)) is not None:
            raise ReviewError(f"#{row.id} 是对已受理的 #{earlier.id}（{earlier.intake_number}）的重新报送，"
                              f"请先选择保留哪一份：intake review choose {row.id} --keep earlier|later")
        if row.status == decision:
            word = "受理" if decision == "accepted" else "退回"
            raise ReviewError(f"#{row.id} 已是“{word}”状态，无需重复")
        before = row.status
        row.status = decision
        if decision == "accepted" and not row.intake_number:
            row.intake_number = next_intake_number(session, runtime.profile)
        _decide(row, decision, actor, reason, now)
        session.add(row)
        audit(session, "nominee", row.id, "accepted_by_staff" if decision == "accepted" else "rejected_by_staff",
              before, decision, actor=actor, note=reason or "")
        message = session.get(MessageRow, row.message_id)
        _refresh_message_status(session, message, actor, f"nominee {row.id} {decision} by staff")
        reply, superseded = answer(session, runtime, message, actor, now)
        session.commit()
        return Outcome(row, before, message, reply, superseded, tuple(_findings(session, row.id)))


def _supersede(session: Session, older: NomineeRow, newer: NomineeRow, actor: str, note: str,
               keep_number: bool | None = None) -> None:
    """The newer filing of the same person becomes the current one and keeps the office's number
    (as filing does for a numbered status; always when staff chose the newer filing)."""
    older.superseded_by = newer.id
    number = older.intake_number
    if keep_number is None:
        keep_number = newer.status in NUMBERED
    if keep_number and number:
        older.intake_number = None
        session.add(older)
        session.flush()
        retired = newer.intake_number
        newer.intake_number = number
        note += f"; intake number {number} kept" + (f", {retired} retired" if retired and retired != number else "")
    session.add_all([older, newer])
    session.flush()
    audit(session, "nominee", older.id, "superseded", older.status, older.status, actor=actor,
          note=f"by nominee {newer.id}; {note}")


def _settle_resubmission_finding(session: Session, row: NomineeRow) -> None:
    for found in _findings(session, row.id):
        if found.code == "RESUBMISSION" and found.severity == "review":
            found.severity = "info"
            session.add(found)


def _status_by_rules(session: Session, row: NomineeRow) -> str:
    """The nominee's status from its own findings and its message's, without a staff hold."""
    severities = [f.severity for f in _findings(session, row.id) if f.code != "RESUBMISSION"]
    severities += [f.severity for f in _message_findings(session, row.message_id) if f.severity in ("reject", "review")]
    return nominee_status(severities)


def choose(runtime: Runtime, key: str, keep: str, actor: str, reason: str | None, now: datetime) -> Outcome:
    """Between an accepted filing and a later, worse one of the same person, keep one."""
    if keep not in KEEP:
        raise ValueError(keep)
    with new_session(runtime.engine) as session:
        row = find_nominee(session, runtime.profile.id, key)
        earlier = awaiting_choice(session, row)
        later = row
        if earlier is None:
            later = _later_awaiting(session, row)
            earlier = row if later is not None else None
        if earlier is None:
            raise ReviewError(f"#{row.id} 没有等待选择的重复报送（只有“重新报送的材料不如已受理的”时才需要选择）")
        before = later.status
        _settle_resubmission_finding(session, later)
        if keep == "earlier":
            later.status = "rejected"
            retired, later.intake_number = later.intake_number, None
            later.superseded_by = earlier.id
            _decide(later, "kept_earlier", actor, reason, now)
            audit(session, "nominee", later.id, "kept_earlier", before, later.status, actor=actor,
                  note=f"nominee {earlier.id} ({earlier.intake_number}) stays"
                       + (f"; {retired} retired" if retired else "") + (f"; {reason}" if reason else ""))
        else:
            later.status = _status_by_rules(session, later)
            _decide(later, "kept_later", actor, reason, now)
            _supersede(session, earlier, later, actor, "staff kept the later filing", keep_number=True)
            audit(session, "nominee", later.id, "kept_later", before, later.status, actor=actor, note=reason or "")
        session.add(later)
        message = session.get(MessageRow, later.message_id)
        _refresh_message_status(session, message, actor, f"staff kept the {keep} filing of nominee {later.id}")
        reply, superseded = answer(session, runtime, message, actor, now)
        session.commit()
        return Outcome(later, before, message, reply, superseded, tuple(_findings(session, later.id)), other=earlier)


# --- corrections ----------------------------------------------------------------------------


def _normalised(field_name: str, value: str, profile: Profile) -> str:
    """A typed value as the form reader would have normalised it (nominees.assemble)."""
    if field_name == "channel":
        if profile.channel_by_id(value.strip()) is not None:
            return value.strip()
        return channel_id(value, profile.channels) or ""
    if field_name == "deeds":
        return value.strip()
    cleaners = {"name": clean_name, "id_number": clean_id_number, "gender": clean_gender, "frontline": clean_yes_no}
    return cleaners.get(field_name, clean_text)(value)


def _corrected(nominee: Nominee, corrections: list[tuple[str, str]], profile: Profile) -> Nominee:
    fields, raw = dict(nominee.fields), dict(nominee.raw_fields)
    writeup = {}
    phones = nominee.phone_numbers
    for field_name, value in corrections:
        raw[field_name] = value
        normalised = _normalised(field_name, value, profile)
        if normalised:
            fields[field_name] = normalised
        else:
            fields.pop(field_name, None)
        if field_name == "phone":
            phones = tuple(phone_candidates(value))
        if field_name == "deeds" and nominee.writeup_source in (None, "推荐表"):
            writeup = {"writeup_text": normalised or None, "writeup_source": "推荐表" if normalised else None,
                       "writeup_chars": count_chars(normalised) if normalised else None, "writeup_referenced": False}
    return replace(nominee, fields=fields, raw_fields=raw, phone_numbers=phones, **writeup)


def masked_value(field_name: str, value: str | None) -> str:
    """A field's value as command output and the audit note show it (CONTRACT §5)."""
    if not value:
        return "（空）"
    if field_name == "id_number":
        return mask_id_number(value)
    if field_name == "phone":
        numbers = phone_candidates(value)
        return "、".join(mask_phone(n) for n in numbers) if numbers else mask_phone(re.sub(r"\s", "", value))
    return mask_numbers_in(value)


def _rejudged(runtime: Runtime, message: MessageRow, position: int, corrections: list[tuple[str, str]],
              earlier: NomineeRow | None) -> NomineeVerdict:
    """The nominee judged again from the stored mail, the staff's corrections laid over the form."""
    profile = runtime.profile
    try:
        raw = BlobStore(runtime.config.data_path / "blobs").get(message.raw_sha256)
    except FileNotFoundError:
        raise ReviewError(f"邮件 #{message.id} 的原始邮件已删除（intake purge），无法重新审核") from None
    verdict = judge(raw, profile, received_at=message.received_at, received_at_source=message.received_at_source)
    judged = next((n for n in verdict.nominees if n.nominee.index == position), None)
    if judged is None:
        raise ReviewError(f"重新读取邮件 #{message.id} 时没有找到第 {position + 1} 位被推荐人，无法更正")
    corrected = _corrected(judged.nominee, corrections, profile)
    again = evaluate(replace(verdict.submission, nominees=tuple(
        corrected if n.index == position else n for n in verdict.submission.nominees)), profile)
    if earlier is not None:
        again = with_history(again, {position: EarlierNominee(
            earlier.id, earlier.status, earlier.intake_number, shown(earlier.created_at))})
    return next(n for n in again.nominees if n.nominee.index == position)


def correct(runtime: Runtime, key: str, field_name: str, value: str, actor: str, now: datetime,
            send_reply: bool = True) -> Outcome:
    """Correct a misread field and run the rules for that nominee again (the mail is read again
    from the stored bytes, every staff correction of the nominee laid over what the form said)."""
    if field_name not in FIELD_NAMES:
        raise ReviewError(f"没有字段 {field_name}；可用：{', '.join(FIELD_NAMES)}")
    with new_session(runtime.engine) as session:
        row = _current(session, runtime.profile.id, key)
        message = session.get(MessageRow, row.message_id)
        earlier = awaiting_choice(session, row) or _earlier_of(session, row)
        corrections = [(c.field_name, c.new_value) for c in session.exec(select(FieldCorrectionRow).where(
            FieldCorrectionRow.nominee_id == row.id).order_by(FieldCorrectionRow.id)).all()]
    new = _rejudged(runtime, message, row.position, corrections + [(field_name, value)], earlier)
    with new_session(runtime.engine) as session:
        row = _current(session, runtime.profile.id, str(row.id))
        message = session.get(MessageRow, row.message_id)
        before, old_value = row.status, (row.fields or {}).get(field_name)
        session.add(FieldCorrectionRow(nominee_id=row.id, field_name=field_name, old_value=old_value,
                                       new_value=value, actor=actor, at=now))
        _file_rejudged(session, runtime.profile, row, message, new, keep_resubmission=earlier is None)
        audit(session, "nominee", row.id, "corrected", before, row.status, actor=actor,
              note=f"{field_name}: {masked_value(field_name, old_value)} → {masked_value(field_name, value)}")
        if earlier is not None and not any(f.code == "RESUBMISSION" and f.severity == "review" for f in new.findings):
            _supersede(session, session.get(NomineeRow, earlier.id), row, actor,
                       "no longer worse after a staff correction")
        _refresh_message_status(session, message, actor, f"nominee {row.id} corrected")
        reply, superseded = None, ()
        if send_reply and row.status != before:
            reply, superseded = answer(session, runtime, message, actor, now)
        session.commit()
        return Outcome(row, before, message, reply, superseded, tuple(_findings(session, row.id)),
                       rules_status=new.status)


def _file_rejudged(session: Session, profile: Profile, row: NomineeRow, message: MessageRow,
                   new: NomineeVerdict, keep_resubmission: bool) -> None:
    """The nominee's record as the rules now see it; a staff decision stands until staff decide again.
    An earlier RESUBMISSION note (the filing it replaced) is kept when no choice is pending."""
    for stale in _findings(session, row.id):
        if not (keep_resubmission and stale.code == "RESUBMISSION"):
            session.delete(stale)
    session.flush()
    session.add_all(FindingRow(message_id=message.id, nominee_id=row.id, code=f.code, severity=f.severity,
                               text=f.message, detail=json.loads(json.dumps(f.detail, default=str)))
                    for f in new.findings)
    fields = new.nominee.fields
    row.fields = dict(fields)
    row.name, row.employer = fields.get("name", ""), fields.get("employer", "")
    row.channel, row.recommending_unit = fields.get("channel"), fields.get("recommending_unit")
    row.identity_key = identity_key(fields) or row.identity_key
    row.writeup_chars = new.nominee.writeup_chars
    if row.decision not in ("accepted", "rejected"):
        row.status = new.status
    if row.status in NUMBERED and not row.intake_number:
        row.intake_number = next_intake_number(session, profile)
    session.add(row)
    session.flush()


def _earlier_of(session: Session, row: NomineeRow) -> NomineeRow | None:
    """The current filing a RESUBMISSION finding of this nominee points to, if any."""
    for found in _findings(session, row.id):
        if found.code == "RESUBMISSION":
            earlier = session.get(NomineeRow, int(found.detail.get("earlier", 0) or 0))
            if earlier is not None and earlier.superseded_by is None and earlier.id != row.id:
                return earlier
    return None


# --- replies held, paper copies -------------------------------------------------------------


def release(runtime: Runtime, reply_id: int, actor: str) -> ReplyRow:
    """Let a held reply go (staff checked the sender is real, or the daily cap was too tight)."""
    with new_session(runtime.engine) as session:
        reply = session.get(ReplyRow, reply_id)
        message = session.get(MessageRow, reply.message_id) if reply else None
        if reply is None or message.campaign_id != runtime.profile.id:
            raise ReviewError(f"评选活动 {runtime.profile.id} 中没有回复 #{reply_id}")
        if reply.state != "held":
            raise ReviewError(f"回复 #{reply_id} 的状态是 {reply.state}，不是暂扣")
        reply.state, reply.next_attempt_at = "pending", None
        session.add(reply)
        audit(session, "reply", reply.id, "released", "held", "pending", actor=actor, note=reply.held_reason or "")
        session.commit()
        return reply


@dataclass(frozen=True)
class PaperMark:
    nominee: NomineeRow
    before: datetime | None


def mark_paper(runtime: Runtime, keys: list[str], actor: str, at: datetime | None, now: datetime,
               undo: bool = False) -> list[PaperMark]:
    """Note that the paper copy of each nominee arrived (or, with `undo`, that it did not)."""
    marks = []
    with new_session(runtime.engine) as session:
        for key in keys:
            row = _current(session, runtime.profile.id, key)
            before = row.paper_copy_received_at
            row.paper_copy_received_at = None if undo else (at or now)
            session.add(row)
            audit(session, "nominee", row.id, "paper_copy_undone" if undo else "paper_copy_received",
                  shown(before) if before else None,
                  shown(row.paper_copy_received_at) if row.paper_copy_received_at else None, actor=actor)
            marks.append(PaperMark(row, before))
        session.commit()
    return marks
