"""The office told by mail: a digest of a Beijing day's intake, and what waits for staff.

Staff read the intake log and the replies; the log stays on the server, so every morning (and
on the deadline day right after 24:00) it goes to the office's own addresses (`[notify]`):
the day's counts, each message with its nominees, outcomes and numbers, and the review queue
with the command that acts on each line. It goes through the outbox and transport the replies
use, never to a sender, and every personal number in it is masked.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlmodel import select

from core import words
from core.times import minute
from nominees.masking import mask_numbers_in
from replies.notices import compose_notice
from service.daylog import day_messages, message_entry, totals_line
from service.runtime import Runtime
from service.waiting import queue, waiting_lines
from storage.db import session as new_session
from storage.filing import audit
from storage.models import NomineeRow, ReplyRow


def subject_of(runtime: Runtime, day: date, after_deadline: bool = False) -> str:
    when = "截止后汇总" if after_deadline else "收件日报"
    return f"【{when}】{runtime.profile.title} {day.isoformat()}"


def body_of(runtime: Runtime, day: date, now: datetime) -> str:
    with new_session(runtime.engine) as session:
        rows = day_messages(session, runtime.profile.id, day)
        nominees = session.exec(select(NomineeRow).where(NomineeRow.message_id.in_([r.id for r in rows]))).all()
        entries = [line for row in rows for line in message_entry(session, row) + [""]]
    counts = Counter(words.word(words.STATUS, n.status) for n in nominees)
    people = "，".join(f"{word} {count}" for word, count in sorted(counts.items())) or "无"
    lines = [f"{runtime.profile.title} 收件日报（{day.isoformat()}，北京时间）", "",
             "一、当日收件", f"{totals_line(rows)}", f"被推荐人 {len(nominees)} 人：{people}", "", *entries,
             f"二、待工作人员处理（截至 {minute(now)}）", *waiting_lines(queue(runtime)), "",
             "以上编号：M 开头的是邮件，# 开头的是被推荐人（intake review show 编号）。身份证号、电话已隐去部分数字。"]
    return mask_numbers_in("\n".join(lines)) + "\n"


def queue_digest(runtime: Runtime, day: date, now: datetime, after_deadline: bool = False) -> list[ReplyRow]:
    """The digest in the outbox, one mail per office address; a digest already queued is not queued again."""
    addresses = runtime.config.notify.addresses
    subject = subject_of(runtime, day, after_deadline)
    body = body_of(runtime, day, now)
    queued = []
    with new_session(runtime.engine) as session:
        for address in addresses:
            if session.exec(select(ReplyRow).where(ReplyRow.kind == "digest", ReplyRow.to_addr == address,
                                                   ReplyRow.subject == subject)).first() is not None:
                continue
            email = compose_notice(runtime.profile, to=address, subject=subject, body=body,
                                   from_addr=runtime.config.replies.from_addr, now=now)
            reply = ReplyRow(message_id=None, kind="digest", to_addr=address, subject=subject,
                             reply_message_id=str(email["Message-ID"]), raw=email.as_bytes(), created_at=now,
                             campaign_id=runtime.profile.id)
            session.add(reply)
            session.flush()
            audit(session, "reply", reply.id, "queued", None, "pending", note=f"digest {day.isoformat()}")
            queued.append(reply)
        session.commit()
    return queued
