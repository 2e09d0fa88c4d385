"""How many automatic replies may go: to one address and one domain a day, from the campaign an hour and a day.

Caps stop the campaign's own address being turned on others (a hundred crafted mails for a
hundred strangers, a forged domain) and an auto-responder playing ping-pong. A reply over a
cap is held for staff, never dropped; `intake review list` shows it and `release` lets it go.
Staff answers and decisions are people's acts and are not capped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from campaigns.schema import Profile
from core.times import start_of_day
from replies.settings import RepliesConfig
from storage.models import MessageRow, ReplyRow

_COUNTED = ("pending", "sent")  # held ones went nowhere


def _replies_since(session: Session, since: datetime, *conditions) -> int:
    return session.exec(select(func.count()).select_from(ReplyRow).where(
        ReplyRow.created_at >= since, ReplyRow.state.in_(_COUNTED), ReplyRow.kind == "reply", *conditions)).one()


def replies_today(session: Session, address: str, now: datetime) -> int:
    return _replies_since(session, start_of_day(now), ReplyRow.to_addr == address)


def cap_reached(session: Session, campaign_id: str, recipient: str, profile: Profile, settings: RepliesConfig,
                now: datetime) -> str | None:
    """The cap this reply would go over, or None."""
    if replies_today(session, recipient, now) >= profile.replies.max_per_address_per_day:
        return "daily_cap"
    domain = recipient.rsplit("@", 1)[-1]
    if _replies_since(session, start_of_day(now), ReplyRow.to_addr.like(f"%@{domain}")) >= settings.max_per_domain_per_day:
        return "domain_cap"
    ours = ReplyRow.campaign_id == campaign_id  # not through its messages: a list of all of them, each time
    if (_replies_since(session, now - timedelta(hours=1), ours) >= settings.max_per_hour
            or _replies_since(session, start_of_day(now), ours) >= settings.max_per_day):
        return "campaign_cap"
    return None


def keeps_answering_us(session: Session, campaign_id: str, sender: str | None, now: datetime,
                       settings: RepliesConfig) -> bool:
    """A sender whose mails keep answering our replies (an auto-responder without Auto-Submitted):
    after `replies.max_answers_per_day` such mails in a day, what we would say goes to staff first."""
    if not sender:
        return False
    answers = session.exec(select(func.count()).select_from(MessageRow).where(
        MessageRow.campaign_id == campaign_id, MessageRow.from_addr == sender,
        MessageRow.filed_at >= now - timedelta(days=1),
        MessageRow.in_reply_to.in_(select(ReplyRow.reply_message_id)))).one()
    return answers > settings.max_answers_per_day
