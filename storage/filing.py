"""Writing a judged message into the records: nominees with intake numbers, files, findings, audit.

Everything here runs inside the caller's transaction: one message is filed whole or not at all.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from campaigns.schema import Profile
from nominees.assemble import INFERRED
from storage.models import AttachmentRow, AuditRow, CampaignRow, FindingRow, MessageRow, NomineeRow
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
    """An earlier filed message with the same Message-ID or the same bytes, in this campaign."""
    same = select(MessageRow.id).where(
        MessageRow.campaign_id == row.campaign_id,
        MessageRow.id != row.id,
        MessageRow.state.in_(("filed", "quarantined", "failed", "fetched")),
        MessageRow.id < row.id,
    )
    by_bytes = session.exec(same.where(MessageRow.raw_sha256 == row.raw_sha256)).first()
    if by_bytes is not None:
        return by_bytes
    if row.message_id:
        return session.exec(same.where(MessageRow.message_id == row.message_id)).first()
    return None


def earlier_nominees(session: Session, verdict: Verdict, campaign_id: str, shown_in) -> dict[int, EarlierNominee]:
    """For each nominee of the verdict, the current record of the same person, if any."""
    found = {}
    for nominee_verdict in verdict.nominees:
        key = identity_key(nominee_verdict.nominee.fields)
        if key is None:
            continue
        row = session.exec(
            select(NomineeRow)
            .where(NomineeRow.campaign_id == campaign_id, NomineeRow.identity_key == key,
                   NomineeRow.superseded_by.is_(None))
            .order_by(NomineeRow.id.desc())
        ).first()
        if row is not None:
            found[nominee_verdict.nominee.index] = EarlierNominee(
                row.id, row.status, row.intake_number, shown_in(row.created_at))
    return found


def next_intake_number(session: Session, profile: Profile) -> str:
    """The campaign's next intake number (BYGJ-2017-0007); numbers are never given twice."""
    campaign = ensure_campaign(session, profile)
    campaign.last_intake_sequence += 1
    session.add(campaign)
    return profile.intake_number(campaign.last_intake_sequence)


def finding_row(message_id: int, nominee_id: int | None, item: Finding) -> FindingRow:
    return FindingRow(message_id=message_id, nominee_id=nominee_id, code=item.code, severity=item.severity,
                      text=item.message, detail=json.loads(json.dumps(item.detail, default=str)))


def audit(session: Session, entity: str, entity_id: int, action: str, before: str | None = None,
          after: str | None = None, actor: str = MACHINE, note: str = "") -> None:
    session.add(AuditRow(actor=actor, entity=entity, entity_id=entity_id, action=action, before=before,
                         after=after, note=note))


def file_verdict(session: Session, message_row: MessageRow, verdict: Verdict, profile: Profile,
                 earlier: dict[int, EarlierNominee], now: datetime) -> list[FiledNominee]:
    """Record the verdict; returns each nominee's record id and intake number, in verdict order."""
    ensure_campaign(session, profile)
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

    filed = [_file_nominee(session, message_row, nv, profile, earlier.get(nv.nominee.index))
             for nv in verdict.nominees]
    session.add_all(finding_row(message_row.id, None, f) for f in verdict.findings)
    placed = {id(f.attachment) for nv in verdict.nominees for f in nv.nominee.files}
    loose = [*verdict.submission.shared, *verdict.submission.unassigned]
    session.add_all(_attachment_row(message_row, None, f) for f in loose if id(f.attachment) not in placed)
    audit(session, "message", message_row.id, "filed", before, verdict.status)
    return filed


def _attachment_row(message_row: MessageRow, nominee_id: int | None, item) -> AttachmentRow:
    attachment = item.attachment
    # a file a follow-up kept from an earlier mail is recorded against the mail it came in
    return AttachmentRow(message_id=attachment.kept_from or message_row.id, nominee_id=nominee_id,
                         path=attachment.path,
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


def _file_nominee(session: Session, message_row: MessageRow, nominee_verdict, profile: Profile,
                  earlier: EarlierNominee | None) -> FiledNominee:
    nominee = nominee_verdict.nominee
    fields = nominee.fields
    key = identity_key(fields) or f"message:{message_row.id}:{nominee.index}"
    # the newest filing supersedes, unless it is worse than an accepted one: then staff choose
    staff_choose = any(f.code == "RESUBMISSION" and f.severity == "review" for f in nominee_verdict.findings)
    supersedes = earlier is not None and not staff_choose
    number = None
    if nominee_verdict.status in NUMBERED:
        # a resubmission keeps the number the office already gave that person
        kept = earlier.intake_number if supersedes else None
        number = kept or next_intake_number(session, profile)
    row = NomineeRow(
        campaign_id=profile.id, message_id=message_row.id, position=nominee.index, intake_number=None,
        identity_key=key, name=fields.get("name", ""), employer=fields.get("employer", ""),
        channel=fields.get("channel"), recommending_unit=fields.get("recommending_unit"),
        fields=dict(fields), field_sources=_inferred_only(nominee.field_sources),
        status=nominee_verdict.status, writeup_chars=nominee.writeup_chars,
        seal=nominee_verdict.seal,
    )
    session.add(row)
    session.flush()
    if supersedes:
        _supersede(session, earlier, row, number)
    row.intake_number = number
    session.add(row)
    session.add_all(finding_row(message_row.id, row.id, f) for f in nominee_verdict.findings)
    session.add_all(_attachment_row(message_row, row.id, f) for f in nominee.files)
    audit(session, "nominee", row.id, "filed", None, nominee_verdict.status,
          note=f"intake number {number}" if number else "")
    return FiledNominee(row.id, number)


def _supersede(session: Session, earlier: EarlierNominee, newer: NomineeRow, number: str | None) -> None:
    old = session.get(NomineeRow, earlier.record_id)
    old.superseded_by = newer.id
    if number and old.intake_number == number:
        old.intake_number = None  # the number moves to the newest filing of the same person
    session.add(old)
    session.flush()
    audit(session, "nominee", old.id, "superseded", old.status, old.status, note=f"by nominee {newer.id}")
