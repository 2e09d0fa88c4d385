"""Questions staff tools, replies and forwards ask of the records, each answered in one place."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, select

from storage.models import FindingRow, ForwardMessageRow, ForwardNomineeRow, ForwardRow, MessageRow, NomineeRow, ReplyRow


def findings_of(session: Session, nominee_id: int) -> list[FindingRow]:
    return list(session.exec(select(FindingRow).where(FindingRow.nominee_id == nominee_id)
                             .order_by(FindingRow.id)).all())


def message_findings_of(session: Session, message_id: int) -> list[FindingRow]:
    """The findings about the message as a whole (LATE, FORM_MISSING …), not about one nominee."""
    return list(session.exec(select(FindingRow).where(FindingRow.message_id == message_id,
                                                      FindingRow.nominee_id.is_(None))
                             .order_by(FindingRow.id)).all())


IN_CHUNK = 900  # ids in one IN (…): under SQLite's oldest limit of 999 bound values


def _chunks(ids: list) -> list[list]:
    return [ids[k:k + IN_CHUNK] for k in range(0, len(ids), IN_CHUNK)]


def rows_by_id(session: Session, model, ids) -> dict:
    """The rows of `model` with these ids, by id, in a query per 900."""
    found = {}
    for chunk in _chunks(sorted(set(ids))):
        found.update({row.id: row for row in session.exec(select(model).where(model.id.in_(chunk))).all()})
    return found


def findings_by_nominee(session: Session, nominee_ids: list[int], message_ids: list[int]
                        ) -> tuple[defaultdict[int, list[FindingRow]], defaultdict[int, list[FindingRow]]]:
    """`findings_of` for many nominees and `message_findings_of` for their mails, in a few queries."""
    own: defaultdict[int, list[FindingRow]] = defaultdict(list)
    whole: defaultdict[int, list[FindingRow]] = defaultdict(list)
    for chunk in _chunks(sorted(set(nominee_ids))):
        for row in session.exec(select(FindingRow).where(FindingRow.nominee_id.in_(chunk)).order_by(FindingRow.id)):
            own[row.nominee_id].append(row)
    for chunk in _chunks(sorted(set(message_ids))):
        for row in session.exec(select(FindingRow).where(FindingRow.message_id.in_(chunk),
                                                         FindingRow.nominee_id.is_(None)).order_by(FindingRow.id)):
            whole[row.message_id].append(row)
    return own, whole


def _earlier_named(session: Session, row: NomineeRow, severity: str | None) -> NomineeRow | None:
    for found in findings_of(session, row.id):
        if found.code == "RESUBMISSION" and (severity is None or found.severity == severity):
            earlier = session.get(NomineeRow, int(found.detail.get("earlier", 0) or 0))
            if earlier is not None and earlier.superseded_by is None and earlier.id != row.id:
                return earlier
    return None


def awaiting_choice(session: Session, row: NomineeRow) -> NomineeRow | None:
    """The accepted earlier filing that this later, worse one was kept beside (staff choose)."""
    if row.superseded_by is not None:
        return None
    return _earlier_named(session, row, "review")


def earlier_filing(session: Session, row: NomineeRow) -> NomineeRow | None:
    """The current filing a RESUBMISSION finding of this nominee points to, if any."""
    return _earlier_named(session, row, None)


def later_awaiting(session: Session, earlier: NomineeRow) -> NomineeRow | None:
    """The later, worse filing waiting for staff to choose between it and `earlier`."""
    for found in session.exec(select(FindingRow).where(FindingRow.code == "RESUBMISSION",
                                                       FindingRow.severity == "review")).all():
        if int(found.detail.get("earlier", 0) or 0) == earlier.id and found.nominee_id is not None:
            later = session.get(NomineeRow, found.nominee_id)
            if later is not None and later.superseded_by is None:
                return later
    return None


def standing(session: Session, row: NomineeRow) -> tuple[str, str | None]:
    """(status, intake number) the person has by this filing: a filing that staff set aside for an
    earlier accepted one (`kept_earlier`) stands as that one does."""
    if row.decision == "kept_earlier" and row.superseded_by is not None:
        kept = session.get(NomineeRow, row.superseded_by)
        return kept.status, kept.intake_number
    return row.status, row.intake_number


def message_nominees(session: Session, message_id: int) -> list[NomineeRow]:
    return list(session.exec(select(NomineeRow).where(NomineeRow.message_id == message_id)
                             .order_by(NomineeRow.position, NomineeRow.id)).all())


def latest_of_message(session: Session, message_id: int) -> list[NomineeRow]:
    """The nominees a reply to this message speaks of: its latest filing of each position."""
    latest: dict[int, NomineeRow] = {}
    for row in message_nominees(session, message_id):
        latest[row.position] = row  # reprocessing files a message again: the newest row wins
    return [latest[position] for position in sorted(latest)]


def current_nominees(session: Session, campaign_id: str) -> list[NomineeRow]:
    """The campaign's nominees as they stand: not superseded, by intake number, then as filed."""
    rows = session.exec(select(NomineeRow).where(NomineeRow.campaign_id == campaign_id,
                                                 NomineeRow.superseded_by.is_(None))).all()
    return sorted(rows, key=lambda r: (r.intake_number is None, r.intake_number or "", r.id))


