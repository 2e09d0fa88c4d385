"""Putting a message's one reply into the outbox, or holding it for staff, in the filing transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, func, select

from campaigns.schema import Profile
from intake.config import RepliesConfig
from replies.compose import compose_reply
from replies.policy import reply_recipient, sender_authentication_failed, should_never_reply
from storage.filing import FiledNominee, audit
from storage.models import MessageRow, ReplyRow
from validators.evaluate import Verdict

log = logging.getLogger("intake")
SHANGHAI = timezone(timedelta(hours=8))


def _start_of_day(now: datetime) -> datetime:
    local = now.astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def replies_today(session: Session, address: str, now: datetime) -> int:
    return session.exec(select(func.count()).select_from(ReplyRow).where(
        ReplyRow.to_addr == address, ReplyRow.created_at >= _start_of_day(now),
        ReplyRow.state.in_(("pending", "sent")))).one()


def hold_reason(session: Session, verdict: Verdict, recipient: str, profile: Profile,
                settings: RepliesConfig, now: datetime) -> str | None:
    trusted = settings.authserv_ids or None
    if settings.hold_on_failed_authentication and sender_authentication_failed(verdict.message, trusted):
        return "authentication_failed"
    if replies_today(session, recipient, now) >= profile.replies.max_per_address_per_day:
        return "daily_cap"
    return None


def queue_reply(session: Session, row: MessageRow, verdict: Verdict, filed: list[FiledNominee],
                profile: Profile, settings: RepliesConfig, now: datetime) -> ReplyRow | None:
    """The message's one reply, pending or held; None where no reply is ever sent."""
    if verdict.status == "ignored":
        return None
    own = {settings.from_addr.lower(), profile.mailbox.lower()}
    if reason := should_never_reply(verdict.message, own):
        log.info("邮件 #%s 不回复：%s", row.id, reason)
        audit(session, "message", row.id, "no_reply", note=reason)
        return None
    recipient = reply_recipient(verdict.message)
    email = compose_reply(verdict, profile, intake_numbers=[f.intake_number for f in filed],
                          from_addr=settings.from_addr, now=now)
    held = hold_reason(session, verdict, recipient, profile, settings, now)
    reply = ReplyRow(message_id=row.id, to_addr=recipient, subject=str(email["Subject"]),
                     reply_message_id=str(email["Message-ID"]), raw=email.as_bytes(),
                     state="held" if held else "pending", held_reason=held, created_at=now)
    session.add(reply)
    session.flush()
    audit(session, "reply", reply.id, "queued", None, reply.state, note=held or "")
    if held:
        log.warning("邮件 #%s 的回复已暂扣，待工作人员处理：%s", row.id, held)
    return reply
