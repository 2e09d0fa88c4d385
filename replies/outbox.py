"""Sending the outbox: each pending reply once, retried with backoff on 4xx, failed on 5xx."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import select

from core import failpoints
from replies.settings import RepliesConfig
from replies.transport import PermanentSendError, SendConfigurationError, TransientSendError
from storage.db import session as new_session
from storage.filing import audit
from storage.models import ReplyRow

log = logging.getLogger("intake")


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    configuration_error: str | None = None
    configuration_exception: Exception | None = None  # the error itself, for service/diagnose.py


def send_due(engine: Engine, transport, settings: RepliesConfig, clock: Callable[[], datetime],
             limit: int = 200, campaigns: tuple[str, ...] | None = None) -> SendReport:
    """Send what is due, oldest first. A reply is marked sent only after the server took it.

    `campaigns`: only these campaigns' replies (each mailbox of an installation sends its own, from
    its own address and server); replies queued before replies knew their campaign (campaign
    None) go with the first mailbox's. None: every reply (an installation of one mailbox)."""
    report = SendReport()
    now = clock()
    whose = []
    if campaigns is not None:
        named = ReplyRow.campaign_id.in_([c for c in campaigns if c])
        whose = [or_(named, ReplyRow.campaign_id.is_(None)) if None in campaigns else named]
    with new_session(engine) as session:
        due = session.exec(
            select(ReplyRow)
            .where(ReplyRow.state == "pending",
                   or_(ReplyRow.next_attempt_at.is_(None), ReplyRow.next_attempt_at <= now), *whose)
            .order_by(ReplyRow.id)
            .limit(limit)
        ).all()
    for reply in due:
        try:
            transport.send(reply.raw, settings.from_addr, [reply.to_addr])
        except SendConfigurationError as exc:
            # our own setup is wrong (password, certificate): no reply is to blame, none loses a try
            report.configuration_error, report.configuration_exception = str(exc), exc
            log.error("回复发送配置有误，已暂停发送，请工作人员检查（intake doctor）：%s", exc)
            break
        except TransientSendError as exc:
            _retry_later(engine, reply.id, str(exc), settings, now, report)
        except PermanentSendError as exc:
            _mark(engine, reply.id, "failed", str(exc))
            report.failed.append(reply.id)
            log.error("回复 %s（邮件 M%s）发往 %s 被拒收，不再重试：%s", reply.id, reply.message_id, reply.to_addr, exc)
        else:
            failpoints.reached("after_send")
            _mark(engine, reply.id, "sent", None, sent_at=clock())
            report.sent.append(reply.id)
    return report


def _mark(engine: Engine, reply_id: int, state: str, error: str | None, sent_at: datetime | None = None) -> None:
    with new_session(engine) as session:
        reply = session.get(ReplyRow, reply_id)
        before = reply.state
        reply.state, reply.last_error, reply.attempts = state, error, reply.attempts + 1
        reply.sent_at = sent_at or reply.sent_at
        session.add(reply)
        audit(session, "reply", reply_id, state, before, state, note=error or "")
        session.commit()


def _retry_later(engine: Engine, reply_id: int, error: str, settings: RepliesConfig, now: datetime,
                 report: SendReport) -> None:
    with new_session(engine) as session:
        reply = session.get(ReplyRow, reply_id)
        reply.attempts += 1
        reply.last_error = error
        if reply.attempts >= settings.max_attempts:
            reply.state = "failed"
            report.failed.append(reply_id)
            log.error("回复 %s（邮件 M%s）发送 %s 次仍失败，已停止重试：%s", reply_id, reply.message_id, reply.attempts, error)
        else:
            delay = settings.first_retry_seconds * 2 ** (reply.attempts - 1)
            reply.next_attempt_at = now + timedelta(seconds=delay)
            report.retrying.append(reply_id)
            log.warning("回复 %s（邮件 M%s）暂时发送失败，%d秒后重试：%s", reply_id, reply.message_id, delay, error)
        session.add(reply)
        audit(session, "reply", reply_id, "attempt", "pending", reply.state, note=error)
        session.commit()

