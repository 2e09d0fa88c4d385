"""A slow message does not leave the other judging worker idle.

A form that came only as a scan is read by OCR for seconds. The service files verdicts in arrival
order, so it waits for that one; meanwhile it must go on taking new mail and handing it to the
other worker, or that worker sits idle for as long (bench/intake_speed.py: about a tenth of the
run's time on two cores when four verdicts at most were awaited)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import service.judging
from testing.service import ARRIVED, nomination, poll_in_workers, records, write_config

SLOW_SECONDS = 5.0
QUICK = 12
_LOG = "INTAKE_TEST_JUDGED_LOG"
_JUDGE_STORED = service.judging._judge_stored


def _judged_and_logged(sha256: str, received_at):
    """The worker's judging, the slow message made slower still, each end written to a log (in the worker)."""
    blobs, _ = service.judging._worker_state
    slow = b"<n1@unit.example.cn>" in blobs.get(sha256)
    if slow:
        time.sleep(SLOW_SECONDS)
    judged = _JUDGE_STORED(sha256, received_at)
    with open(os.environ[_LOG], "a") as log:
        log.write(f"{time.monotonic()} {'slow' if slow else 'quick'}\n")
    return judged


def test_while_a_slow_message_is_judged_the_other_worker_judges_the_mail_after_it(tmp_path: Path, mailbox,
                                                                                  smtp_server, monkeypatch):
    for n in range(QUICK + 2):  # the first is judged in the service itself, the second is the slow one
        mailbox.append(nomination(n), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    log = tmp_path / "judged.log"
    monkeypatch.setenv(_LOG, str(log))
    monkeypatch.setattr(service.judging, "_judge_stored", _judged_and_logged)  # the workers are forked from here
    poll_in_workers(config)
    ends = [line.split() for line in log.read_text().splitlines()]
    slow_end = next(float(at) for at, kind in ends if kind == "slow")
    before = [kind for at, kind in ends if kind == "quick" and float(at) < slow_end]
    assert len(before) >= QUICK - 2, ends  # not only the few verdicts awaited at once before
    messages, _, _ = records(config)
    assert [m.state for m in messages] == ["filed"] * (QUICK + 2)
