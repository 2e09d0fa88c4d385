"""Sending the outbox now: the one way every caller does it (the service's send job, `intake poll
--once`, a staff act from the command line or the console); and `intake poll --once` itself.

Each mailbox of an installation sends its own campaign's replies from its own address, under a
lock named for that campaign; a caller that took another lock or no campaign scope could send a
reply the service is sending at the same moment, twice, or from the wrong address."""

from __future__ import annotations

from typing import Callable

from core.times import utcnow
from replies.outbox import SendReport, send_due
from service import stagetimes
from service.intake import Intake, PollReport
from service.lock import exclusive, poll_lock, send_lock, send_scope
from service.runtime import Runtime


def send_outbox(runtime: Runtime, transport=None) -> SendReport:
    """Send what is due of this runtime's replies, under its send lock. Raises `service.lock.Busy`
    when another process is sending them: they go with it."""
    with exclusive(runtime.config.data_path, runtime.engine, send_lock(runtime)):
        return send_due(runtime.engine, transport or runtime.transport(), runtime.config.replies, utcnow,
                        campaigns=send_scope(runtime))


def poll_and_send(runtime, progress: Callable[[PollReport], None] = lambda report: None):
    """One poll and one send, each under its cross-process lock: what `intake poll --once` does."""
    source = runtime.source()
    try:
        with exclusive(runtime.config.data_path, runtime.engine, poll_lock(runtime.config, source.account)) as held:
            intake = Intake(runtime.config, runtime.profile, runtime.engine, source, blobs=runtime.blobs)
            report = intake.poll_once(should_stop=held.lost, progress=progress)
    finally:
        source.close()
    with stagetimes.stage("send"):
        sent = send_outbox(runtime)
    stagetimes.write()
    return report, sent
