"""`intake status`: messages by state and verdict, replies by state, the last poll, what failed, forwards."""

from __future__ import annotations

from sqlmodel import func, select

from core import inert, words
from core.times import second
from nominees.masking import mask_numbers_in
from storage.db import session as new_session
from storage.models import ForwardMessageRow, ForwardRow, MailboxState, MessageRow, ReplyRow
from storage.queries import forwarded_ids, waiting_to_forward


def _counts(counts: dict, table: dict[str, str]) -> str:
    return "，".join(f"{words.word(table, key)} {count}" for key, count in sorted(counts.items(), key=str)) or "无"


def status_lines(runtime) -> list[str]:
    with new_session(runtime.engine) as session:
        by_state = dict(session.exec(select(MessageRow.state, func.count()).group_by(MessageRow.state)).all())
        by_status = dict(session.exec(select(MessageRow.status, func.count())
                                      .where(MessageRow.state == "filed").group_by(MessageRow.status)).all())
        replies = dict(session.exec(select(ReplyRow.state, func.count()).group_by(ReplyRow.state)).all())
        polls = session.exec(select(MailboxState)).all()
        problems = session.exec(select(MessageRow).where(MessageRow.state.in_(("failed", "quarantined")))
                                .order_by(MessageRow.id)).all()
    lines = [f"评选活动：{runtime.profile.id}（{runtime.profile.title}）",
             f"邮件：{_counts(by_state, words.MESSAGE_STATE)}",
             f"已登记邮件的结果：{_counts(by_status, words.STATUS)}",
             f"回复：{_counts(replies, words.REPLY_STATE)}"]
    for state in polls:
        lines.append(f"邮箱 {state.account} {state.folder}：上次收取 {second(state.last_poll_at)}，UID {state.last_uid}")
        if state.last_error:
            lines.append(f"  上次收取中断：{inert.one_line(state.last_error)[:300]}")
    lines += forward_lines(runtime)
    for row in problems:
        lines.append(f"问题邮件 M{row.id}（{words.MESSAGE_STATE[row.state]}，已试{row.attempts}次）："
                     f"{mask_numbers_in(inert.one_line(row.last_error))[:300]}")
    return lines


def forward_lines(runtime) -> list[str]:
    """A district's forwards upward: how many went, how many accepted nominees still wait."""
    if not runtime.profile.forwards_to:
        return []
    with new_session(runtime.engine) as session:
        mails = dict(session.exec(select(ForwardMessageRow.state, func.count())
                                  .join(ForwardRow, ForwardRow.id == ForwardMessageRow.forward_id)
                                  .where(ForwardRow.campaign_id == runtime.profile.id)
                                  .group_by(ForwardMessageRow.state)).all())
        carried = len(forwarded_ids(session, runtime.profile.id))
        left = len(waiting_to_forward(session, runtime.profile.id))
    states = "，".join(f"{word} {mails[state]}" for state, word in words.FORWARD_STATE.items() if state in mails)
    return [f"报送上级（{runtime.profile.forwards_to}）：邮件 {states or '尚未报送'}；已报送 {carried} 人，受理待报送 {left} 人"]
