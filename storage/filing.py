"""Writing a judged message into the records: nominees with intake numbers, files, findings, audit.

Everything here runs inside the caller's transaction: one message is filed whole or not at all.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, insert, or_, update
from sqlmodel import Session, select

from campaigns.schema import Profile
from core.times import utcnow
from nominees.assemble import INFERRED
from storage.models import AttachmentRow, AuditRow, CampaignRow, FindingRow, MessageRow, NomineeRow
from storage.queries import IN_CHUNK
from validators.evaluate import Verdict
from validators.findings import Finding
from validators.memory import EarlierNominee, identity_key

MACHINE = "intake"
# nominees that get an intake number: those the campaign has received for judging
NUMBERED = ("accepted", "needs_review")


@dataclass(frozen=True)
class FiledNominee:
    record_id: int
    intake_number: str | None


def ensure_campaign(session: Session, profile: Profile) -> CampaignRow:
    row = session.get(CampaignRow, profile.id)
    if row is None:
        row = CampaignRow(id=profile.id, title=profile.title)
        session.add(row)
        session.flush()
    return row


def find_duplicate(session: Session, row: MessageRow) -> int | None:
    """An earlier filed message with the same bytes, else one with the same Message-ID, in this campaign
    (the earliest of either), in one query."""
    same_bytes = MessageRow.raw_sha256 == row.raw_sha256
    either = or_(same_bytes, MessageRow.message_id == row.message_id) if row.message_id else same_bytes
    return session.exec(select(MessageRow.id).where(
        MessageRow.campaign_id == row.campaign_id,
        MessageRow.id != row.id,
        MessageRow.state.in_(("filed", "quarantined", "failed", "fetched")),
        MessageRow.id < row.id,
        either,
    ).order_by(case((same_bytes, 0), else_=1), MessageRow.id).limit(1)).first()


def earlier_nominees(session: Session, verdict: Verdict, campaign_id: str, shown_in) -> dict[int, EarlierNominee]:
    """For each nominee of the verdict, the current record of the same person, if any (the newest
    where staff have two to choose between), in one query for all of them."""
    keys = {nv.nominee.index: identity_key(nv.nominee.fields) for nv in verdict.nominees}
    wanted = sorted({key for key in keys.values() if key is not None})
    newest: dict[str, NomineeRow] = {}
    for chunk in (wanted[k:k + IN_CHUNK] for k in range(0, len(wanted), IN_CHUNK)):
        for row in session.exec(select(NomineeRow).where(
                NomineeRow.campaign_id == campaign_id, NomineeRow.identity_key.in_(chunk),
                NomineeRow.superseded_by.is_(None)).order_by(NomineeRow.id.desc())):
            newest.setdefault(row.identity_key, row)
    return {index: EarlierNominee(row.id, row.status, row.intake_number, shown_in(row.created_at))
            for index, key in keys.items() if (row := newest.get(key)) is not None}


def next_intake_number(session: Session, profile: Profile) -> str:
    """The campaign's next intake number (BYGJ-2017-0007); numbers are never given twice."""
    campaign = ensure_campaign(session, profile)
    session.add(campaign)
    return _next_number(campaign, profile)


def finding_row(message_id: int, nominee_id: int | None, item: Finding) -> FindingRow:
    return FindingRow(**_finding_values(message_id, nominee_id, item))


def _finding_values(message_id: int, nominee_id: int | None, item: Finding) -> dict:
    return dict(message_id=message_id, nominee_id=nominee_id, code=item.code, severity=item.severity,
                text=item.message, detail=json.loads(json.dumps(item.detail, default=str)))


def audit(session: Session, entity: str, entity_id: int, action: str, before: str | None = None,
          after: str | None = None, actor: str = MACHINE, note: str = "") -> None:
    session.add(AuditRow(**_audit_values(entity, entity_id, action, before, after, actor, note)))


def _audit_values(entity: str, entity_id: int, action: str, before: str | None = None, after: str | None = None,
                  actor: str = MACHINE, note: str = "") -> dict:
    return dict(at=utcnow(), actor=actor, entity=entity, entity_id=entity_id, action=action, before=before,
                after=after, note=note)


def file_verdict(session: Session, message_row: MessageRow, verdict: Verdict, profile: Profile,
                 earlier: dict[int, EarlierNominee], now: datetime) -> list[FiledNominee]:
    """Record the verdict; returns each nominee's record id and intake number, in verdict order.

    The nominees are inserted in one flush (their ids are needed); their findings, files and the
    audit rows are each one multi-row INSERT at the end, in the order they were made."""
    if message_row.campaign_id != profile.id:
        ensure_campaign(session, profile)  # else the ledger row's own foreign key says the campaign is there
    message = verdict.message
    message_row.message_id = message.message_id
    message_row.from_addr = message.from_addr
    message_row.subject = message.subject
    message_row.received_at = message.received_at
    message_row.received_at_source = message.received_at_source
    message_row.in_reply_to = message.header("In-Reply-To")
    message_row.references = message.header("References") or ""
    before = message_row.status
    message_row.status = verdict.status
    message_row.state = "filed"
    message_row.filed_at = now
    message_row.last_error = None
    message_row.next_attempt_at = None
    session.add(message_row)

    written = _Written()
    filed = _file_nominees(session, message_row, verdict, profile, earlier, written)
    written.findings += [_finding_values(message_row.id, None, f) for f in verdict.findings]
    placed = {id(f.attachment) for nv in verdict.nominees for f in nv.nominee.files}
    loose = [*verdict.submission.shared, *verdict.submission.unassigned]
    written.attachments += [_attachment_values(message_row, None, f) for f in loose if id(f.attachment) not in placed]
    written.audits.append(_audit_values("message", message_row.id, "filed", before, verdict.status))
    written.insert(session)
    return filed


