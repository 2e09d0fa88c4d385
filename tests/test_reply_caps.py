"""The reply caps count the right replies, and only today's: a campaign's outbox grows all season.

Each message's reply asks four counts of the outbox (replies/caps.py). Counted through the whole
table, with each row's raw reply in it, they grew with every reply ever queued: 9.6 ms a message
at 500 replies, 160 ms at 20,000, in the service's one filing thread (bench/reply_caps.py; 1.8 ms
from the index, whatever the size).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event
from sqlmodel import Session

import campaigns
from replies.caps import cap_reached
from replies.settings import RepliesConfig
from storage.db import make_engine, migrate
from storage.filing import ensure_campaign
from testing.outbox import queue_reply

NOW = datetime(2017, 4, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


@pytest.fixture
def outbox(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/intake.db")
    migrate(engine)
    profile = campaigns.load("chongqing-bayu-2017")
    other = profile.model_copy(update={"id": "another-campaign"})
    with Session(engine) as session:
        ensure_campaign(session, profile)
        ensure_campaign(session, other)
        session.commit()
    yield engine, profile, other
    engine.dispose()


def _queue(engine, campaign_id: str, to: str, at: datetime, state: str = "sent", count: int = 1) -> None:
    with Session(engine) as session:
        for _ in range(count):
            queue_reply(session, campaign_id, to, at, state)
        session.commit()


def _cap(engine, profile, to: str, settings: RepliesConfig) -> str | None:
    with Session(engine) as session:
        return cap_reached(session, profile.id, to, profile, settings, NOW)


def test_the_campaign_cap_counts_this_campaigns_sent_and_pending_replies_of_the_hour(outbox):
    engine, profile, other = outbox
    settings = RepliesConfig(max_per_hour=3, max_per_day=100, max_per_domain_per_day=100)
    _queue(engine, other.id, "x@a.cn", NOW - timedelta(minutes=5), count=5)  # another campaign's outbox
    _queue(engine, profile.id, "y@b.cn", NOW - timedelta(minutes=5), state="held", count=5)  # went nowhere
    _queue(engine, profile.id, "z@c.cn", NOW - timedelta(hours=2), count=5)  # an earlier hour
    _queue(engine, profile.id, "w@d.cn", NOW - timedelta(minutes=10), count=2)
    assert _cap(engine, profile, "new@e.cn", settings) is None
    _queue(engine, profile.id, "v@f.cn", NOW - timedelta(minutes=1), state="pending")
    assert _cap(engine, profile, "new@e.cn", settings) == "campaign_cap"


def test_the_domain_cap_counts_todays_replies_to_that_domain_in_any_campaign(outbox):
    engine, profile, other = outbox
    settings = RepliesConfig(max_per_domain_per_day=2)
    _queue(engine, other.id, "a@unit.cn", NOW - timedelta(hours=1))
    _queue(engine, profile.id, "b@unit.cn", NOW - timedelta(days=1))  # yesterday
    assert _cap(engine, profile, "c@unit.cn", settings) is None
    _queue(engine, profile.id, "b@unit.cn", NOW - timedelta(minutes=1))
    assert _cap(engine, profile, "c@unit.cn", settings) == "domain_cap"


def test_the_cap_checks_read_todays_part_of_an_index_never_the_outbox_itself(outbox):
    engine, profile, _ = outbox
    for day in range(1, 4):
        _queue(engine, profile.id, f"u{day}@unit{day}.cn", NOW - timedelta(days=day), count=30)
    asked: list[tuple[str, tuple]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _k, statement, parameters, *_: asked.append((statement, parameters)))
    assert _cap(engine, profile, "new@unit1.cn", RepliesConfig()) is None
    counts = [(statement, parameters) for statement, parameters in asked if "FROM reply" in statement]
    assert len(counts) == 4
    with sqlite3.connect(engine.url.database) as connection:
        for statement, parameters in counts:
            plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            # a covering index: no row read, its raw reply included; from today's replies on (created_at)
            assert any("COVERING INDEX" in step and "created_at>" in step for step in plan), (statement, plan)
            assert not any(step.startswith("SCAN") or "SUBQUERY" in step for step in plan), (statement, plan)
