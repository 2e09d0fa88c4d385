"""Staff decisions: accept, reject, choose between two filings of one person, release a held reply.

A decision never edits what was received: the findings stay as filed, and the nominee's
`decision`, `decided_by`, `decided_at` and `decision_reason` say what staff made of them.
Every act is audited and answered by the reply its new status calls for (staff/answer.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlmodel import Session

from service.runtime import Runtime
from staff.answer import ANSWER, Answering, answer_and_commit, refresh_message_status
from staff.lookup import Cancelled, ReviewError, current_nominee, find_nominee
from storage.db import session as new_session
from storage.filing import NUMBERED, audit, next_intake_number
from storage.models import FindingRow, MessageRow, NomineeRow, ReplyRow
from storage.queries import awaiting_choice, findings_of, later_awaiting, message_findings_of
from validators.status import nominee_status

KEEP = ("earlier", "later")


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


def _decide(row: NomineeRow, decision: str, actor: str, reason: str | None, now: datetime) -> None:
    row.decision, row.decided_by, row.decided_at, row.decision_reason = decision, actor, now, reason or None


def decide(runtime: Runtime, key: str, decision: str, actor: str, reason: str | None, now: datetime,
           answering: Answering = ANSWER) -> Outcome:
    """accept (also over a rejection: late by minutes, an extension granted) or reject, and answer."""
    if decision not in ("accepted", "rejected"):
        raise ValueError(decision)
    if decision == "rejected" and not (reason or "").strip():
        raise ReviewError("退回须写明原因（--reason），原因会写进给报送单位的回复")
    with new_session(runtime.engine) as session:
        row = current_nominee(session, runtime.profile.id, key)
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
        refresh_message_status(session, message, actor, f"nominee {row.id} {decision} by staff")
        reply, superseded = answer_and_commit(session, runtime, message, actor, now, answering)
        return Outcome(row, before, message, reply, superseded, tuple(findings_of(session, row.id)))


def supersede(session: Session, older: NomineeRow, newer: NomineeRow, actor: str, note: str,
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
    for found in findings_of(session, row.id):
        if found.code == "RESUBMISSION" and found.severity == "review":
            found.severity = "info"
            session.add(found)


def _status_by_rules(session: Session, row: NomineeRow) -> str:
    """The nominee's status from its own findings and its message's, without a staff hold."""
    severities = [f.severity for f in findings_of(session, row.id) if f.code != "RESUBMISSION"]
    severities += [f.severity for f in message_findings_of(session, row.message_id) if f.severity in ("reject", "review")]
    return nominee_status(severities)


def choose(runtime: Runtime, key: str, keep: str, actor: str, reason: str | None, now: datetime,
           answering: Answering = ANSWER) -> Outcome:
    """Between an accepted filing and a later, worse one of the same person, keep one."""
    if keep not in KEEP:
        raise ValueError(keep)
    with new_session(runtime.engine) as session:
        row = find_nominee(session, runtime.profile.id, key)
        earlier = awaiting_choice(session, row)
        later = row
        if earlier is None:
            later = later_awaiting(session, row)
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
            supersede(session, earlier, later, actor, "staff kept the later filing", keep_number=True)
            audit(session, "nominee", later.id, "kept_later", before, later.status, actor=actor, note=reason or "")
        session.add(later)
        message = session.get(MessageRow, later.message_id)
        refresh_message_status(session, message, actor, f"staff kept the {keep} filing of nominee {later.id}")
        reply, superseded = answer_and_commit(session, runtime, message, actor, now, answering)
        return Outcome(later, before, message, reply, superseded, tuple(findings_of(session, later.id)), other=earlier)


def release(runtime: Runtime, reply_id: int, actor: str, confirm: Callable[[ReplyRow], bool] | None = None) -> ReplyRow:
    """Let a held reply go (staff checked the sender is real, or the daily cap was too tight);
    `confirm` is shown it first."""
    with new_session(runtime.engine) as session:
        reply = session.get(ReplyRow, reply_id)
        message = session.get(MessageRow, reply.message_id) if reply else None
        if reply is None or message.campaign_id != runtime.profile.id:
            raise ReviewError(f"评选活动 {runtime.profile.id} 中没有回复 #{reply_id}")
        if reply.state != "held":
            raise ReviewError(f"回复 #{reply_id} 的状态是 {reply.state}，不是暂扣")
        if confirm is not None and not confirm(reply):
            raise Cancelled("回复未发送，未做任何更改")
        reply.state, reply.next_attempt_at = "pending", None
        session.add(reply)
        audit(session, "reply", reply.id, "released", "held", "pending", actor=actor, note=reply.held_reason or "")
        session.commit()
        return reply
