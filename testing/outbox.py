"""Replies in an outbox as the service leaves them (a filed message, its reply), for the reply caps' tests and bench."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlmodel import Session

from storage.models import MessageRow, ReplyRow

_UIDS = itertools.count(1)  # each message its own mailbox uid, as the ledger's unique key wants


def queue_reply(session: Session, campaign_id: str, to: str, at: datetime, state: str = "sent",
                raw: bytes = b"x" * 8000) -> ReplyRow:
    """A message from `to` filed at `at`, and our reply to it queued then in `state` (not committed)."""
    uid = next(_UIDS)
    message = MessageRow(campaign_id=campaign_id, account="a", folder="INBOX", uidvalidity=1, uid=uid,
                         raw_sha256=f"{uid:064x}", raw_size=1, received_at=at, received_at_source="imap",
                         state="filed", from_addr=to, filed_at=at)
    session.add(message)
    session.flush()
    reply = ReplyRow(message_id=message.id, to_addr=to, subject="回执", reply_message_id=f"<{message.id}@outbox>",
                     raw=raw, state=state, created_at=at, campaign_id=campaign_id)
    session.add(reply)
    return reply
