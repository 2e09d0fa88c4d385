"""Putting a message's reply into the outbox, or holding it for staff, inside the caller's transaction.

Both the machine's reply (filing) and the reply to a staff decision go through `enqueue`, so
the hold rules (forged senders, a Reply-To elsewhere, loops, caps) are the same for both.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage

from sqlmodel import Session

from campaigns.schema import Profile
from ingest.types import Message
from replies.addressing import addressing
from replies.caps import cap_reached, keeps_answering_us
from replies.compose import compose_reply
from replies.policy import sender_check, should_never_reply
from replies.settings import RepliesConfig
from storage.filing import MACHINE, FiledNominee, audit
from storage.models import MessageRow, ReplyRow
from validators.evaluate import Verdict

log = logging.getLogger("intake")


def hold_reason(session: Session, campaign_id: str, message: Message, profile: Profile, settings: RepliesConfig,
                now: datetime) -> str | None:
    """Why this reply must wait for staff, or None: a forged sender, a Reply-To elsewhere, a loop, a cap."""
    if settings.hold_on_failed_authentication and sender_check(message, settings.authserv_ids) == "fail":
        return "authentication_failed"
    to = addressing(message)
    if to.hold:
        return to.hold
    if keeps_answering_us(session, campaign_id, message.from_addr, now, settings):
        return "loop_suspected"
    return cap_reached(session, campaign_id, to.recipient, profile, settings, now)


def never_answered(message: Message, profile: Profile, settings: RepliesConfig) -> str | None:
    """Why this mail gets no reply at all (our own address, MAILER-DAEMON, no-reply), or None."""
    return should_never_reply(message, {settings.from_addr.lower(), profile.mailbox.lower()})


def enqueue(session: Session, message_id: int, message: Message, email: EmailMessage, profile: Profile,
            settings: RepliesConfig, now: datetime, actor: str = MACHINE, note: str = "",
            hold: str | None = None) -> ReplyRow:
    """The reply, pending or held (for `hold`, or by the hold rules), in the outbox; audited."""
    held = hold or hold_reason(session, profile.id, message, profile, settings, now)
    reply = ReplyRow(message_id=message_id, to_addr=addressing(message).recipient, subject=str(email["Subject"]),
                     reply_message_id=str(email["Message-ID"]), raw=email.as_bytes(),
                     state="held" if held else "pending", held_reason=held, created_at=now,
                     campaign_id=profile.id)
    session.add(reply)
    session.flush()
    audit(session, "reply", reply.id, "queued", None, reply.state, actor=actor, note=held or note)
    if held:
        log.warning("邮件 M%s 的回复已暂扣，待工作人员处理：%s", message_id, held)
    return reply


def queue_reply(session: Session, row: MessageRow, verdict: Verdict, filed: list[FiledNominee],
                profile: Profile, settings: RepliesConfig, now: datetime, hold: str | None = None) -> ReplyRow | None:
    """The message's one reply, pending or held; None where no reply is ever sent."""
    if verdict.status == "ignored":
        return None
    if reason := never_answered(verdict.message, profile, settings):
        log.info("邮件 M%s 不回复：%s", row.id, reason)
        audit(session, "message", row.id, "no_reply", note=reason)
        return None
    email = compose_reply(verdict, profile, intake_numbers=[f.intake_number for f in filed],
                          from_addr=settings.from_addr, now=now)
    return enqueue(session, row.id, verdict.message, email, profile, settings, now, hold=hold)
