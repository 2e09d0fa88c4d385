"""Filing alone: the database work of one judged message, in ms and SQL statements (issue 17).

    .venv/bin/python -m bench.filing_speed [--messages 200] [--plans]

Files N judged messages through the service's own filing (`Intake._file_verdict`: the follow-up
pre-pass, then the one transaction that files the verdict and queues its reply) on SQLite in a
temporary folder. The mail is the bundled sample mailbox (samples/mailbox: complete, late, wrong,
a district's zip of two people, a question, an auto-reply, PDF, encrypted, unstamped, a stamped
scan) and generated mail (testing/builders): district zips of three people, single nominations,
and photos sent later (补发) that complete a rejected nominee. Each distinct mail is judged once
(cached under testing/builders/media.py `cache_folder()`); message i is copy i // M of mail
i % M, its Message-ID and bytes made its own, so the first round files new people and later
rounds resubmissions of the same people (superseding, numbers kept), as a campaign sees both.
The ledger row is taken before the clock starts, as the service takes it before judging.

Prints ms a message (the pre-pass and the filing's transaction apart), SQL statements a message
by kind (an SQLAlchemy `before_cursor_execute` counter: an executemany is one), the statements
run most often, and with --plans SQLite's EXPLAIN QUERY PLAN of every SELECT that scans a table.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import pickle
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from sqlalchemy import event

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "mailbox"
CACHE_VERSION = "v1"
GENERATED = 12  # distinct generated mails beside the 11 samples


def _generated() -> list[bytes]:
    from testing.builders import archives, forms
    from testing.builders.forms import FormValues
    from testing.builders.submission import nomination_mail, photo_jpeg
    from testing.idcards import id_number

    def person(n: int) -> FormValues:
        return FormValues(name=f"工匠{n:02d}", id_number=id_number(sequence=f"{500 + n:03d}"), channel="组织推荐")

    def photos(prefix: str, seed: int, count: int = 4) -> list[tuple[str, bytes]]:
        return [(f"{prefix}/{i}.jpg", photo_jpeg(seed + i, size=(96, 72))) for i in range(count)]

    mails = []
    for k in range(GENERATED):
        sender = f"第{k}工会 <union{k}@unit.example.cn>"
        if k % 3 == 0:  # a district's zip of three people
            entries = []
            for n in range(3 * k, 3 * k + 3):
                folder = f"区县材料/工匠{n:02d}"
                entries += [(f"{folder}/推荐表.docx", forms.bayu_form_docx(person(n))),
                            (f"{folder}/事迹材料.docx", forms.writeup_docx(900)), *photos(folder, n * 10)]
            files = [("区县推荐材料.zip", archives.zip_bytes(entries, name_encoding="gbk"))]
            mails.append(nomination_mail(files, sender=sender, message_id=f"<zip{k}@bench.example.cn>",
                                         subject="区县巴渝工匠推荐材料（3人）"))
        elif k % 3 == 1:  # one person, photos missing: rejected, completed by the next mail
            n = 3 * k
            files = [("推荐表.docx", forms.bayu_form_docx(person(n))), ("事迹材料.docx", forms.writeup_docx(900))]
            mails.append(nomination_mail(files, sender=sender, message_id=f"<one{k}@bench.example.cn>",
                                         subject=f"工匠{n:02d}推荐材料"))
        else:  # the photos of the previous mail's person, sent later by the same sender
            n, sender = 3 * (k - 1), f"第{k - 1}工会 <union{k - 1}@unit.example.cn>"
            files = [(f"工匠{n:02d}照片{i}.jpg", photo_jpeg(n * 10 + i, size=(96, 72))) for i in range(4)]
            mails.append(nomination_mail(files, sender=sender, message_id=f"<more{k}@bench.example.cn>",
                                         subject=f"工匠{n:02d}补发照片"))
    return mails


def _cache() -> Path:
    from testing.builders.media import cache_folder

    folder = cache_folder() / f"filing-speed-{CACHE_VERSION}"
    folder.mkdir(exist_ok=True)
    return folder


def distinct_mails() -> list[bytes]:
    """The samples and the generated mail, the latter built once and kept (the builders are not
    byte-for-byte the same on every run, and two versions of the filing must file the same bytes)."""
    folder = _cache() / "generated"
    if not folder.exists():
        partial = folder.with_suffix(".part")
        partial.mkdir()
        for index, raw in enumerate(_generated()):
            (partial / f"{index:03d}.eml").write_bytes(raw)
        partial.rename(folder)
    generated = [path.read_bytes() for path in sorted(folder.glob("*.eml"))]
    return [path.read_bytes() for path in sorted(SAMPLES.glob("*.eml"))] + generated


def _judged(raws: list[bytes], profile) -> dict[str, object]:
    """Each distinct mail's verdict by sha256, judged once and kept in the bench cache."""
    from service.judge import judge

    folder = _cache()
    verdicts = {}
    for raw in raws:
        sha = hashlib.sha256(raw).hexdigest()
        path = folder / f"{sha}.pickle"
        if not path.exists():
            verdict = judge(raw, profile, received_at=None, received_at_source="imap")
            partial = path.with_suffix(".part")
            partial.write_bytes(pickle.dumps(verdict))
            partial.rename(path)
        verdicts[sha] = pickle.loads(path.read_bytes())
    return verdicts


