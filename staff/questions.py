"""Mail staff must read: questions (咨询) and other mail with text that is no nomination.

The machine files them as `ignored` (no automatic reply goes to a question) with
`staff_state = open`; staff answer one in plain words (threaded, audited, sent through the
outbox like any reply) or close it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from replies.notices import compose_answer
from replies.queue import enqueue, never_answered
from service.runtime import Runtime
from staff.lookup import Cancelled, ReviewError, find_message
from storage.db import session as new_session
from storage.filing import audit
from storage.models import MessageRow, ReplyRow
from storage.stored import stored_message


def answer(runtime: Runtime, key: str, text: str, actor: str, now: datetime,
           confirm: Callable[[ReplyRow], bool] = lambda reply: True) -> ReplyRow:
    """Queue staff's answer to the mail `key` (M5 or 5); `confirm` sees it before anything is kept."""
    if not text.strip():
        raise ReviewError("答复内容不能为空（--text）")
    with new_session(runtime.engine) as session:
        row = find_message(session, runtime.profile.id, key)
        question = stored_message(runtime.blobs, row, runtime.profile.limits)
        if question is None:
            raise ReviewError(f"邮件 M{row.id} 的原始邮件已删除（intake purge），无法答复")
        if reason := never_answered(question, runtime.profile, runtime.config.replies):
            raise ReviewError(f"邮件 M{row.id} 的发件人无法回复（{reason}）")
        email = compose_answer(question, text, runtime.profile, from_addr=runtime.config.replies.from_addr, now=now)
        reply = enqueue(session, row.id, question, email, runtime.profile, runtime.config.replies, now,
                        actor=actor, note="staff answer")
        reply.kind = "answer"
        before, row.staff_state = row.staff_state, "answered"
        session.add_all([reply, row])
        audit(session, "message", row.id, "answered", before, row.staff_state, actor=actor, note=f"reply {reply.id}")
        if not confirm(reply):
            session.rollback()
            raise Cancelled("答复未发送，未做任何更改")
        session.commit()
        return reply


def close(runtime: Runtime, key: str, actor: str) -> MessageRow:
    """Mark the mail read and settled: it leaves the list of what waits for staff."""
    with new_session(runtime.engine) as session:
        row = find_message(session, runtime.profile.id, key)
        before, row.staff_state = row.staff_state, "done"
        session.add(row)
        audit(session, "message", row.id, "done", before, "done", actor=actor)
        session.commit()
        return row
