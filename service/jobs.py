"""One mailbox's work under `intake run`: its poll, its outbox, its IDLE watcher, each on its own.

An installation runs one of these per mailbox (a city and its districts), so a district whose
password is wrong never stops the city's intake. A job that cannot work because of our own setup
(a mailbox that refuses the login, a password file that is not there, an SMTP server that
refuses us) says so in words, keeps trying with a growing pause (the poll interval doubled each
time, up to ten intervals), and records why in `job_state` (and the folder's `last_error`), where
`intake status` and `intake doctor` read it; the first run that works clears it and says so.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Callable

from core.times import second, utcnow
from service import logs
from service.daylog import write_day
from service.digest import queue_digest
from service.intake import Intake
from service.judging import Judging
from service.lock import Busy, exclusive, poll_lock
from service.runtime import Runtime
from service.sending import send_outbox
from storage.db import session as new_session
from storage.models import JobStateRow, MailboxState

log = logging.getLogger("intake")
IDLE_WAIT_SECONDS = 25 * 60  # one wait for mail; the IMAP source renews IDLE within it (RFC 2177)
BACKOFF_INTERVALS = 10  # the longest pause after failures, in poll (or send) intervals


class Backoff:
    """When a failing job may run again: its interval doubled per failure, capped."""

    def __init__(self, interval: float):
        self.interval = interval
        self.failures = 0
        self.until = 0.0  # time.monotonic()

    def due(self) -> bool:
        return time.monotonic() >= self.until

    def failed(self) -> float:
        self.failures += 1
        pause = min(self.interval * 2 ** (self.failures - 1), self.interval * BACKOFF_INTERVALS)
        self.until = time.monotonic() + pause
        return pause

    def worked(self) -> bool:
        """True when this ends a run of failures."""
        ended, self.failures, self.until = self.failures > 0, 0, 0.0
        return ended


class MailboxJobs:
    """The jobs of one mailbox; `wake(job_id)` pulls a job of the scheduler forward."""

    def __init__(self, runtime: Runtime, stopping: threading.Event, wake: Callable[[str], None], single: bool):
        self.runtime = runtime
        self.campaign = runtime.profile.id
        self.stopping = stopping
        self.wake = wake
        self.single = single
        schedule = runtime.config.schedule
        self.poll_backoff = Backoff(schedule.poll_seconds)
        self.send_backoff = Backoff(schedule.send_seconds)
        self._source = None
        self._transport = None
        self._standing_by = False
        self._judging: Judging | None = None  # its workers and their warm OCR kept from poll to poll

    def job_id(self, base: str) -> str:
        """poll, send… for one mailbox (as before); poll:<campaign>… for several."""
        return base if self.single else f"{base}:{self.campaign}"

    # --- the poll ------------------------------------------------------------------------

    def poll(self) -> None:
        with logs.about(self.campaign):
            if not self.poll_backoff.due():
                return
            try:
                if self._source is None:
                    self._source = self.runtime.source()
                name = poll_lock(self.runtime.config, self._source.account)
                with exclusive(self.runtime.config.data_path, self.runtime.engine, name) as held:
                    self._took_over()
                    self._poll_in_hand(held)
            except Busy as exc:
                self._standing_by_for(exc)
                return
            except Exception as exc:  # noqa: BLE001 - said, recorded, retried after a pause
                self._close_source()
                self._failed("poll", exc, self.poll_backoff)
                return
            self._worked("poll", self.poll_backoff)

    def _poll_in_hand(self, held) -> None:
        runtime = self.runtime
        if self._judging is None:
            self._judging = Judging(runtime.blobs, runtime.profile)
        intake = Intake(runtime.config, runtime.profile, runtime.engine, self._source, blobs=runtime.blobs,
                        judging=self._judging)
        report = intake.poll_once(should_stop=lambda: self.stopping.is_set() or held.lost())
        if report.fetched or report.filed or report.failed:
            log.info("本次收取 %s 封，登记 %s 封，失败 %s 封", report.fetched, len(report.filed), len(report.failed))
        if report.filed:
            self.wake(self.job_id("send"))  # the sender hears back now, not at the send timer's next turn

    def _standing_by_for(self, busy: Busy) -> None:
        if not self._standing_by:
            log.info("%s：本机待命，对方停止后接手", busy)
        self._standing_by = True

    def _took_over(self) -> None:
        if self._standing_by:
            log.warning("已接手收取（此前由另一个 intake 进程或另一台机器收取，它已停止或失去连接）")
        self._standing_by = False

    # --- the outbox ----------------------------------------------------------------------

    def send(self) -> None:
        with logs.about(self.campaign):
            if not self.send_backoff.due():
                return
            runtime = self.runtime
            try:
                if self._transport is None:
                    self._transport = runtime.transport()
                report = send_outbox(runtime, self._transport)
                if report.configuration_error:
                    raise SendSetupError(report.configuration_error) from report.configuration_exception
            except Busy as exc:
                log.debug("%s，本次跳过", exc)
                return
            except Exception as exc:  # noqa: BLE001 - said, recorded, retried after a pause
                self._transport = None
                self._failed("send", exc, self.send_backoff)
                return
            self._worked("send", self.send_backoff)

    # --- the day's log and digest --------------------------------------------------------

    def daily_log(self, day=None) -> None:
        """The log of the Beijing day just ended (the job runs after 24:00)."""
        from core.times import today

        runtime = self.runtime
        with logs.about(self.campaign):
            day = day or today() - timedelta(days=1)
            folder = runtime.config.data_path / "logs"
            path = write_day(runtime.engine, self.campaign, day, folder if self.single else folder / self.campaign)
            log.info("已写入收件日志 %s", path)

    def digest(self, day=None, after_deadline: bool = False) -> None:
        """The digest of the Beijing day before to the office's addresses, sent with the replies."""
        from core.times import today

        with logs.about(self.campaign):
            day = day or today() - timedelta(days=1)
            queued = queue_digest(self.runtime, day, utcnow(), after_deadline=after_deadline)
            if queued:
                log.info("已生成 %s 收件日报，发往 %s", day.isoformat(), "、".join(r.to_addr for r in queued))
                self.wake(self.job_id("send"))

    # --- IDLE ----------------------------------------------------------------------------

    def watch_idle(self) -> None:
        """A second connection waits in IDLE and pulls the poll forward when mail arrives."""
        watcher = None
        with logs.about(self.campaign):
            while not self.stopping.is_set():
                if not self.poll_backoff.due():  # the mailbox is failing: the poll's pause applies here too
                    self.stopping.wait(min(30.0, max(0.1, self.poll_backoff.until - time.monotonic())))
                    continue
                try:
                    watcher = watcher or self.runtime.source()
                    started = time.monotonic()
                    if not watcher.wait_for_mail(IDLE_WAIT_SECONDS):
                        if time.monotonic() - started < 1:
                            return  # no IDLE on this server (it says so at once): the interval poll serves
                        continue
                    self.wake(self.job_id("poll"))
                except Exception as exc:  # noqa: BLE001 - reconnect after a pause
                    log.warning("IDLE 连接中断，稍后重连：%s", exc)
                    watcher = None
                    self.stopping.wait(30)

    # --- failures, said and recorded -----------------------------------------------------

    def _failed(self, job: str, exc: Exception, backoff: Backoff) -> None:
        from service.diagnose import explain

        said = explain(exc, job, self.runtime.config)
        pause = backoff.failed()
        what = "收取邮件失败" if job == "poll" else "发送回复失败"
        log.error("%s，%d 秒后重试（第 %s 次）：%s", what, pause, backoff.failures, said)
        self._record(job, said, utcnow() + timedelta(seconds=pause))

    def _worked(self, job: str, backoff: Backoff) -> None:
        if backoff.worked():
            log.warning("%s已恢复正常", "收取邮件" if job == "poll" else "发送回复")
            self._record(job, None, None)

    def _record(self, job: str, error: str | None, retry_at: datetime | None) -> None:
        """Keep why a job fails where `status` and `doctor` read it; never let that fail the job."""
        now = utcnow()
        try:
            with new_session(self.runtime.engine) as session:
                key = f"{job}:{self.campaign}"
                row = session.get(JobStateRow, key) or JobStateRow(job=key, campaign_id=self.campaign)
                if error is None:
                    row.failing_since, row.last_error, row.retry_at, row.last_ok_at = None, None, None, now
                else:
                    row.failing_since = row.failing_since or now
                    row.last_error, row.retry_at = error, retry_at
                session.add(row)
                if job == "poll" and error is not None:
                    self._folder_error(session, error)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - the database itself may be what is failing
            log.warning("无法记录%s的状态：%s", job, exc)

    def _folder_error(self, session, error: str) -> None:
        source = self._source or self._quiet_source()
        if source is None:
            return
        key = (source.account, self.runtime.config.mailbox.folder)
        state = session.get(MailboxState, key) or MailboxState(account=key[0], folder=key[1])
        state.last_error = error
        session.add(state)

    def _quiet_source(self):
        try:
            return self.runtime.source()
        except Exception:  # noqa: BLE001 - a source that cannot even be made has no account to note
            return None

    def close(self) -> None:
        self._close_source()
        if self._judging is not None:
            self._judging.close()
            self._judging = None

    def _close_source(self) -> None:
        if self._source is not None:
            try:
                self._source.close()
            except Exception:  # noqa: BLE001 - a dead connection cannot be closed politely
                pass
            self._source = None

    def describe(self) -> str:
        """What this mailbox is, for the start-up line: campaign, mailbox, where replies go."""
        config = self.runtime.config
        box = config.mailbox
        where = (f"IMAP {box.username}@{box.host}:{box.port} {box.folder}" if box.kind == "imap"
                 else f"Maildir {box.path}")
        smtp = config.smtp
        out = f"SMTP {smtp.host}:{smtp.port}" if smtp.kind == "smtp" else f"文件夹 {smtp.outbox_path}"
        return (f"{self.campaign}（{self.runtime.profile.title}）：收件 {where}；回复经 {out}，"
                f"发件人 {config.replies.from_addr}")


class SendSetupError(Exception):
    """The outbox's transport is set up wrongly (the send job paused without using up replies' attempts)."""


def last_states(engine, campaigns: tuple[str, ...]) -> list[JobStateRow]:
    """The jobs of these campaigns that are failing now, for `status` and `doctor`."""
    from sqlmodel import select

    with new_session(engine) as session:
        return list(session.exec(select(JobStateRow).where(JobStateRow.campaign_id.in_(campaigns),
                                                           JobStateRow.last_error.is_not(None))
                                 .order_by(JobStateRow.job)).all())


def state_line(row: JobStateRow) -> str:
    job, _, campaign = row.job.partition(":")
    what = "收取邮件" if job == "poll" else "发送回复"
    since = second(row.failing_since)
    retry = f"，下次重试 {second(row.retry_at)}" if row.retry_at else ""
    return f"{what}失败（{campaign}，自 {since}{retry}）：{row.last_error}"

