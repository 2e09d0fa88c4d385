"""How soon a sender has our reply under `intake run` with IMAP IDLE: from APPEND to the reply at the SMTP server.

    .venv/bin/python -m bench.idle_latency [--messages 15] [--gap 4] [--poll-seconds S] [--send-seconds S]

Starts a throwaway Dovecot (testing/dovecot.py) and, in this process, an aiosmtpd server
(testing/smtp_server.py), then the real `intake run` as a process with a config for them:
IMAP IDLE on, replies by SMTP, the schedule as deployed (the poll every 60 s, the outbox sent
every 30 s) unless --poll-seconds / --send-seconds say otherwise. Once its first poll is done and
its IDLE connection waits (the server's rawlog shows the IDLE command), it APPENDs N normal
nominations one at a time, --gap seconds apart whether or not the last reply is in (as mail
arrives): each a 巴渝工匠 form (.docx), a write-up and five 1600×1200 phone photos, from a sender
and nominee of its own, with an INTERNALDATE inside the campaign. Each is timed from the moment
its APPEND was answered (the mail is in the mailbox) to the moment its reply (In-Reply-To: its
Message-ID) was accepted by the SMTP server. On the way: when Dovecot told the IDLE connection
(`* n EXISTS`) and when the woken poll asked for new UIDs (`UID SEARCH`), from the server's
rawlog of the service's sessions; when the service took it in (`created_at` of its ledger row,
table `message`) and when it was filed with its reply queued (`filed_at`). Prints every message and the median, p90
and max of each, against the target: the reply within 3 s, median.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from functools import lru_cache
from pathlib import Path

from core.times import SHANGHAI
from testing.dovecot import Dovecot, require_dovecot
from testing.mailbox import Mailbox
from testing.smtp_server import SmtpServer

TARGET_MEDIAN = 3.0  # seconds from the mail's arrival to our reply at the sender's server
FIRST_ARRIVAL = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)  # inside the 巴渝工匠 2017 campaign
PHOTOS = 5
PHOTO_SIZE = (1600, 1200)
SEED = 70_000  # nominees of their own, apart from bench/synthetic_mailbox.py's
READY_SECONDS = 120  # for the service's start, first poll and IDLE
REPLY_SECONDS = 180  # for the last reply after the last APPEND


@dataclass
class Sent:
    index: int
    message_id: str
    size: int
    appended: float = 0.0  # time.monotonic() when the APPEND was answered
    appended_wall: float = 0.0  # the same moment, time.time(), to compare with the ledger's times
    replied: float | None = None  # time.monotonic() when the SMTP server accepted the reply
    notified: float | None = None  # seconds from the APPEND to Dovecot's EXISTS on the IDLE connection
    searched: float | None = None  # … to the woken poll's UID SEARCH
    taken: float | None = None  # seconds from the APPEND to the ledger row (created_at)
    filed: float | None = None  # … to filed_at
    status: str = "-"  # the verdict the ledger holds

    @property
    def latency(self) -> float | None:
        return None if self.replied is None else self.replied - self.appended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=15)
    parser.add_argument("--gap", type=float, default=4.0, help="seconds between two APPENDs")
    parser.add_argument("--poll-seconds", type=float, help="[schedule] poll_seconds (default: the service's, 60)")
    parser.add_argument("--send-seconds", type=float, help="[schedule] send_seconds (default: the service's, 30)")
    args = parser.parse_args()
    require_dovecot()
    started = time.perf_counter()
    mails = [_nomination(n) for n in range(args.messages)]
    print(f"{len(mails)} nominations of {sum(len(raw) for _, raw in mails) / len(mails) / 1e6:.1f} MB each, "
          f"built in {time.perf_counter() - started:.1f} s; load average before: {_load()}")
    server = Dovecot()
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="idle-latency-") as folder, SmtpServer() as smtp:
            work = Path(folder)
            box = server.add_user(prefix="latency")
            config = _write_config(work, box, smtp, args.poll_seconds, args.send_seconds)
            sent = _measure(box, smtp, config, work, mails, args.gap)
    finally:
        server.cleanup()
    print(f"load average after: {_load()}\n")
    ok = _report(sent, args)
    raise SystemExit(0 if ok else 1)


# --- the nominations ----------------------------------------------------------------------


def _nomination(n: int) -> tuple[str, bytes]:
    """A complete nomination: form, write-up and five photos; (Message-ID, raw)."""
    from testing.builders import forms, seals
    from testing.builders.submission import nomination_mail

    values = seals.random_values(random.Random(SEED + n))
    writeup = forms.writeup_docx(1200, title=f"{values.name}同志先进事迹材料")
    files = [(f"{values.name}推荐表.docx", forms.bayu_form_docx(values)), (f"{values.name}事迹材料.docx", writeup)]
    files += [(f"{values.name}照片{k + 1}.jpg", _photo((n + k) % 8)) for k in range(PHOTOS)]
    message_id = f"<latency-{n}-{os.getpid()}@example.cn>"
    arrival = FIRST_ARRIVAL + timedelta(minutes=n)
    raw = nomination_mail(files, subject=f"2017年度巴渝工匠推荐材料（{values.name}）",
                          sender=f"{values.recommending_unit} <latency{n}@example.cn>",
                          sent=arrival - timedelta(minutes=1), received=arrival, message_id=message_id)
    return message_id, raw


@lru_cache(maxsize=None)
def _photo(seed: int) -> bytes:
    from testing.builders.media import camera_jpeg

    return camera_jpeg(seed, PHOTO_SIZE, quality=80)


# --- the service --------------------------------------------------------------------------


def _write_config(work: Path, box: Mailbox, smtp: SmtpServer, poll: float | None, send: float | None) -> Path:
    mailbox = box.config()
    schedule = "".join(f"{key} = {value}\n" for key, value in (("poll_seconds", poll), ("send_seconds", send))
                       if value is not None)
    path = work / "intake.toml"
    path.write_text(f"""
