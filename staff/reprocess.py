"""Judging a stored message again: after a failure, or after a rule or profile change.

Nothing is changed until staff apply it, and nothing is sent until they say so: the new
reply is held unless `send` is given. The earlier records stay, superseded, in the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, delete, select

from core import words
from core.times import shown
from replies.queue import queue_reply
from service.runtime import Runtime
from staff.rejudge import rejudged
from storage.db import session as new_session
from storage.filing import audit, earlier_nominees, file_verdict
from storage.models import AttachmentRow, FindingRow, MessageRow, NomineeRow, ReplyRow
from validators.evaluate import Verdict
from validators.memory import with_history


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class Comparison:
    row_id: int
    state: str
    old_status: str | None
    new_status: str
    old_codes: list[str]
    new_codes: list[str]
    verdict: Verdict
    # staff decisions (intake review) on the message's current nominees, which filing the new
    # verdict would replace: "李四：人工受理（alice，2017-04-20 10:00）"
    decisions: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.old_status != self.new_status or sorted(self.old_codes) != sorted(self.new_codes)


def _codes(verdict: Verdict) -> list[str]:
    return [f.code for f in verdict.findings] + [f.code for n in verdict.nominees for f in n.findings]


def compare(runtime: Runtime, row_id: int) -> Comparison:
    with new_session(runtime.engine) as session:
        row = session.get(MessageRow, row_id)
        if row is None:
            raise NotFound(f"没有编号为 {row_id} 的邮件")
        nominees = session.exec(select(NomineeRow).where(
            NomineeRow.message_id == row_id, NomineeRow.superseded_by.is_(None))).all()
        current = [n.id for n in nominees]
        decisions = tuple(_decision(n) for n in nominees if n.decision)
        old_codes = list(session.exec(select(FindingRow.code).where(
            FindingRow.message_id == row_id,
            (FindingRow.nominee_id.is_(None)) | (FindingRow.nominee_id.in_(current)))).all())
    verdict = rejudged(runtime, row)
    if verdict is None:
        raise NotFound(f"邮件 M{row_id} 的原始邮件已删除（intake purge），无法重新审核")
    return Comparison(row_id, row.state, row.status, verdict.status, old_codes, _codes(verdict), verdict, decisions)


def _decision(row: NomineeRow) -> str:
    when = shown(row.decided_at) if row.decided_at else ""
    return f"{row.name}：{words.word(words.DECISION, row.decision)}（{row.decided_by}，{when}）"


def apply(runtime: Runtime, comparison: Comparison, send: bool, actor: str, now: datetime) -> ReplyRow | None:
    """File the new verdict over the old one and queue its reply (held unless `send`)."""
    with new_session(runtime.engine) as session:
        row = session.get(MessageRow, comparison.row_id)
        own_ids = _own_current_nominees(session, row.id)
        earlier = earlier_nominees(session, comparison.verdict, runtime.profile.id, shown)
        # judging a message again is no resubmission of it: its own records are superseded quietly
        others = {index: e for index, e in earlier.items() if e.record_id not in own_ids}
        verdict = with_history(comparison.verdict, others)
        session.exec(delete(FindingRow).where(FindingRow.message_id == row.id, FindingRow.nominee_id.is_(None)))
        session.exec(delete(AttachmentRow).where(AttachmentRow.message_id == row.id,
                                                 AttachmentRow.nominee_id.is_(None)))
        filed = file_verdict(session, row, verdict, runtime.profile, earlier, now)
        reply = queue_reply(session, row, verdict, filed, runtime.profile, runtime.config.replies, now)
        if reply is not None and not send:
            reply.state, reply.held_reason = "held", "reprocessed"
            session.add(reply)
        audit(session, "message", row.id, "reprocessed", comparison.old_status, verdict.status, actor=actor)
        session.commit()
        return reply


def _own_current_nominees(session: Session, message_id: int) -> set[int]:
    return set(session.exec(select(NomineeRow.id).where(
        NomineeRow.message_id == message_id, NomineeRow.superseded_by.is_(None))).all())
