"""Fault rounds: the real `intake run` against a real Dovecot and a real aiosmtpd, killed again and again.

Shared by `bench/fault_rounds.py` (200 messages, 20 rounds) and `tests/test_faults.py` (the CI
size). `fault_rounds()` appends the nominations, then for each round starts `intake run`
(poll and send every 0.2 s) and ends it with SIGKILL, at a moment drawn from a seeded RNG or
at a named failpoint (core/failpoints.py); in one round Dovecot is stopped and started again
under the running service, and the SMTP server answers 421 and 451 once each and 550 for some
recipients throughout. A last `intake run` is left to finish and stopped with SIGTERM. What a
user would notice is then checked: `Outcome.checks` (what, expected, got) and `Outcome.table()`.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import func, select

from core.failpoints import POINTS
from storage.db import make_engine
from storage.db import session as new_session
from storage.models import AuditRow, MessageRow, ReplyRow
from testing.builders.submission import SHANGHAI
from testing.disks import FREE_BYTES_ENV, FULL_DISK_LAUNCHER
from testing.dovecot import Dovecot
from testing.service import ARRIVED, database_of, nomination, records, write_config
from testing.smtp_server import SmtpServer

LATE = datetime(2017, 5, 2, 9, 0, tzinfo=SHANGHAI)  # after the deadline: rejected, still answered
REFUSED = "550 5.1.1 mailbox unavailable"
# one 421 (the server going away) and one 451 (greylisting) somewhere in the run, then 250 again
TRANSIENT = {"MAIL": [None] * 6 + ["421 4.3.2 service shutting down"],
             "RCPT": [None] * 11 + ["451 4.3.0 try again later"]}
# the order failpoint rounds take: the two that matter most first, so the CI size has them
FAILPOINT_ORDER = ("after_send", "after_filing", "after_ledger", "after_set_aside")
assert set(FAILPOINT_ORDER) == set(POINTS), "a new failpoint needs its place in the rounds"
WAIT_SECONDS = 180  # a generous bound for "the service gets there", never a speed assertion


def is_late(n: int) -> bool:
    return n % 10 == 3


def is_refused(n: int) -> bool:
    return n % 20 == 7


def sender(n: int) -> str:
    return f"unit{n}@example.cn"  # as testing.service.nomination sends it


def message_id(n: int) -> str:
    return f"<n{n}@unit.example.cn>"


@dataclass
class Kill:
    round: int
    how: str
    at: float  # time.monotonic() when the process was seen dead
    reached: bool = True  # a failpoint the process got to (else it was SIGKILLed after waiting)
    filed: tuple[int, int] = (0, 0)  # ledger rows filed before and after the round
    sent: tuple[int, int] = (0, 0)
    duplicates: int = 0  # replies the SMTP server got twice because of this kill


@dataclass
class Outcome:
    messages: int
    rounds: int
    seed: int
    kills: list[Kill] = field(default_factory=list)
    checks: list[tuple[str, object, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def check(self, what: str, expected, got) -> None:
        self.checks.append((what, expected, got))

    @property
    def failures(self) -> list[tuple[str, object, object]]:
        return [c for c in self.checks if c[1] != c[2]]

    def table(self) -> str:
        lines = [f"fault rounds: {self.messages} messages, {self.rounds} rounds, seed {self.seed}", "",
                 f"{'round':>5}  {'how the service ended':<46} {'filed':>11} {'sent':>11} {'dup':>3}"]
        for k in self.kills:
            how = k.how if k.reached else f"{k.how} (not reached: SIGKILL)"
            lines.append(f"{k.round:>5}  {how:<46} {k.filed[0]:>4} → {k.filed[1]:<4} "
                         f"{k.sent[0]:>4} → {k.sent[1]:<4} {k.duplicates:>3}")
        width = max(len(c[0]) for c in self.checks)
        lines += ["", f"{'check':<{width}}  {'expected':>9}  {'got':>9}"]
        for what, expected, got in self.checks:
            mark = "ok" if expected == got else "FAILED"
            lines.append(f"{what:<{width}}  {expected!s:>9}  {got!s:>9}  {mark}")
        return "\n".join(lines + [""] + self.notes)


# --- the run ---------------------------------------------------------------------------------


def fault_rounds(server: Dovecot, folder: Path, *, messages: int, rounds: int, seed: int = 2017) -> Outcome:
    """Run the rounds on a new user of `server` (which must be started), working in `folder`."""
    rng = random.Random(seed)
    outcome = Outcome(messages, rounds, seed)
    mailbox = server.add_user(prefix="faults")
    for n in range(messages):
        mailbox.append(nomination(n), internaldate=LATE if is_late(n) else ARRIVED)
    refuse = {sender(n): REFUSED for n in range(messages) if is_refused(n)}
    with SmtpServer(script=TRANSIENT, refuse=refuse) as smtp:
        config = brisk_config(folder, mailbox, smtp)
        system_tmp = folder / "system-tmp"
        system_tmp.mkdir()
        service = Service(config, folder / "service.out", system_tmp)
        restart_round = next(r for r in range(rounds // 3, rounds) if r % 2 == 0)
        # a round's share of the mail, so that the kills reach into the whole run, not its start
        share = max(3, messages // rounds)
        for number in range(rounds):
            before = service.counts()
            if number == restart_round:
                kill = _dovecot_restart_round(service, server, rng, number, outcome)
            elif number % 2 == 1:
                point = f"{FAILPOINT_ORDER[number // 2 % len(FAILPOINT_ORDER)]}:{rng.randint(1, share)}"
                kill = service.until_failpoint(point, number)
            else:
                kill = service.killed_after(rng.uniform(1.0, 1.5 + 0.35 * share), number)
            after = service.counts()
            kill.filed, kill.sent = (before[0], after[0]), (before[1], after[1])
            outcome.kills.append(kill)
        service.finish(messages)
        _judge(outcome, config, mailbox, smtp, service)
    return outcome


def brisk_config(folder: Path, mailbox, smtp, database_url: str = "") -> Path:
    """testing.service's config, polling and sending every 0.2 s."""
    config = write_config(folder, mailbox, smtp, database_url)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[schedule]", "[schedule]\npoll_seconds = 0.2\nsend_seconds = 0.2"), encoding="utf-8")
    return config


