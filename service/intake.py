"""The intake service: take new mail, file every message once, queue one reply, never lose one.

The order of steps is what makes it crash-safe:
1. the raw bytes go to the blob store, then a ledger row (state `fetched`) is committed and
   the folder's cursor moves past the message: from here on the ledger owns it;
2. the message is judged and filed, with its reply in the outbox, in one transaction;
3. only then is it moved (or flagged) on the server.
Judging runs on both cores (service/judging.py: workers forked from `intake poll --once`, or
from a fork server under `intake run`) while this process takes the next messages in and files
the verdicts, always in the order the mail arrived.
A crash between any two steps is repaired by the next run: ledger rows still `fetched` or
`failed` are judged again from their stored bytes, filed rows not yet moved are moved.
"""

from __future__ import annotations

import logging
from collections import deque
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Callable, Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.schema import Profile
from core import failpoints, inert, words
from core.times import aware, shown, utcnow
from ingest.sources.base import Cursor, FetchedMail, MailSource
from nominees.masking import mask_numbers_in
from replies.policy import sender_check
from replies.queue import queue_reply
from service import followup, stagetimes
from service.config import Config
from service.judging import Judging, Pending
from storage.blobs import BlobStore, BlobStoreFull, open_blobs
from storage.db import DatabaseFull
from storage.db import session as new_session
from storage.filing import audit, earlier_nominees, ensure_campaign, file_verdict, find_duplicate
from storage.models import MailboxState, MessageRow
from storage.stored import Shelf, received_at_of
from validators.memory import as_duplicate, with_history

log = logging.getLogger("intake")


@dataclass
class PollReport:
    """What one poll did, for the command line and the log."""

    fetched: int = 0
    filed: list[int] = field(default_factory=list)  # message record ids
    failed: list[int] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    set_aside: int = 0
    resynchronised: bool = False



