"""The reply caps' counts for one message as the outbox grows: ms a message.

    .venv/bin/python -m bench.reply_caps [--sizes 500,5000,20000]

For each size N, a throwaway SQLite database (the service's own schema, migrated) holds N sent
replies of 8 KB each, one every two minutes back from now (about two weeks at 10,000), to 50
domains; then the caps a new message's reply is checked against (replies/caps.py `cap_reached`
and `keeps_answering_us`, five counts) are asked 20 times, for 20 new senders, and the mean
time printed. A cap check that reads today's replies only stays flat as N grows.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone


def measure(size: int) -> float:
    from sqlmodel import Session

    import campaigns
    from replies.caps import cap_reached, keeps_answering_us
    from replies.settings import RepliesConfig
    from storage.db import make_engine, migrate
    from storage.filing import ensure_campaign
    from testing.outbox import queue_reply

    now = datetime(2026, 12, 5, 8, 0, tzinfo=timezone.utc)
    profile = campaigns.load("chongqing-bayu-2017")
    settings = RepliesConfig()
    rng = random.Random(size)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/intake.db")
        migrate(engine)
        with Session(engine) as session:
            ensure_campaign(session, profile)
            for n in range(size):
                queue_reply(session, profile.id, f"unit{n}@d{n % 50}.example.cn", now - timedelta(minutes=2 * n),
                            raw=rng.randbytes(8000))
            session.commit()
        with Session(engine) as session:
            started = time.perf_counter()
            for k in range(20):
                sender = f"new{k}@d{k % 50}.example.cn"
                cap_reached(session, profile.id, sender, profile, settings, now)
                keeps_answering_us(session, profile.id, sender, now, settings)
            elapsed = (time.perf_counter() - started) / 20
        engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,5000,20000")
    args = parser.parse_args()
    measure(50)  # the imports and SQLAlchemy's first compilations, not counted
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"{size:>7} replies in the outbox: {measure(size) * 1000:6.1f} ms for a message's cap checks")


if __name__ == "__main__":
    main()
