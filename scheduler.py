"""The background service: APScheduler runs the same steps the command line runs once.

Jobs, for each mailbox of the installation on its own (service/jobs.py): poll the mailbox
(woken early by IMAP IDLE where the server offers it), send the outbox, write the intake log of
the Beijing day just ended, and mail the office its digest (each morning, and on the deadline
day right after 24:00). One instance of each at a time; a missed run is coalesced, not
repeated. SIGTERM/SIGINT finish the message in hand, then stop; a second one exits at once (the
next start repairs whatever was in hand: service/intake.py).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import datetime, timedelta

from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.times import SHANGHAI, utcnow
from service import logs
from service.dburl import shown_url
from service.jobs import IDLE_WAIT_SECONDS, MailboxJobs
from service.runtime import Runtime

__all__ = ["IDLE_WAIT_SECONDS", "Service", "STARTED"]

log = logging.getLogger("intake")
STARTED = "intake 服务已启动"


class Service:
    """The long-running process: owns the scheduler, the stop flag, and each mailbox's jobs."""

    def __init__(self, runtimes: Runtime | list[Runtime], companions=()):
        runtimes = [runtimes] if isinstance(runtimes, Runtime) else list(runtimes)
        self.runtime = runtimes[0]  # the installation's shared settings (data folder, database, schedule)
        self.companions = list(companions)  # started and stopped with the service: the web console
        self.stopping = threading.Event()
        self._stopper: threading.Thread | None = None
        self.scheduler = BlockingScheduler(timezone="Asia/Shanghai",
                                           job_defaults={"max_instances": 1, "coalesce": True,
                                                         "misfire_grace_time": 300})
        single = len(runtimes) == 1
        self.mailboxes = [MailboxJobs(r, self.stopping, self._wake, single) for r in runtimes]

    def _wake(self, job_id: str) -> None:
        if self.scheduler.state == STATE_RUNNING and not self.stopping.is_set():
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(SHANGHAI))

    def stop(self, signum=None, _frame=None) -> None:
        """The first SIGTERM/SIGINT: the poll jobs see the flag and end after their message. The
        scheduler is shut down from a thread of its own: the handler runs inside whatever the main
        thread was doing (the scheduler's loop, holding its locks), and waiting there for the jobs
        to end could wait for ever (a SIGTERM once went unanswered for 60 s in CI). A second signal
        ends the process at once: whatever was in hand is repaired by the next start."""
        if self.stopping.is_set():
            log.warning("再次收到停止信号：立即退出（正在处理的邮件由下次启动补做，不会丢失）")
            _flush_logs()
            os._exit(128 + (signum or signal.SIGTERM))
        log.info("收到停止信号：处理完当前邮件后停止（再按一次 Ctrl-C 立即退出）")
        self.stopping.set()
        self._stopper = threading.Thread(target=self._shut_down, name="stop")
        self._stopper.start()

    def _shut_down(self) -> None:
        if self.scheduler.state == STATE_RUNNING:
            self.scheduler.shutdown(wait=True)

    def _add_jobs(self) -> None:
        schedule = self.runtime.config.schedule
        for number, jobs in enumerate(self.mailboxes):
            config, profile = jobs.runtime.config, jobs.runtime.profile
            # several mailboxes: their first polls a little apart, so one slow server does not hold the rest up
            first = datetime.now(SHANGHAI) + timedelta(seconds=0.2 * number)
            self.scheduler.add_job(jobs.poll, IntervalTrigger(seconds=schedule.poll_seconds), id=jobs.job_id("poll"),
                                   next_run_time=first)
            self.scheduler.add_job(jobs.send, IntervalTrigger(seconds=schedule.send_seconds), id=jobs.job_id("send"))
            self.scheduler.add_job(jobs.daily_log, _daily(schedule.daily_log_time), id=jobs.job_id("daily_log"))
            if not config.notify.addresses:
                continue
            self.scheduler.add_job(jobs.digest, _daily(config.notify.digest_time), id=jobs.job_id("digest"))
            last_minute = profile.deadline + timedelta(minutes=5)
            if config.notify.after_deadline and last_minute > utcnow():
                # the deadline day's digest right after its 24:00, the busiest hours of a campaign
                day = (profile.deadline - timedelta(seconds=1)).astimezone(SHANGHAI).date()
                self.scheduler.add_job(jobs.digest, DateTrigger(run_date=last_minute), id=jobs.job_id("after_deadline"),
                                       kwargs={"day": day, "after_deadline": True})

    def _say_what_is_served(self) -> None:
        config = self.runtime.config
        log.info("%s：%s 个邮箱，数据库 %s，数据目录 %s，每 %g 秒收取", STARTED, len(self.mailboxes),
                 shown_url(config.database), config.data_path, config.schedule.poll_seconds)
        for jobs in self.mailboxes:
            with logs.about(jobs.campaign):
                log.info("服务 %s", jobs.describe())

    def run(self) -> None:
        self._add_jobs()
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for jobs in self.mailboxes:
            box = jobs.runtime.config.mailbox
            if box.kind == "imap" and box.idle:
                threading.Thread(target=jobs.watch_idle, name=f"imap-idle-{jobs.campaign}", daemon=True).start()
        self._say_what_is_served()
        for companion in self.companions:
            companion.start()
        self.scheduler.start()  # blocks until stop()
        for companion in self.companions:
            companion.stop()
        if self._stopper is not None:
            self._stopper.join()  # the jobs in hand end before their connections are closed
        for jobs in self.mailboxes:
            jobs.close()
        log.info("intake 服务已停止")


def _flush_logs() -> None:
    for handler in logging.getLogger("intake").handlers:
        try:
            handler.flush()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass
    sys.stderr.flush()


def _daily(at: str) -> CronTrigger:
    hour, minute = (int(part) for part in at.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=SHANGHAI)