def forwarded_ids(session: Session, campaign_id: str) -> set[int]:
    """The nominees that a forward of this campaign carried (written or sent)."""
    return set(session.exec(select(ForwardNomineeRow.nominee_id)
                            .join(ForwardMessageRow, ForwardMessageRow.id == ForwardNomineeRow.forward_message_id)
                            .join(ForwardRow, ForwardRow.id == ForwardMessageRow.forward_id)
                            .where(ForwardRow.campaign_id == campaign_id)).all())


def waiting_to_forward(session: Session, campaign_id: str) -> list[NomineeRow]:
    """Accepted, current (not superseded) nominees of the campaign that no forward carried yet."""
    forwarded = forwarded_ids(session, campaign_id)
    return [row for row in current_nominees(session, campaign_id)
            if row.status == "accepted" and row.id not in forwarded]


def open_questions(session: Session, campaign_id: str) -> list[MessageRow]:
    """Mail staff must read and may answer (questions), not yet answered or closed."""
    return list(session.exec(select(MessageRow).where(MessageRow.campaign_id == campaign_id,
                                                      MessageRow.staff_state == "open")
                             .order_by(MessageRow.id)).all())


def held_replies(session: Session, campaign_id: str) -> list[tuple[ReplyRow, MessageRow]]:
    rows = session.exec(select(ReplyRow, MessageRow).join(MessageRow, MessageRow.id == ReplyRow.message_id)
                        .where(MessageRow.campaign_id == campaign_id, ReplyRow.state == "held")
                        .order_by(ReplyRow.id)).all()
    return [(reply, message) for reply, message in rows]


def needing_review(session: Session, campaign_id: str) -> list[NomineeRow]:
    return list(session.exec(select(NomineeRow).where(
        NomineeRow.campaign_id == campaign_id, NomineeRow.status == "needs_review",
        NomineeRow.superseded_by.is_(None)).order_by(NomineeRow.id)).all())


def quarantined(session: Session, campaign_id: str) -> list[MessageRow]:
    return list(session.exec(select(MessageRow).where(MessageRow.campaign_id == campaign_id,
                                                      MessageRow.state == "quarantined")
                             .order_by(MessageRow.id)).all())


def doubtful_messages(session: Session, campaign_id: str) -> list[MessageRow]:
    """Rejected mail that staff were asked to look at too (a follow-up that could not be placed)."""
    return list(session.exec(select(MessageRow).join(FindingRow, FindingRow.message_id == MessageRow.id).where(
        MessageRow.campaign_id == campaign_id, MessageRow.status == "rejected", FindingRow.nominee_id.is_(None),
        FindingRow.code == "ASSIGNMENT_AMBIGUOUS").distinct().order_by(MessageRow.id)).all())