class _Written:
    """The rows of one filing whose ids nobody asks for, as column values: inserted together, one
    statement a table, in the order they were made."""

    def __init__(self) -> None:
        self.findings: list[dict] = []
        self.attachments: list[dict] = []
        self.audits: list[dict] = []

    def insert(self, session: Session) -> None:
        session.flush()  # the nominees and the message they refer to first
        for model, rows in ((FindingRow, self.findings), (AttachmentRow, self.attachments), (AuditRow, self.audits)):
            if rows:  # the table's, not the ORM's INSERT: that one makes a statement for each set of non-null columns
                session.exec(insert(model.__table__), params=rows)


def _attachment_values(message_row: MessageRow, nominee_id: int | None, item) -> dict:
    attachment = item.attachment
    # a file a follow-up kept from an earlier mail is recorded against the mail it came in
    return dict(message_id=attachment.kept_from or message_row.id, nominee_id=nominee_id, path=attachment.path,
                filename=attachment.filename, role=item.role, media_type=attachment.media_type,
                sha256=attachment.sha256, size=attachment.size, probe=_as_json(getattr(item, "probe", None)))


def _as_json(value) -> dict | None:
    """What a prober measured, as plain JSON for the record (dataclasses become objects)."""
    if value is None:
        return None
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value, default=str))


def _inferred_only(sources: dict[str, str]) -> dict[str, str] | None:
    """The fields staff must be told were not written in their own cell (the others' sources are
    the file's kind, which the record's files say already)."""
    inferred = {name: source for name, source in sources.items() if source == INFERRED}
    return inferred or None


def _file_nominees(session: Session, message_row: MessageRow, verdict: Verdict, profile: Profile,
                   earlier: dict[int, EarlierNominee], written: _Written) -> list[FiledNominee]:
    """Each nominee with its intake number, superseding the earlier filing of the same person."""
    made = []
    campaign = None  # read once, where a nominee is given a number
    for nominee_verdict in verdict.nominees:
        nominee = nominee_verdict.nominee
        before = earlier.get(nominee.index)
        # the newest filing supersedes, unless it is worse than an accepted one: then staff choose
        staff_choose = any(f.code == "RESUBMISSION" and f.severity == "review" for f in nominee_verdict.findings)
        supersedes = before if before is not None and not staff_choose else None
        number = None
        if nominee_verdict.status in NUMBERED:
            # a resubmission keeps the number the office already gave that person
            kept = supersedes.intake_number if supersedes else None
            if not kept and campaign is None:
                with session.no_autoflush:  # the rows made so far go out together below
                    campaign = ensure_campaign(session, profile)
            number = kept or _next_number(campaign, profile)
        # a number the earlier filing still holds is given once that one has let it go (it is unique)
        row = _nominee_row(message_row, nominee_verdict, profile,
                           None if supersedes and number == supersedes.intake_number else number)
        session.add(row)
        made.append((nominee_verdict, row, supersedes, number))
    if campaign is not None:
        session.add(campaign)
    session.flush()
    filed = []
    for nominee_verdict, row, supersedes, number in made:
        if supersedes is not None:
            _supersede(session, supersedes, row, number, written)
        row.intake_number = number
        written.findings += [_finding_values(message_row.id, row.id, f) for f in nominee_verdict.findings]
        written.attachments += [_attachment_values(message_row, row.id, f) for f in nominee_verdict.nominee.files]
        written.audits.append(_audit_values("nominee", row.id, "filed", None, nominee_verdict.status,
                                            note=f"intake number {number}" if number else ""))
        filed.append(FiledNominee(row.id, number))
    return filed


def _next_number(campaign: CampaignRow, profile: Profile) -> str:
    campaign.last_intake_sequence += 1
    return profile.intake_number(campaign.last_intake_sequence)


def _nominee_row(message_row: MessageRow, nominee_verdict, profile: Profile, number: str | None) -> NomineeRow:
    nominee = nominee_verdict.nominee
    fields = nominee.fields
    key = identity_key(fields) or f"message:{message_row.id}:{nominee.index}"
    return NomineeRow(
        campaign_id=profile.id, message_id=message_row.id, position=nominee.index, intake_number=number,
        identity_key=key, name=fields.get("name", ""), employer=fields.get("employer", ""),
        channel=fields.get("channel"), recommending_unit=fields.get("recommending_unit"),
        fields=dict(fields), field_sources=_inferred_only(nominee.field_sources),
        status=nominee_verdict.status, writeup_chars=nominee.writeup_chars,
        seal=nominee_verdict.seal,
    )


def _supersede(session: Session, earlier: EarlierNominee, newer: NomineeRow, number: str | None,
               written: _Written) -> None:
    """The earlier filing points to the newer one and lets go of the number that moves to it; one
    UPDATE of the table (nothing in this session reads that row again), which says the earlier
    filing's status for the audit."""
    table = NomineeRow.__table__
    values: dict = {"superseded_by": newer.id}
    if number:  # the number moves to the newest filing of the same person
        values["intake_number"] = case((table.c.intake_number == number, None), else_=table.c.intake_number)
    status = session.exec(update(table).where(table.c.id == earlier.record_id).values(values)
                          .returning(table.c.status)).scalar_one()
    written.audits.append(_audit_values("nominee", earlier.record_id, "superseded", status, status,
                                        note=f"by nominee {newer.id}"))
