"""A slow message does not leave the other judging workers idle.

A form that came only as a scan is read by OCR for seconds. The service files verdicts in arrival
order, so it waits for that one; meanwhile it must already have handed the mail after it to the
other worker, or that worker sits idle for as long (bench/intake_speed.py: about a tenth of the
run's time on two cores when four verdicts at most were awaited, and still a tenth at eight a
worker: a scan takes about as long as ten other messages, so each worker needs more than that
ahead). How far ahead stays bounded: the service waits once that many are out."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

from service.judging import Judging, Pending
from testing.service import ARRIVED, nomination, poll_in_workers, records, write_config

QUICK = 40
SLOW = "<n0@unit.example.cn>"


class SlowFirst(Judging):
    """The service's judging, as deep as it is, but judged here: the first message's verdict is the
    slow one, and when the service has to wait for it, how much mail it had handed out is noted."""

    def __init__(self, blobs, profile):
        super().__init__(blobs, profile, workers=2)  # the two of this machine, whatever runs the test
        self.raw: dict[str, bytes] = {}
        self.handed_out_when_waiting: int | None = None

    def submit(self, sha256: str, raw: bytes, received_at) -> Pending:
        self.raw[sha256] = raw
        future: Future = Future()
        if SLOW.encode() not in raw:
            future.set_result(self._judged_here(raw, received_at).result())
        return Pending(sha256, received_at, future, 0)

    def verdict(self, pending: Pending):
        if not pending.future.done():  # the slow one, its verdict not in yet: the service waits here
            self.handed_out_when_waiting = len(self.raw)
            pending.future.set_result(self._judged_here(self.raw[pending.sha256], pending.received_at).result())
        return super().verdict(pending)


def test_while_a_slow_message_is_judged_the_mail_after_it_is_already_handed_out(tmp_path: Path, mailbox,
                                                                                  smtp_server):
    for n in range(QUICK + 1):
        mailbox.append(nomination(n), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    judging = poll_in_workers(config, SlowFirst)
    # enough handed out to cover a scan's reading on the other worker (ten messages and more
    # each), and no more than the service awaits at once
    assert judging.handed_out_when_waiting >= 25
    assert judging.handed_out_when_waiting == judging.ahead + 1
    messages, _, _ = records(config)
    assert [m.state for m in messages] == ["filed"] * (QUICK + 1)