def _copy(raw: bytes, verdict, copy: int) -> tuple[bytes, object]:
    """Copy `copy` of a mail: its own Message-ID and bytes, judged as the original was."""
    if copy == 0:
        return raw, verdict
    old = verdict.message.message_id
    new = old.replace("@", f".copy{copy}@")
    raw = raw.replace(old.encode(), new.encode(), 1)
    headers = tuple((k, new if k.lower() == "message-id" else v) for k, v in verdict.message.headers)
    message = replace(verdict.message, message_id=new, raw_sha256=hashlib.sha256(raw).hexdigest(),
                      raw_size=len(raw), headers=headers)
    return raw, replace(verdict, submission=replace(verdict.submission, message=message))


class Statements:
    """Every statement the engine runs, with the phase it ran in."""

    def __init__(self, engine):
        self.phase = "other"
        self.seen: Counter[tuple[str, str]] = Counter()
        self.params: dict[str, object] = {}
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, _connection, _cursor, statement, parameters, _context, executemany) -> None:
        text = " ".join(statement.split())
        self.seen[(self.phase, text)] += 1
        if not executemany:
            self.params.setdefault(text, parameters)

    def by_kind(self, phase: str) -> Counter[str]:
        kinds: Counter[str] = Counter()
        for (seen_phase, text), count in self.seen.items():
            if seen_phase == phase:
                kinds[text.split(" ", 1)[0].upper()] += count
        return kinds


def _intake_class():
    from service.intake import Intake

    class Measured(Intake):
        statements: Statements
        pre_pass_seconds = 0.0

        def _judged_together(self, row, verdict, judging):
            self.statements.phase = "pre-pass"
            started = time.perf_counter()
            try:
                return super()._judged_together(row, verdict, judging)
            finally:
                self.pre_pass_seconds += time.perf_counter() - started
                self.statements.phase = "filing"

    return Measured


class Verdicts:
    """A `Judging` whose verdicts were made before the clock started (follow-ups judged here)."""

    def __init__(self, profile):
        self.profile, self.ahead, self.seconds, self.cpu = profile, 0, 0.0, 0.0

    def judge_parsed(self, message):
        from service.judge import judge_message

        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            return judge_message(message, self.profile)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu += time.process_time() - started_cpu


def _config(folder: Path) -> Path:
    """SQLite and replies to a folder (the console's test config), with the office's reply address."""
    from testing.console import write_config

    (folder / "mailbox").mkdir()
    return write_config(folder, extra='\n[replies]\nfrom_addr = "bygj@cqgh.org"\n')


def _plans(database: Path, statements: Statements) -> list[tuple[str, list[str]]]:
    """The SELECTs whose plan scans a table (not a search by an index)."""
    found = []
    with sqlite3.connect(database) as connection:
        for text, parameters in statements.params.items():
            if not text.upper().startswith("SELECT"):
                continue
            rows = connection.execute(f"EXPLAIN QUERY PLAN {text}", parameters or ()).fetchall()
            details = [row[3] for row in rows]
            if any(detail.startswith("SCAN ") for detail in details):  # a table, or a whole index, read through
                found.append((text, details))
    return found


VARYING = {"at", "created_at", "filed_at", "raw", "reply_message_id", "last_poll_at"}  # clock and Message-IDs


