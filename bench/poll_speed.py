"""How long a poll of a big, already-filed mailbox takes, and what the IMAP server received.

    .venv/bin/python -m bench.poll_speed [--messages 10000] [--polls 25]

Starts a throwaway Dovecot (tests/dovecot.py: root and Debian's dovecot-imapd, as for the
tests), writes N small messages straight into the user's Maildir (setup, timed on its own),
takes them all with one poll as the service's first poll would (the mail is discarded: as if
filed), then times empty polls on the same connection and counts, in Dovecot's rawlog, the
commands the server received for each; the same for a folder of 10 to show the count does
not grow. Then the same empty poll for MaildirSource on a local Maildir of N files.
Target (issue 3): a constant number of commands and under 100 ms for 10,000 filed messages.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from ingest.sources import ImapSource, MaildirConfig, MaildirSource
from ingest.sources.base import Cursor
from testing.dovecot import Dovecot, require_dovecot
from testing.mailbox import Mailbox

TARGET_MS = 100.0


def _message(number: int) -> bytes:
    return (f"From: district{number}@example.cn\r\nTo: intake@example.org\r\nSubject: nomination {number}\r\n"
            f"Message-ID: <{number}.bench@example.cn>\r\n\r\n推荐材料 {number}\r\n").encode("utf-8")


def _filed(source, folder: str = "INBOX") -> tuple[Cursor, int, float]:
    """One poll that takes everything; the cursor after it, how many, and how long it took."""
    started = time.perf_counter()
    batch = source.poll(Cursor(folder))
    last, count = 0, 0
    for mail in batch.mails:
        last, count = mail.uid, count + 1
    return Cursor(folder, batch.uidvalidity, last), count, time.perf_counter() - started


def _empty_polls(source, cursor: Cursor, polls: int,
                 mailbox: Mailbox | None = None) -> tuple[list[float], list[list[str]]]:
    timings, commands = [], []
    for _ in range(polls):
        mark = mailbox.mark() if mailbox else None
        started = time.perf_counter()
        batch = source.poll(cursor)
        offered = sum(1 for _ in batch.mails)
        timings.append((time.perf_counter() - started) * 1000)
        if offered:
            raise SystemExit(f"an empty poll offered {offered} messages")
        if mailbox:
            commands.append([line.split(" ", 1)[1] for line in mailbox.commands(mark)])
    return timings, commands


def _summary(timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms, max {ordered[-1]:.2f} ms"


def _imap(server: Dovecot, size: int, polls: int) -> tuple[list[str], float]:
    mailbox = server.add_user(prefix=f"bench{size}-")
    started = time.perf_counter()
    mailbox.fill(_message(n) for n in range(size))
    setup = time.perf_counter() - started
    with ImapSource(mailbox.config(timeout_seconds=30)) as source:
        cursor, count, first = _filed(source)
        timings, commands = _empty_polls(source, cursor, polls, mailbox)
    if len({tuple(each) for each in commands}) != 1:
        raise SystemExit(f"empty polls sent different commands: {commands}")
    median = statistics.median(timings)
    print(f"IMAP, {size} filed messages:")
    print(f"  setup: {size} messages written into the Maildir in {setup:.2f} s")
    print(f"  first poll (Dovecot indexes the folder, {count} messages fetched): {first:.2f} s")
    print(f"  empty poll x{polls}: {len(commands[0])} commands counted by the server "
          f"({'; '.join(commands[0])}); {_summary(timings)}")
    return commands[0], median


def _maildir(size: int, polls: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for sub in ("new", "cur", "tmp"):
            (root / sub).mkdir()
        started = time.perf_counter()
        for n in range(size):
            (root / "cur" / f"{1700000000 + n}.M{n}P{os.getpid()}.bench:2,").write_bytes(_message(n))
        setup = time.perf_counter() - started
        source = MaildirSource(MaildirConfig(path=root))
        cursor, count, first = _filed(source)
        timings, _ = _empty_polls(source, cursor, polls)
    print(f"Maildir, {size} filed messages: setup {setup:.2f} s, first poll ({count} read) {first:.2f} s, "
          f"empty poll x{polls}: {_summary(timings)}")
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--polls", type=int, default=25)
    args = parser.parse_args()
    require_dovecot()
    server = Dovecot()
    server.start()
    try:
        small, _ = _imap(server, 10, args.polls)
        big, median = _imap(server, args.messages, args.polls)
    finally:
        server.cleanup()
    maildir_median = _maildir(args.messages, args.polls)
    same = [command.split(" UID ")[0] for command in small] == [command.split(" UID ")[0] for command in big]
    print(f"commands of an empty poll, 10 vs {args.messages} filed: {len(small)} vs {len(big)} "
          f"({'the same' if same and len(small) == len(big) else 'DIFFERENT'})")
    ok = same and len(small) == len(big) and median < TARGET_MS and maildir_median < TARGET_MS
    print(f"target: constant commands and under {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
