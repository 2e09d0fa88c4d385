"""`intake status`: messages by state and verdict, replies by state, the last poll, what failed, forwards."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import func, select

from core import inert, words
from core.times import second
from nominees.masking import mask_numbers_in
from storage.db import session as new_session
from storage.models import ForwardMessageRow, ForwardRow, MailboxState, MessageRow, ReplyRow
from storage.queries import forwarded_ids, waiting_to_forward


def _counts(counts: dict, table: dict[str, str]) -> str:
    return "，".join(f"{words.word(table, key)} {count}" for key, count in sorted(counts.items(), key=str)) or "无"


def campaigns_to_show(runtimes: list, everything: bool) -> list:
    """The runtimes whose campaigns `status` shows: the config's (each of its mailboxes), or with
    --all every campaign that has mail in the database (shown with the first mailbox's settings)."""
    if not everything:
        return runtimes
    import campaigns
    from storage.models import CampaignRow

    with new_session(runtimes[0].engine) as session:
        ids = sorted(session.exec(select(CampaignRow.id)).all())
    known = {r.profile.id: r for r in runtimes}
    shown = list(runtimes)
    for campaign_id in ids:
        if campaign_id not in known:
            try:
                profile = campaigns.load(campaign_id, runtimes[0].config.profile_path)
            except campaigns.ProfileError:
                profile = runtimes[0].profile.model_copy(update={"id": campaign_id, "title": "（找不到其配置）",
                                                                 "forwards_to": None})
            shown.append(replace(runtimes[0], profile=profile))
    return shown


def status_lines(runtime) -> list[str]:
    """One campaign's status: its mail, its replies, its mailbox's last poll, its failing jobs."""
    from service.jobs import last_states, state_line

    campaign = runtime.profile.id
    with new_session(runtime.engine) as session:
        mine = MessageRow.campaign_id == campaign
        by_state = dict(session.exec(select(MessageRow.state, func.count()).where(mine)
                                     .group_by(MessageRow.state)).all())
        by_status = dict(session.exec(select(MessageRow.status, func.count())
                                      .where(mine, MessageRow.state == "filed").group_by(MessageRow.status)).all())
        replies = dict(session.exec(select(ReplyRow.state, func.count()).where(_replies_of(campaign))
                                    .group_by(ReplyRow.state)).all())
        polls = [state for state in session.exec(select(MailboxState)).all() if _polled_for(session, state, runtime)]
        problems = session.exec(select(MessageRow).where(mine, MessageRow.state.in_(("failed", "quarantined")))
                                .order_by(MessageRow.id)).all()
    failing = [state_line(row) for row in last_states(runtime.engine, (campaign,))]
    lines = [f"评选活动：{runtime.profile.id}（{runtime.profile.title}）",
             f"邮件：{_counts(by_state, words.MESSAGE_STATE)}",
             f"已登记邮件的结果：{_counts(by_status, words.STATUS)}",
             f"回复：{_counts(replies, words.REPLY_STATE)}"]
    for state in polls:
        lines.append(f"邮箱 {state.account} {state.folder}：上次收取 {second(state.last_poll_at)}，UID {state.last_uid}")
        if state.last_error:
            lines.append(f"  上次收取中断：{inert.one_line(state.last_error)[:300]}")
    lines += failing
    lines += forward_lines(runtime)
    for row in problems:
        lines.append(f"问题邮件 M{row.id}（{words.MESSAGE_STATE[row.state]}，已试{row.attempts}次）："
                     f"{mask_numbers_in(inert.one_line(row.last_error))[:300]}")
    return lines


def _replies_of(campaign: str):
    """A campaign's replies: by their campaign, or (queued before 0007) by their message's."""
    from sqlalchemy import or_

    of_message = select(MessageRow.id).where(MessageRow.campaign_id == campaign)
    return or_(ReplyRow.campaign_id == campaign,
               (ReplyRow.campaign_id.is_(None)) & (ReplyRow.message_id.in_(of_message)))


def _polled_for(session, state: MailboxState, runtime) -> bool:
    """This campaign's mailbox folder: the one its config names, or one its mail came from."""
    if runtime.config.campaign == runtime.profile.id and state.folder == runtime.config.mailbox.folder:
        if _account_of(runtime) == state.account:
            return True
    return session.exec(select(MessageRow.id).where(MessageRow.campaign_id == runtime.profile.id,
                                                    MessageRow.account == state.account,
                                                    MessageRow.folder == state.folder)).first() is not None


def _account_of(runtime) -> str | None:
    try:
        return runtime.source().account
    except Exception:  # noqa: BLE001 - a mailbox set up wrongly has no account to name
        return None


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