def _records(database: Path, temporary: str) -> str:
    """Every row of the tables filing writes, as stored (JSON text, NULL and all), in id order."""
    lines = []
    with sqlite3.connect(database) as connection:
        for table in ("campaign", "message", "nominee", "attachment", "finding", "reply", "audit"):
            cursor = connection.execute(f"SELECT * FROM {table} ORDER BY 1")
            names = [d[0] for d in cursor.description]
            for row in cursor:
                kept = {name: value for name, value in zip(names, row) if name not in VARYING}
                lines.append(f"{table} {kept!r}".replace(temporary, "<tmp>"))
    return "\n".join(lines) + "\n"


def _file_all(intake, judging: Verdicts, raws: list[bytes], verdicts: dict, count: int) -> tuple[float, float]:
    """Take and file `count` messages; the seconds their filing took, on the clock and of this
    process's CPU (the machine may be shared), the taking not counted."""
    from ingest.sources.base import FetchedMail
    from service.intake import PollReport

    report, seconds, cpu = PollReport(), 0.0, 0.0
    for index in range(count):
        original = raws[index % len(raws)]
        raw, verdict = _copy(original, verdicts[hashlib.sha256(original).hexdigest()], index // len(raws))
        intake.statements.phase = "take"
        row = intake._take(FetchedMail(intake.source.account, "INBOX", 1, index + 1, raw, None), False)
        intake.statements.phase = "filing"
        started, started_cpu = time.perf_counter(), time.process_time()
        intake._file_verdict(row, None, lambda verdict=verdict: verdict, judging, report)
        seconds += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        intake.statements.phase = "other"
    assert not report.failed and len(report.filed) == count, report
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--plans", action="store_true", help="EXPLAIN QUERY PLAN of the SELECTs that scan")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--dump", type=Path, help="write every record filed (times and reply bytes left out) "
                                                  "to this file, to compare two versions of the filing")
    args = parser.parse_args()

    from service.runtime import open_runtime

    logging.getLogger("intake").setLevel(logging.ERROR)  # a held reply's warning for each message, not wanted here
    raws = distinct_mails()
    with tempfile.TemporaryDirectory(prefix="filing-speed-") as temporary:
        runtime = open_runtime(_config(Path(temporary)), None)
        verdicts = _judged(raws, runtime.profile)
        judging = Verdicts(runtime.profile)
        statements = Statements(runtime.engine)
        intake = _intake_class()(runtime.config, runtime.profile, runtime.engine, runtime.source(),
                                 blobs=runtime.blobs, judging=judging)
        intake.statements = statements
        seconds, cpu = _file_all(intake, judging, raws, verdicts, args.messages)
        database = Path(runtime.engine.url.database)
        runtime.engine.dispose()
        if args.dump:
            args.dump.write_text(_records(database, temporary), encoding="utf-8")

        n = args.messages
        seconds -= judging.seconds  # a follow-up's judging with the files it completes: not database work
        pre_pass = intake.pre_pass_seconds - judging.seconds
        print(f"{n} messages filed ({len(raws)} distinct mails, {-(-n // len(raws))} rounds), SQLite: "
              f"{seconds / n * 1000:.2f} ms a message (pre-pass {pre_pass / n * 1000:.2f}, "
              f"filing {(seconds - pre_pass) / n * 1000:.2f}; a follow-up's judging left out), "
              f"CPU {(cpu - judging.cpu) / n * 1000:.2f} ms a message")
        for phase in ("pre-pass", "filing"):
            kinds = statements.by_kind(phase)
            said = ", ".join(f"{kind} {count / n:.1f}" for kind, count in kinds.most_common())
            print(f"  {phase}: {sum(kinds.values()) / n:.1f} statements a message ({said})")
        print(f"top {args.top} statements (per message, phase):")
        measured = Counter({key: count for key, count in statements.seen.items() if key[0] in ("pre-pass", "filing")})
        for (phase, text), count in measured.most_common(args.top):
            print(f"  {count / n:5.2f}  {phase:8}  {text[:150]}")
        if args.plans:
            scans = _plans(database, statements)
            print(f"SELECTs that scan a table (EXPLAIN QUERY PLAN): {len(scans) or 'none'}")
            for text, details in scans:
                print(f"  {text[:200]}\n    " + "\n    ".join(details))


if __name__ == "__main__":
    main()