STARTED = "intake 服务已启动"  # scheduler.py logs it once its SIGTERM handler is in place


class Service:
    """`intake run` processes one after another, in their own process group (a crash takes all)."""

    def __init__(self, config: Path, output: Path, system_tmp: Path | None = None):
        self.config = config
        self.output = output
        self.system_tmp = system_tmp  # TMPDIR for the service: what it leaves outside its data folder shows there
        self.url = database_of(config)
        self.database = Path(self.url.split("///", 1)[1]) if self.url.startswith("sqlite") else None

    def start(self, failpoint: str | None = None, blob_free_bytes: int | None = None) -> subprocess.Popen:
        """`intake run`; with `blob_free_bytes`, on a pretend disk with that much room for blobs."""
        env = {k: v for k, v in os.environ.items() if k not in ("INTAKE_FAILPOINT", FREE_BYTES_ENV)}
        if failpoint:
            env["INTAKE_FAILPOINT"] = failpoint
        if self.system_tmp is not None:
            env["TMPDIR"] = str(self.system_tmp)
        command = ["-m", "cli"]
        if blob_free_bytes is not None:
            env[FREE_BYTES_ENV] = str(blob_free_bytes)
            command = ["-c", FULL_DISK_LAUNCHER]
        with open(self.output, "ab") as output:
            return subprocess.Popen([sys.executable, *command, "run", "--config", str(self.config)],
                                    stdout=output, stderr=output, env=env, start_new_session=True)

    def stop(self, process: subprocess.Popen) -> int:
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=60)

    def log(self) -> str:
        """What the service said: its log lines go to stderr (journald's way), collected in `output`."""
        return self.output.read_text(encoding="utf-8", errors="replace") if self.output.exists() else ""

    @staticmethod
    def crash(process: subprocess.Popen) -> float:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return time.monotonic()

    def killed_after(self, seconds: float, number: int) -> Kill:
        process = self.start()
        time.sleep(seconds)
        return Kill(number, f"SIGKILL after {seconds:.2f} s", self.crash(process))

    def until_failpoint(self, point: str, number: int) -> Kill:
        process = self.start(point)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            return Kill(number, f"failpoint {point}", self.crash(process), reached=False)
        assert process.returncode == -signal.SIGKILL, f"the service ended with {process.returncode}: {self.tail()}"
        return Kill(number, f"failpoint {point}", time.monotonic())

    def counts(self) -> tuple[int, int, int]:
        """(messages filed, replies sent, messages moved) so far; zeros before there is a database."""
        if self.database is not None and not self.database.exists():
            return 0, 0, 0
        engine = make_engine(f"sqlite:///{self.database}" if self.database is not None else self.url)
        try:
            with new_session(engine) as session:
                filed = session.exec(select(func.count()).select_from(MessageRow)
                                     .where(MessageRow.state == "filed")).one()
                sent = session.exec(select(func.count()).select_from(ReplyRow).where(ReplyRow.state == "sent")).one()
                moved = session.exec(select(func.count()).select_from(MessageRow).where(MessageRow.moved)).one()
            return filed, sent, moved
        except Exception:  # noqa: BLE001 - the first process may still be making the tables
            return 0, 0, 0
        finally:
            engine.dispose()

    def wait_for(self, condition, what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {WAIT_SECONDS} s for {what}; the service said:\n{self.tail()}")
            time.sleep(0.1)

    def finish(self, messages: int) -> None:
        """A last `intake run`, left alone until every message is filed and set aside and the outbox is
        empty, then stopped as systemd would (SIGTERM): it must stop cleanly. It is stopped only once
        it says it has started: a SIGTERM during the interpreter's start-up, before the service
        installs its handler, ends any Python program with -15 (the rounds may already have done
        all the work, so "everything filed" alone came true before the service was up)."""
        started_before = self.log().count(STARTED)
        process = self.start()

        def done() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the service stopped by itself ({process.returncode}):\n{self.tail()}")
            if self.log().count(STARTED) == started_before:
                return False
            try:
                found, _, replies = records(self.config)
            except Exception:  # noqa: BLE001 - not made yet
                return False
            return (len(found) == messages and all(m.state == "filed" and m.moved for m in found)
                    and not any(r.state == "pending" for r in replies))

        try:
            self.wait_for(done, "the service to file and answer everything")
        finally:
            code = self.stop(process)
        assert code == 0, f"SIGTERM ended the service with {code}:\n{self.tail()}"

    def tail(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")[-3000:]


def _dovecot_restart_round(service: Service, server: Dovecot, rng: random.Random, number: int,
                           outcome: Outcome) -> Kill:
    """Stop Dovecot under the running service and start it again with the same mail: the same
    process must go on taking mail, without a restart of its own."""
    process = service.start()
    start = service.counts()
    service.wait_for(lambda: service.counts()[0] > start[0], "the service to file a message")
    server.stop()
    time.sleep(2)  # polls fail meanwhile (poll_seconds = 0.2)
    # moving mail needs the server: a message moved from now on was moved over a new connection
    moved = service.counts()[2]
    server.start()
    service.wait_for(lambda: service.counts()[2] > moved, "the same service to move mail after Dovecot came back")
    outcome.notes.append(f"round {number}: Dovecot stopped for 2 s under the running service ({moved} messages "
                         "moved by then); the same process reconnected and went on")
    seconds = rng.uniform(0.2, 1.5)
    time.sleep(seconds)
    return Kill(number, f"Dovecot restart, SIGKILL {seconds:.2f} s later", service.crash(process))


# --- what a user would notice ----------------------------------------------------------------


def _judge(outcome: Outcome, config: Path, mailbox, smtp: SmtpServer, service: Service) -> None:
    messages, nominees, replies = records(config)
    _judge_records(outcome, messages, nominees)
    _judge_replies(outcome, config, messages, nominees, replies, smtp)
    _judge_mailbox_and_log(outcome, mailbox, service)


def _judge_records(outcome: Outcome, messages, nominees) -> None:
    n = outcome.messages
    late = {message_id(i) for i in range(n) if is_late(i)}
    check = outcome.check

    check("messages in the ledger", n, len(messages))
    check("  each Message-ID once", n, len({m.message_id for m in messages}))
    check("  filed", n, sum(m.state == "filed" for m in messages))
    check("  rejected as late", len(late), sum(m.status == "rejected" for m in messages))
    check("nominees", n, len(nominees))
    check("  one per message", n, len({x.message_id for x in nominees}))
    numbered = [x.intake_number for x in nominees if x.intake_number]
    check("intake numbers (accepted)", n - len(late), len(numbered))
    check("  unique, no gaps", [f"BYGJ-2017-{i:04d}" for i in range(1, n - len(late) + 1)] == sorted(numbered), True)


def _judge_replies(outcome: Outcome, config: Path, messages, nominees, replies, smtp: SmtpServer) -> None:
    n, check = outcome.messages, outcome.check
    refused = {message_id(i) for i in range(n) if is_refused(i)}
    by_message = {m.id: m.message_id for m in messages}
    state_of = {by_message[r.message_id]: r for r in replies}
    check("replies queued (one per message)", n, len(replies))
    check("  sent", n - len(refused), sum(r.state == "sent" for r in replies))
    check("  failed on 550, not retried", len(refused),
          sum(r.state == "failed" and "550" in (r.last_error or "") for m, r in state_of.items() if m in refused))
    check("  refused ones: record kept", len(refused),
          sum(1 for x in nominees if by_message[x.message_id] in refused and x.status))

    delivered = [r.content for r in smtp.messages]
    copies = Counter(_in_reply_to(c) for c in delivered)
    check("distinct replies delivered", n - len(refused), len(copies))
    check("  none to a refused recipient", 0, len(set(copies) & refused))
    duplicates = _attribute_duplicates(outcome, smtp)
    check("duplicates explained by a kill after 250", duplicates, sum(k.duplicates for k in outcome.kills))
    check("  at most one per kill", True, all(k.duplicates <= 1 for k in outcome.kills))
    after_send = [k for k in outcome.kills if k.how.startswith("failpoint after_send") and k.reached]
    check("  one for each after_send kill", len(after_send), sum(k.duplicates for k in after_send))

    answered = Counter(a.split()[0] for a in smtp.handler.answered)
    check("SMTP 4xx answers given (421, 451)", (1, 1), (answered["421"], answered["451"]))
    retried = _retried(config)
    for code in ("421", "451"):
        check(f"  {code}: retried, then sent", True,
              bool(retried[code]) and all(state_of[by_message[r]].state == "sent" for r in retried[code]))
    outcome.notes.append(
        f"delivered {len(delivered)} replies for {len(copies)} messages: {duplicates} duplicate(s). A duplicate "
        "comes only from a kill between the SMTP server's 250 and the outbox noting the reply as sent: the "
        "next run sends it again (at-least-once; a Message-ID lets the recipient's client fold the copies).")


def _judge_mailbox_and_log(outcome: Outcome, mailbox, service: Service) -> None:
    n, check = outcome.messages, outcome.check
    check("INBOX left", 0, len(mailbox.messages("INBOX")))
    check("moved to the processed folder", n, len(mailbox.messages("已处理")))
    log = service.log()
    # the outage shows as failed polls, or as filed mail that could not be moved yet (the poll in
    # hand goes on filing what it had already fetched)
    check("Dovecot outage in the log", True, "收取邮件失败" in log or "移到已处理文件夹失败，下次重试" in log)
    check("Traceback in the service's output", False, "Traceback" in service.tail() + log)
    left = [p for p in service.system_tmp.rglob("*") if p.is_file()] if service.system_tmp else []
    check("files left outside the data folder (TMPDIR)", 0, len(left))


def _in_reply_to(content: bytes) -> str:
    for line in content.split(b"\r\n\r\n", 1)[0].splitlines():
        if line.lower().startswith(b"in-reply-to:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


def _attribute_duplicates(outcome: Outcome, smtp: SmtpServer) -> int:
    """Each second copy is put on the first kill after the first copy arrived; one that no kill
    separates from its first copy stays unexplained (and makes the check fail)."""
    first: dict[str, float] = {}
    duplicates = 0
    for received in sorted(smtp.messages, key=lambda r: r.at):
        key = _in_reply_to(received.content)
        if key not in first:
            first[key] = received.at
            continue
        duplicates += 1
        between = [k for k in outcome.kills if first[key] <= k.at <= received.at]
        if between:
            between[0].duplicates += 1
        first[key] = received.at
    return duplicates


def _retried(config: Path) -> dict[str, set[int]]:
    """SMTP code → the message ids whose reply the outbox noted a temporary failure for."""
    engine = make_engine(database_of(config))
    with new_session(engine) as session:
        rows = session.exec(select(AuditRow, ReplyRow).where(
            AuditRow.entity == "reply", AuditRow.action == "attempt", AuditRow.entity_id == ReplyRow.id)).all()
    engine.dispose()
    found: dict[str, set[int]] = {"421": set(), "451": set()}
    for audit, reply in rows:
        for code in found:
            if code in (audit.note or ""):
                found[code].add(reply.message_id)
    return found
