"""A district's forward to a city served by the same installation: filed straight into the city's
intake, as an ordinary submission of the city (the same checks, the same records, a receipt to the
district's address), with no mail on the way.

The batch is composed exactly as for the mail (forward/forward.py): the same e-mails, recorded the
same way; then, instead of SMTP, each is handed to the city's intake through an internal source
(ingest/sources/internal.py), under the city's poll lock, so the city's own poll and this never
file at once. What the city filed is recorded against each forward message (its state `sent`, the
audit naming the city's mail number).
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlmodel import select

from ingest.sources.internal import InternalSource
from service.intake import Intake
from service.lock import Busy, exclusive, poll_lock
from service.runtime import Runtime
from storage.db import session as new_session
from storage.filing import audit
from storage.models import ForwardMessageRow, ForwardRow, MessageRow

WAIT_FOR_CITY_SECONDS = 120  # the city's poll in hand ends within this (it is waited for, then tried again)


class CityBusy(Exception):
    """The city's intake kept its lock longer than we wait; nothing was filed, the next run delivers."""


def deliver_inside(runtime: Runtime, city: Runtime, actor: str, now: datetime) -> tuple[list, list[int]]:
    """File every forward message of this district not delivered yet; (rows delivered, the city's mail ids)."""
    with new_session(runtime.engine) as session:
        rows = list(session.exec(select(ForwardMessageRow).join(ForwardRow)
                                 .where(ForwardRow.campaign_id == runtime.profile.id,
                                        ForwardRow.delivery == "installation",
                                        ForwardMessageRow.state.in_(("pending", "failed")))
                                 .order_by(ForwardMessageRow.id)).all())
    if not rows:
        return [], []
    blobs = runtime.blobs
    source = InternalSource(runtime.profile.id, [(row.id, blobs.get(row.raw_sha256)) for row in rows], now)
    city_account = city.source().account
    deadline = time.monotonic() + WAIT_FOR_CITY_SECONDS
    while True:
        try:
            with exclusive(city.config.data_path, city.engine, poll_lock(city.config, city_account)):
                report = Intake(city.config, city.profile, city.engine, source, clock=lambda: now,
                                blobs=city.blobs).poll_once()
            break
        except Busy:
            if time.monotonic() > deadline:
                raise CityBusy(f"{city.profile.id} 的收件正在进行，等了 {WAIT_FOR_CITY_SECONDS} 秒仍未结束：请稍后再运行 "
                               "intake forward（本批已记录，届时直接登记）") from None
            time.sleep(2)
    return _note_delivered(runtime, city, rows, source.account, actor, now), report.filed


def _note_delivered(runtime: Runtime, city: Runtime, rows: list, account: str, actor: str, now: datetime) -> list:
    delivered = []
    with new_session(runtime.engine) as session:
        for row in rows:
            filed = session.exec(select(MessageRow).where(MessageRow.account == account, MessageRow.uid == row.id,
                                                          MessageRow.campaign_id == city.profile.id)).first()
            current = session.get(ForwardMessageRow, row.id)
            if filed is None or filed.state not in ("filed", "quarantined"):
                current.state = "failed"
                current.last_error = (filed.last_error if filed is not None else None) or "市里的收件未能登记，下次重试"
                current.attempts += 1
                continue
            current.state, current.sent_at, current.last_error = "sent", now, None
            current.attempts += 1
            audit(session, "forward_message", row.id, "sent", actor=actor,
                  note=f"{row.subject} → {city.profile.id} in this installation as M{filed.id}, no mail")
            delivered.append(current)
        session.commit()
    return delivered