campaign = "chongqing-bayu-2017"
data_path = "{work / 'data'}"

[mailbox]
kind = "imap"
host = "{mailbox.host}"
port = {mailbox.port}
security = "plain"
username = "{mailbox.username}"
password_file = "{mailbox.password_file}"
idle = true

[smtp]
kind = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "plain"

[replies]
from_addr = "bygj@cqgh.org"

[schedule]
{schedule}""", encoding="utf-8")
    return path


def _measure(box: Mailbox, smtp: SmtpServer, config: Path, work: Path, mails: list[tuple[str, bytes]],
             gap: float) -> list[Sent]:
    log = work / "intake-run.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("INTAKE_FAILPOINT", "INTAKE_CLOCK", "INTAKE_STAGE_TIMES")}
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)], env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    database = work / "data" / "intake.sqlite3"
    try:
        ready = _wait_until_idle(box, database, process)
        print(f"intake run: first poll done and IDLE waiting {ready:.1f} s after its start")
        sent = [Sent(n, message_id, len(raw)) for n, (message_id, raw) in enumerate(mails)]
        for each, (_, raw) in zip(sent, mails):
            next_at = time.monotonic() + gap
            with box.connect() as client:
                client.append("INBOX", raw, msg_time=FIRST_ARRIVAL + timedelta(minutes=each.index))
            each.appended, each.appended_wall = time.monotonic(), time.time()
            _note_replies(smtp, sent)
            while time.monotonic() < next_at:
                time.sleep(0.01)
        deadline = time.monotonic() + REPLY_SECONDS
        while any(each.replied is None for each in sent) and time.monotonic() < deadline:
            if process.poll() is not None:
                break
            time.sleep(0.05)
            _note_replies(smtp, sent)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    _ledger_times(database, sent)
    _rawlog_times(box, sent)
    if process.returncode not in (0, None) or any(each.replied is None for each in sent):
        print(f"intake run ended with {process.returncode}; its last lines:\n"
              + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    return sent


def _wait_until_idle(box: Mailbox, database: Path, process: subprocess.Popen) -> float:
    """Seconds from the start until the first poll is in the ledger and the server has seen IDLE."""
    started = time.monotonic()
    while time.monotonic() - started < READY_SECONDS:
        if process.poll() is not None:
            raise SystemExit(f"intake run exited with {process.returncode} at its start")
        if _polled(database) and any(re.match(r"\S+ IDLE\b", line, re.I) for line in box.commands()):
            return time.monotonic() - started
        time.sleep(0.1)
    raise SystemExit(f"intake run not polling and in IDLE after {READY_SECONDS} s")


def _polled(database: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT count(*) FROM mailbox_state").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def _note_replies(smtp: SmtpServer, sent: list[Sent]) -> None:
    """Mark each message whose reply the SMTP server has, at the time it accepted it."""
    waiting = {each.message_id: each for each in sent if each.replied is None}
    for received in list(smtp.messages):
        headers = BytesHeaderParser().parsebytes(received.content)
        each = waiting.get((headers["In-Reply-To"] or "").strip())
        if each is not None:
            each.replied = received.at


def _ledger_times(database: Path, sent: list[Sent]) -> None:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        rows = connection.execute("SELECT message_id, created_at, filed_at, state, status FROM message").fetchall()
    by_id = {message_id: rest for message_id, *rest in rows}
    for each in sent:
        created, filed, state, status = by_id.get(each.message_id, (None, None, "not taken", None))
        each.taken = _since(created, each.appended_wall)
        each.filed = _since(filed, each.appended_wall)
        each.status = f"{state}/{status or '-'}"


_EXISTS = re.compile(rb"^(\d+\.\d+) \* \d+ EXISTS\r?$", re.M)
_SEARCH = re.compile(rb"^(\d+\.\d+) \S+ UID SEARCH ", re.M)
_IDLE = re.compile(rb"^\d+\.\d+ \S+ IDLE\r?$", re.M)


def _rawlog_times(box: Mailbox, sent: list[Sent]) -> None:
    """From the server's rawlog (its lines stamped with time.time()): the EXISTS it sent to an IDLE
    session, and the poll's UID SEARCH, first after each APPEND."""
    folder = box.server.root / "rawlog" / box.user
    exists, searches = [], []
    for commands in folder.glob("*.in"):
        data = commands.read_bytes()
        searches += [float(stamp) for stamp in _SEARCH.findall(data)]
        if _IDLE.search(data):
            exists += [float(stamp) for stamp in _EXISTS.findall(commands.with_suffix(".out").read_bytes())]
    exists.sort()
    searches.sort()
    for each in sent:
        each.notified = _first_after(exists, each.appended_wall)
        each.searched = _first_after(searches, each.appended_wall)