class Intake:
    def __init__(self, config: Config, profile: Profile, engine: Engine, source: MailSource,
                 clock: Callable[[], datetime] = utcnow, blobs: BlobStore | None = None,
                 judging: Judging | None = None):
        """`judging`: workers kept from poll to poll by a long-running service (their warm OCR with
        them); without it each poll starts its own and ends them."""
        self.config = config
        self.judging = judging
        self.profile = profile
        self.engine = engine
        self.source = source
        self.blobs = blobs or open_blobs(config.data_path, engine)
        self.clock = clock
        with new_session(engine) as session:
            ensure_campaign(session, profile)
            session.commit()

    # --- one poll ------------------------------------------------------------------------

    def poll_once(self, should_stop: Callable[[], bool] = lambda: False,
                  progress: Callable[[PollReport], None] = lambda report: None) -> PollReport:
        """Take what is new; `should_stop` is asked between messages, never within one, and
        `progress` is told after each message."""
        report = PollReport()
        stagetimes.time_the_judge()
        self._set_aside_filed(report)
        self._retry_due(report)
        cursor = self._cursor()
        batch = self.source.poll(cursor)
        report.resynchronised = batch.resynchronising
        if batch.resynchronising:
            log.warning("邮箱文件夹 %s 的 UIDVALIDITY 已变化（%s → %s），重新核对全部邮件，已登记的不会重复处理",
                        cursor.folder, cursor.uidvalidity, batch.uidvalidity)
        every_mail_taken = False
        with self._judging() as judging:
            awaited: deque[tuple[MessageRow, FetchedMail, Pending]] = deque()
            mails = iter(batch.mails)
            while (mail := _next_mail(mails)) is not None:
                if should_stop():
                    break
                report.fetched += 1
                with stagetimes.stage("store"):
                    row = self._take_or_say_why(mail, batch.resynchronising)
                if row is not None:
                    awaited.append((row, _without_bytes(mail), judging.submit(row.raw_sha256, mail.raw,
                                                                              self._received_at(row))))
                del mail  # its bytes are in the blob store: not kept here while verdicts are awaited
                self._file_judged(awaited, judging, report, keep=judging.ahead)
                progress(report)
            else:
                every_mail_taken = True
            self._file_judged(awaited, judging, report, keep=0)
            progress(report)
        self._touch_cursor(batch.uidvalidity, error_over=every_mail_taken)
        stagetimes.write()
        return report

    def _judging(self) -> AbstractContextManager[Judging]:
        return nullcontext(self.judging) if self.judging is not None else Judging(self.blobs, self.profile)

    def _file_judged(self, awaited: deque, judging: Judging, report: PollReport, keep: int) -> None:
        """File, oldest first, the verdicts that are in, and wait for them while more than `keep` are out."""
        while awaited and (len(awaited) > keep or awaited[0][2].future.done()):
            row, mail, pending = awaited.popleft()
            self._file_verdict(row, mail, partial(judging.verdict, pending), judging, report)

    def _cursor(self) -> Cursor:
        folder = self.config.mailbox.folder
        with new_session(self.engine) as session:
            state = session.get(MailboxState, (self.source.account, folder))
            if state is None:
                return Cursor(folder)
            return Cursor(folder, state.uidvalidity, state.last_uid)

    def _touch_cursor(self, uidvalidity: int, uid: int | None = None, session: Session | None = None,
                      error_over: bool = False) -> None:
        """Move the folder's cursor; the reason the last poll stopped (`last_error`) is kept until a
        mail is taken or a poll takes everything, not cleared by a poll stopped before it got there."""
        def update(s: Session) -> None:
            key = (self.source.account, self.config.mailbox.folder)
            state = s.get(MailboxState, key) or MailboxState(account=key[0], folder=key[1])
            if state.uidvalidity != uidvalidity:
                state.uidvalidity, state.last_uid = uidvalidity, 0
            if uid is not None:
                state.last_uid = max(state.last_uid, uid)
            state.last_poll_at = self.clock()
            if uid is not None or error_over:
                state.last_error = None
            s.add(state)

        if session is not None:
            update(session)
            return
        with new_session(self.engine) as s:
            update(s)
            s.commit()

    def _take_or_say_why(self, mail: FetchedMail, resynchronising: bool) -> MessageRow | None:
        """`_take`; when the blob store's disk is full nothing is recorded by design, so the
        reason is kept on the folder's state for `intake status`, and the poll stops."""
        try:
            return self._take(mail, resynchronising)
        except BlobStoreFull as full:
            with new_session(self.engine) as session:
                key = (self.source.account, self.config.mailbox.folder)
                state = session.get(MailboxState, key) or MailboxState(account=key[0], folder=key[1])
                state.last_error = str(full)
                session.add(state)
                session.commit()
            raise

    def _take(self, mail: FetchedMail, resynchronising: bool) -> MessageRow | None:
        """Put the mail in the ledger (bytes first); None when the ledger already has it."""
        sha256 = self.blobs.put(mail.raw)
        with new_session(self.engine) as session:
            known = self._known(session, mail, sha256, resynchronising)
            if known is not None:
                self._touch_cursor(mail.uidvalidity, mail.uid, session)
                session.commit()
                if known.state == "filed":
                    self._set_aside(mail, known.id)
                return None
            row = MessageRow(
                campaign_id=self.profile.id, account=mail.account, folder=mail.folder,
                uidvalidity=mail.uidvalidity, uid=mail.uid, raw_sha256=sha256, raw_size=len(mail.raw),
                received_at=mail.internaldate or self.clock(),
                received_at_source="imap" if mail.internaldate else "pending", state="fetched",
            )
            session.add(row)
            self._touch_cursor(mail.uidvalidity, mail.uid, session)
            session.commit()
        failpoints.reached("after_ledger")
        return row

    def _known(self, session: Session, mail: FetchedMail, sha256: str, resynchronising: bool) -> MessageRow | None:
        keyed = session.exec(select(MessageRow).where(
            MessageRow.account == mail.account, MessageRow.folder == mail.folder,
            MessageRow.uidvalidity == mail.uidvalidity, MessageRow.uid == mail.uid)).first()
        if keyed is not None or not resynchronising:
            return keyed
        # the server renumbered the folder: the same bytes filed under the old numbering
        same = session.exec(select(MessageRow).where(
            MessageRow.account == mail.account, MessageRow.raw_sha256 == sha256)).first()
        if same is not None:
            same.uidvalidity, same.uid = mail.uidvalidity, mail.uid
            session.add(same)
        return same

    # --- judging and filing --------------------------------------------------------------

    @staticmethod
    def _received_at(row: MessageRow) -> datetime | None:
        return received_at_of(row)

    def _file_verdict(self, row: MessageRow, mail: FetchedMail | None, verdict_of: Callable[[], object],
                      judging: Judging, report: PollReport) -> None:
        try:
            failpoints.fail_here("fail_judging")
            verdict = verdict_of()
            together = self._judged_together(row, verdict, judging)
            with stagetimes.stage("file"), new_session(self.engine) as session:
                current = session.get(MessageRow, row.id)
                filed, verdict = self._file(session, current, verdict, together)
                session.commit()
        except (BlobStoreFull, DatabaseFull):
            raise  # the disk, not the message: the poll stops, the row stays `fetched` for the next one
        except Exception as exc:  # noqa: BLE001 - a failure is recorded, retried, then quarantined
            self._record_failure(row.id, exc, report)
            return
        failpoints.reached("after_filing")
        report.filed.append(row.id)
        nominees = "、".join(f"#{n.record_id}" + (f" {n.intake_number}" if n.intake_number else "") for n in filed)
        log.info("已登记邮件 M%s（%s，%s）：%s%s", row.id, verdict.message.from_addr,
                 mask_numbers_in(inert.one_line(verdict.message.subject)), words.word(words.STATUS, verdict.status),
                 f"，被推荐人 {nominees}" if nominees else "")
        if mail is not None:
            with stagetimes.stage("move"):
                self._set_aside(mail, row.id)
            report.set_aside += 1

    def _judged_together(self, row: MessageRow, verdict, judging: Judging) -> followup.Together | None:
        """A follow-up judged with the files of the nominee it completes, before the filing's
        transaction and by a worker: judging takes seconds, which the database's writers (staff,
        the console) should not wait, and forks sandboxes, which the threaded service must not.
        Most mail is no follow-up: a verdict with nothing to link asks the database nothing here,
        and a duplicate (rare) is found by the filing, which then leaves this unused."""
        if verdict.status == "ignored":
            return None  # followup.link links nothing that is no submission
        with new_session(self.engine) as session, session.no_autoflush:
            # the ledger row as linking reads it, not read again: its id and campaign never change, and
            # the rest it asks (sender, Message-ID, the server's checks) comes from the mail
            current = MessageRow(id=row.id, campaign_id=row.campaign_id)
            _identify(current, verdict, self.config.replies.authserv_ids)
            completes = followup.link(session, current, verdict).completes
            if completes is None:
                return None
            shelf = Shelf(session, self.blobs, self.profile.limits)
            nominee_id, message = completes.id, followup.with_kept_files(shelf, completes, verdict, self.profile)
        return followup.Together(nominee_id, judging.judge_parsed(message))

    def _file(self, session: Session, row: MessageRow, verdict, together: followup.Together | None):
        """File the verdict and queue its reply; the nominees filed (record id, intake number) and
        the verdict filed (a follow-up's, judged with the files it completes)."""
        now = self.clock()
        # the ledger row's changes go out in one UPDATE with the filing's: the questions asked
        # before it never read the row itself (each leaves out its id)
        with session.no_autoflush:
            _identify(row, verdict, self.config.replies.authserv_ids)
            duplicate_of = find_duplicate(session, row)
            hold = None
            if duplicate_of is not None:
                verdict = as_duplicate(verdict, duplicate_of)
                row.duplicate_of = duplicate_of
            else:
                verdict, hold = self._as_followup(session, row, verdict, together)
            earlier = earlier_nominees(session, verdict, self.profile.id, shown)
            if row.completes is not None:
                earlier = {index: replace(e, completed=True) for index, e in earlier.items()}
            verdict = with_history(verdict, earlier)
            if must_be_read(verdict):
                row.staff_state = "open"
        filed = file_verdict(session, row, verdict, self.profile, earlier, now)
        if followup.nothing_new(session, row, verdict):
            log.info("邮件 M%s 回复我们的回执，却没有新的材料（可能是自动回复）：不再回复", row.id)
            audit(session, "message", row.id, "no_reply", note="an answer to our reply with nothing new")
            return filed, verdict
        with stagetimes.stage("reply"):
            queue_reply(session, row, verdict, filed, self.profile, self.config.replies, now, hold=hold)
        return filed, verdict

    def _as_followup(self, session: Session, row: MessageRow, verdict, together: followup.Together | None):
        """The verdict as a follow-up: the one judged with the nominee it completes, or alone with
        staff told why not (and the reply held where another sender would take over someone's
        nomination)."""
        found = followup.link(session, row, verdict)
        if found.completes is not None:
            if together is None or together.completes != found.completes.id:
                raise followup.LinkChanged(f"邮件 M{row.id} 所补充的被推荐人在审核期间有了变化，稍后重新处理")
            row.completes = found.completes.message_id
            log.info("邮件 M%s 是对被推荐人 #%s（M%s）的补充，合并审核", row.id, found.completes.id, row.completes)
            return together.verdict, None
        if found.doubtful:
            log.warning("邮件 M%s 可能是对此前报送的补充，未合并，转工作人员核对", row.id)
            return followup.with_doubt(verdict, found), "other_sender" if found.other_sender else None
        return verdict, None

    def _record_failure(self, row_id: int, exc: Exception, report: PollReport) -> None:
        schedule = self.config.schedule
        with new_session(self.engine) as session:
            row = session.get(MessageRow, row_id)
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            before = row.state
            if row.attempts >= schedule.max_attempts:
                row.state, row.next_attempt_at = "quarantined", None
                report.quarantined.append(row_id)
                log.error("邮件 M%s 处理失败 %s 次，已隔离，请工作人员查看（intake reprocess M%s）：%s",
                          row_id, row.attempts, row_id, row.last_error)
            else:
                delay = schedule.first_retry_seconds * 2 ** (row.attempts - 1)
                row.state, row.next_attempt_at = "failed", self.clock() + timedelta(seconds=delay)
                report.failed.append(row_id)
                log.warning("邮件 M%s 处理失败（第%s次），%d秒后重试：%s", row_id, row.attempts, delay, row.last_error)
            session.add(row)
            audit(session, "message", row_id, row.state, before, row.state, note=row.last_error)
            session.commit()

    def _retry_due(self, report: PollReport) -> None:
        now = self.clock()
        with new_session(self.engine) as session:
            due = session.exec(select(MessageRow).where(
                MessageRow.campaign_id == self.profile.id, MessageRow.state.in_(("fetched", "failed")))
                .order_by(MessageRow.id)).all()
        due = [row for row in due if row.next_attempt_at is None or aware(row.next_attempt_at) <= now]
        if not due:
            return
        with self._judging() as judging:  # one at a time (each verdict awaited): each failed before
            for row in due:
                # only this source's own mail is set aside by it: a row of another account (a district's
                # forward filed inside the installation, an earlier mailbox) is filed and left alone
                mail = FetchedMail(row.account, row.folder, row.uidvalidity, row.uid, b"", None) \
                    if row.account == self.source.account else None
                pending = judging.submit(row.raw_sha256, self.blobs.get(row.raw_sha256), self._received_at(row))
                self._file_verdict(row, mail, partial(judging.verdict, pending), judging, report)

    # --- the mailbox ---------------------------------------------------------------------

    def _set_aside(self, mail: FetchedMail, row_id: int) -> None:
        try:
            self.source.set_aside(mail)
        except Exception as exc:  # noqa: BLE001 - the record is safe; moving is retried next poll
            log.warning("邮件 M%s 已登记，但移到已处理文件夹失败，下次重试：%s", row_id, exc)
            return
        failpoints.reached("after_set_aside")
        with new_session(self.engine) as session:
            row = session.get(MessageRow, row_id)
            row.moved = True
            session.add(row)
            session.commit()

    def _set_aside_filed(self, report: PollReport) -> None:
        """Filed before a crash but never moved: move them now, by their ledger key."""
        with new_session(self.engine) as session:
            pending = session.exec(select(MessageRow).where(
                MessageRow.campaign_id == self.profile.id, MessageRow.state.in_(("filed", "quarantined")),
                MessageRow.moved.is_(False), MessageRow.account == self.source.account)).all()
        for row in pending:
            if row.state == "quarantined":
                continue  # stays in the inbox where staff can see it
            mail = FetchedMail(row.account, row.folder, row.uidvalidity, row.uid, b"", None)
            self._set_aside(mail, row.id)
            report.set_aside += 1


def _identify(row: MessageRow, verdict, authserv_ids) -> None:
    """What the ledger row learns from the mail's headers once it is judged."""
    message = verdict.message
    row.message_id, row.from_addr = message.message_id, message.from_addr
    row.sender_check = sender_check(message, authserv_ids)


def _next_mail(mails: Iterator[FetchedMail]) -> FetchedMail | None:
    """The source's next mail (None at the end), its fetching counted as a stage of its own."""
    with stagetimes.stage("fetch"):
        return next(mails, None)


def _without_bytes(mail: FetchedMail) -> FetchedMail:
    """The ledger key alone, for setting the mail aside later: its bytes are in the blob store."""
    return replace(mail, raw=b"")


def must_be_read(verdict) -> bool:
    """A question, or any other mail with words in it that is no nomination: staff read it and may
    answer (auto-replies, bounces and duplicates are not for people)."""
    codes = {f.code for f in verdict.findings}
    words = verdict.message.body_text.strip() or (verdict.message.subject or "").strip()
    return verdict.status == "ignored" and codes == {"NOT_SUBMISSION"} and bool(words)
