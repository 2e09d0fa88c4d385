"""The background service: APScheduler runs the same steps the command line runs once.

Jobs: poll the mailbox (woken early by IMAP IDLE where the server offers it), send the
outbox, write the intake log of the Beijing day just ended, and mail the office its digest
(each morning, and on the deadline day right after 24:00). One instance of each at a time; a
missed run is coalesced, not repeated. SIGTERM/SIGINT finish the message in hand, then stop.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import date, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.times import SHANGHAI, today, utcnow
from replies.outbox import send_due
from service.daylog import write_day
from service.digest import queue_digest
from service.intake import Intake
from service.lock import Busy, exclusive
from service.runtime import Runtime

log = logging.getLogger("intake")
# one wait for mail; the IMAP source renews IDLE within it every 10 minutes (RFC 2177, ingest/sources/imap.py)
IDLE_WAIT_SECONDS = 25 * 60


class Service:
    """The long-running process: owns the scheduler, the stop flag and the IDLE watcher."""

    def __init__(self, runtime: Runtime, companions=()):
        self.runtime = runtime
        self.companions = list(companions)  # started and stopped with the service: the web console
        self.stopping = threading.Event()
        self._stopper: threading.Thread | None = None
        self.scheduler = BlockingScheduler(timezone="Asia/Shanghai",
                                           job_defaults={"max_instances": 1, "coalesce": True,
                                                         "misfire_grace_time": 300})
        self._source = None
        self._transport = None

    # --- jobs ----------------------------------------------------------------------------

    def _exclusive(self, name: str, work, failed: str) -> None:
        """Run one job under its cross-process lock; a failure is logged and tried next time."""
        runtime = self.runtime
        try:
            with exclusive(runtime.config.data_path, runtime.engine, name):
                work()
        except Busy as exc:
            log.info("%s，本次跳过", exc)
        except Exception as exc:  # noqa: BLE001 - the next run tries again; the log says why
            log.error("%s，稍后重试：%s", failed, exc)
            if name == "poll":
                self._close_source()

    def _poll_once(self) -> None:
        runtime = self.runtime
        if self._source is None:
            self._source = runtime.source()
        intake = Intake(runtime.config, runtime.profile, runtime.engine, self._source)
        report = intake.poll_once(should_stop=self.stopping.is_set)
        if report.fetched or report.filed or report.failed:
            log.info("本次收取 %s 封，登记 %s 封，失败 %s 封", report.fetched, len(report.filed), len(report.failed))

    def _send_once(self) -> None:
        if self._transport is None:
            self._transport = self.runtime.transport()
        send_due(self.runtime.engine, self._transport, self.runtime.config.replies, utcnow)

    def poll(self) -> None:
        self._exclusive("poll", self._poll_once, "收取邮件失败")

    def send(self) -> None:
        self._exclusive("send", self._send_once, "发送回复失败")

    def daily_log(self, day: date | None = None) -> None:
        """The log of the Beijing day just ended (the job runs after 24:00)."""
        runtime = self.runtime
        day = day or today() - timedelta(days=1)
        path = write_day(runtime.engine, runtime.profile.id, day, runtime.config.data_path / "logs")
        log.info("已写入收件日志 %s", path)

    def digest(self, day: date | None = None, after_deadline: bool = False) -> None:
        """The digest of the Beijing day before to the office's addresses, sent with the replies."""
        runtime = self.runtime
        day = day or today() - timedelta(days=1)
        queued = queue_digest(runtime, day, utcnow(), after_deadline=after_deadline)
        if queued:
            log.info("已生成 %s 收件日报，发往 %s", day.isoformat(), "、".join(r.to_addr for r in queued))
            self.scheduler.modify_job("send", next_run_time=datetime.now(SHANGHAI))

    # --- IDLE ----------------------------------------------------------------------------

    def _watch_idle(self) -> None:
        """A second connection waits in IDLE and pulls the poll forward when mail arrives."""
        watcher = None
        while not self.stopping.is_set():
            try:
                watcher = watcher or self.runtime.source()
                started = time.monotonic()
                if not watcher.wait_for_mail(IDLE_WAIT_SECONDS):
                    if time.monotonic() - started < 1:
                        return  # no IDLE on this server (it says so at once): the interval poll serves
                    continue  # the wait ended without mail: wait again
                self.scheduler.modify_job("poll", next_run_time=datetime.now(SHANGHAI))
            except Exception as exc:  # noqa: BLE001 - reconnect after a pause
                log.warning("IDLE 连接中断，稍后重连：%s", exc)
                watcher = None
                self.stopping.wait(30)

    # --- lifecycle -----------------------------------------------------------------------

    def _close_source(self) -> None:
        if self._source is not None:
            try:
                self._source.close()
            except Exception:  # noqa: BLE001 - a dead connection cannot be closed politely
                pass
            self._source = None

    def stop(self, *_signal) -> None:
        """SIGTERM/SIGINT: the poll job sees the flag and ends after its message. The scheduler is
        shut down from a thread of its own: the handler runs inside whatever the main thread was
        doing (the scheduler's loop, holding its locks), and waiting there for the jobs to end
        could wait for ever (a SIGTERM once went unanswered for 60 s in CI)."""
        log.info("收到停止信号：处理完当前邮件后停止")
        self.stopping.set()
        self._stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, name="stop")
        self._stopper.start()

    def _add_jobs(self) -> None:
        config, profile = self.runtime.config, self.runtime.profile
        schedule = config.schedule
        self.scheduler.add_job(self.poll, IntervalTrigger(seconds=schedule.poll_seconds), id="poll",
                               next_run_time=datetime.now(SHANGHAI))
        self.scheduler.add_job(self.send, IntervalTrigger(seconds=schedule.send_seconds), id="send")
        self.scheduler.add_job(self.daily_log, _daily(schedule.daily_log_time), id="daily_log")
        if config.notify.addresses:
            self.scheduler.add_job(self.digest, _daily(config.notify.digest_time), id="digest")
            last_minute = profile.deadline + timedelta(minutes=5)
            if config.notify.after_deadline and last_minute > utcnow():
                # the deadline day's digest right after its 24:00, the busiest hours of a campaign
                self.scheduler.add_job(self.digest, DateTrigger(run_date=last_minute), id="after_deadline",
                                       kwargs={"day": (profile.deadline - timedelta(seconds=1)).astimezone(SHANGHAI)
                                               .date(), "after_deadline": True})

    def run(self) -> None:
        self._add_jobs()
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        if self.runtime.config.mailbox.kind == "imap" and self.runtime.config.mailbox.idle:
            threading.Thread(target=self._watch_idle, name="imap-idle", daemon=True).start()
        log.info("intake 服务已启动：%s，邮箱 %s", self.runtime.profile.id, self.runtime.config.mailbox.folder)
        for companion in self.companions:
            companion.start()
        self.scheduler.start()  # blocks until stop()
        for companion in self.companions:
            companion.stop()
        if self._stopper is not None:
            self._stopper.join()  # the jobs in hand end before their connections are closed
        self._close_source()
        log.info("intake 服务已停止")


def _daily(at: str) -> CronTrigger:
    hour, minute = (int(part) for part in at.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=SHANGHAI)