def _first_after(stamps: list[float], wall: float) -> float | None:
    return next((stamp - wall for stamp in stamps if stamp >= wall), None)


def _since(stored: str | None, wall: float) -> float | None:
    """Seconds from `wall` (time.time()) to a UTC time as the ledger stores it."""
    if not stored:
        return None
    moment = datetime.fromisoformat(stored)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.timestamp() - wall


# --- the report ---------------------------------------------------------------------------


def _report(sent: list[Sent], args) -> bool:
    schedule = (f"poll every {args.poll_seconds or 60:g} s, send every {args.send_seconds or 30:g} s"
                f"{'' if args.send_seconds else ' (the service default)'}")
    print(f"IDLE latency under `intake run`, {len(sent)} nominations {args.gap:g} s apart; {schedule}")
    print(f"{'#':>3} {'MB':>5} {'EXISTS s':>9} {'SEARCH s':>9} {'in ledger s':>12} {'filed s':>8} {'reply s':>8}  "
          f"ledger")
    for each in sent:
        print(f"{each.index:>3} {each.size / 1e6:>5.1f} {_figure(each.notified):>9} {_figure(each.searched):>9} "
              f"{_figure(each.taken):>12} {_figure(each.filed):>8} {_figure(each.latency):>8}  {each.status}")
    print("(seconds from the APPEND's answer: Dovecot's EXISTS on the IDLE connection, the woken poll's UID "
          "SEARCH, taken into the ledger, filed with its reply queued, reply accepted by the SMTP server)\n")
    for what, values in (("EXISTS", [e.notified for e in sent]), ("SEARCH", [e.searched for e in sent]),
                         ("in ledger", [e.taken for e in sent]), ("filed", [e.filed for e in sent]),
                         ("reply", [e.latency for e in sent])):
        known = sorted(v for v in values if v is not None)
        if known:
            print(f"{what:<10} median {statistics.median(known):6.2f} s   p90 {_p90(known):6.2f} s   "
                  f"max {known[-1]:6.2f} s   ({len(known)} of {len(sent)})")
        else:
            print(f"{what:<10} none")
    replies = sorted(e.latency for e in sent if e.latency is not None)
    met = len(replies) == len(sent) and statistics.median(replies) < TARGET_MEDIAN
    median = f"{statistics.median(replies):.2f} s" if replies else "no reply"
    missing = f", {len(sent) - len(replies)} without a reply" if len(replies) < len(sent) else ""
    print(f"\ntarget: reply within {TARGET_MEDIAN:g} s of the APPEND, median: {median}{missing}, "
          f"{'met' if met else 'NOT met'}")
    return met


def _p90(values: list[float]) -> float:
    """The 90th percentile, nearest rank."""
    return values[max(0, -(-len(values) * 9 // 10) - 1)]


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
