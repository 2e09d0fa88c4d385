"""Filing verdicts: intake numbers, resubmissions, duplicates, audit — on SQLite and PostgreSQL."""

from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, event
from sqlmodel import select

import campaigns
from core.times import shown
from service.judge import judge
from storage.db import DatabaseUnusable, open_database
from storage.db import session as new_session
from storage.filing import earlier_nominees, file_verdict, find_duplicate
from storage.models import AttachmentRow, AuditRow, FindingRow, MessageRow, NomineeRow
from testing.builders import archives, forms
from testing.builders.forms import FormValues
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.idcards import id_number
from validators.memory import as_duplicate, with_history

CITY = campaigns.load("chongqing-bayu-2017")
ZHANG = FormValues(id_number=id_number())
PHOTOS = [(f"照片{i}.jpg", photo_jpeg(i)) for i in range(4)]
NOW = datetime(2017, 4, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        return open_database(f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    url = request.getfixturevalue("postgres_url")
    # a clean schema per test on the shared cluster: whatever tables other tests' migrations made
    cleaner = create_engine(url)
    with cleaner.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    cleaner.dispose()
    return open_database(url)


def mail(values=ZHANG, writeup=1000, message_id="<a@x.cn>", **kwargs) -> bytes:
    files = [("推荐表.docx", forms.bayu_form_docx(values)), ("事迹.docx", forms.writeup_docx(writeup))] + PHOTOS
    return nomination_mail(files, message_id=message_id, **kwargs)


@contextmanager
def statements(engine):
    """The SQL statements the engine runs meanwhile (an executemany is one), as their text."""
    seen = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def district_mail(people, message_id: str) -> bytes:
    """A district's zip with a folder for each person: form, write-up and four photos."""
    entries = []
    for n, values in enumerate(people):
        folder = f"沙坪坝区推荐材料/{values.name}"
        entries += [(f"{folder}/推荐表.docx", forms.bayu_form_docx(values)),
                    (f"{folder}/事迹材料.docx", forms.writeup_docx(1000)),
                    *[(f"{folder}/{i}.jpg", photo_jpeg(40 + 10 * n + i)) for i in range(4)]]
    files = [("沙坪坝区推荐材料.zip", archives.zip_bytes(entries, name_encoding="gbk"))]
    return nomination_mail(files, message_id=message_id, sender="沙坪坝区总工会 <spb@example.cn>",
                           subject="沙坪坝区巴渝工匠推荐材料")


def file_mail(engine, raw: bytes, uid: int, seen: list | None = None):
    """What the service does for one message, without a mailbox; `seen`: the filing's statements."""
    verdict = judge(raw, CITY)
    with new_session(engine) as session:
        from storage.filing import ensure_campaign

        ensure_campaign(session, CITY)
        row = MessageRow(campaign_id=CITY.id, account="test", folder="INBOX", uidvalidity=1, uid=uid,
                         raw_sha256=verdict.message.raw_sha256, raw_size=len(raw), message_id=verdict.message.message_id,
                         received_at=verdict.message.received_at, received_at_source="test")
        session.add(row)
        session.flush()
        with statements(engine) if seen is not None else nullcontext([]) as counted:
            duplicate = find_duplicate(session, row)
            if duplicate is not None:
                verdict = as_duplicate(verdict, duplicate)
            earlier = earlier_nominees(session, verdict, CITY.id, shown)
            verdict = with_history(verdict, earlier)
            filed = file_verdict(session, row, verdict, CITY, earlier, NOW)
            session.commit()
        if seen is not None:
            seen += counted
        return row.id, verdict, filed


def nominees(engine):
    with new_session(engine) as session:
        return session.exec(select(NomineeRow).order_by(NomineeRow.id)).all()


def test_accepted_nominees_get_consecutive_intake_numbers(engine):
    li = FormValues(name="李四", id_number=id_number(sequence="456"))
    _, verdict, filed = file_mail(engine, mail(), 1)
    assert verdict.status == "accepted" and [f.intake_number for f in filed] == ["BYGJ-2017-0001"]
    _, _, filed = file_mail(engine, mail(li, message_id="<b@x.cn>"), 2)
    assert [f.intake_number for f in filed] == ["BYGJ-2017-0002"]


def test_rejected_nominee_gets_no_number(engine):
    _, verdict, filed = file_mail(engine, mail(writeup=1600), 1)
    assert verdict.status == "rejected" and filed[0].intake_number is None
    with new_session(engine) as session:
        codes = session.exec(select(FindingRow.code)).all()
    assert codes == ["WRITEUP_TOO_LONG"]


def test_the_same_message_twice_is_a_duplicate(engine):
    raw = mail()
    first, _, _ = file_mail(engine, raw, 1)
    _, verdict, filed = file_mail(engine, raw, 2)
    assert verdict.status == "ignored" and [f.code for f in verdict.findings] == ["DUPLICATE_MESSAGE"]
    assert filed == [] and len(nominees(engine)) == 1
    # the same Message-ID with other bytes (a client's resend) is the same message too
    _, verdict, _ = file_mail(engine, mail(writeup=1001), 3)
    assert verdict.status == "ignored"


def test_a_resubmission_supersedes_and_keeps_the_number(engine):
    file_mail(engine, mail(writeup=1600), 1)  # rejected: too long
    _, verdict, filed = file_mail(engine, mail(writeup=1400, message_id="<fixed@x.cn>"), 2)
    assert verdict.status == "accepted"
    [finding] = [f for f in verdict.nominees[0].findings if f.code == "RESUBMISSION"]
    assert finding.severity == "info"
    first, second = nominees(engine)
    assert first.superseded_by == second.id and second.superseded_by is None
    # a third, accepted again: the number the office gave stays with the person
    _, _, again = file_mail(engine, mail(writeup=1300, message_id="<again@x.cn>"), 3)
    assert again[0].intake_number == filed[0].intake_number == "BYGJ-2017-0001"
    assert [n.intake_number for n in nominees(engine)] == [None, None, "BYGJ-2017-0001"]


def test_a_worse_resubmission_goes_to_staff_instead_of_replacing(engine):
    file_mail(engine, mail(), 1)  # accepted
    _, verdict, filed = file_mail(engine, mail(writeup=1700, message_id="<worse@x.cn>"), 2)
    assert verdict.nominees[0].status == "needs_review"
    [finding] = [f for f in verdict.nominees[0].findings if f.code == "RESUBMISSION"]
    assert finding.severity == "review"
    accepted, worse = nominees(engine)
    assert accepted.superseded_by is None and accepted.intake_number == "BYGJ-2017-0001"
    assert worse.status == "needs_review"


def test_every_filing_is_audited(engine):
    message_id, _, filed = file_mail(engine, mail(), 1)
    with new_session(engine) as session:
        rows = session.exec(select(AuditRow).order_by(AuditRow.id)).all()
    assert [(r.entity, r.entity_id, r.action, r.after) for r in rows] == [
        ("nominee", filed[0].record_id, "filed", "accepted"), ("message", message_id, "filed", "accepted")]


def starting(seen: list[str], prefix: str) -> int:
    return sum(1 for statement in seen if statement.startswith(prefix))


def test_filing_a_message_costs_a_few_statements_however_many_people_and_files(engine):
    """Issue 17: a district's two people with six files each are filed in one transaction of ten
    statements, not one a file and two a person; the records are what they were."""
    li = FormValues(name="李四", id_number=id_number(sequence="456"))
    seen = []
    message_id, verdict, filed = file_mail(engine, district_mail([ZHANG, li], "<district@x.cn>"), 1, seen)
    assert [n.status for n in verdict.nominees] == ["accepted", "accepted"]
    assert [f.intake_number for f in filed] == ["BYGJ-2017-0001", "BYGJ-2017-0002"]
    # a question each: earlier filings of anyone in the mail, the same mail filed before, the counter
    assert starting(seen, "SELECT") == 3, seen
    assert [starting(seen, f"INSERT INTO {table} ") for table in ("attachment", "finding", "audit")] == [1, 0, 1]
    assert starting(seen, "UPDATE message ") == starting(seen, "UPDATE campaign ") == 1
    assert len(seen) <= 10, seen  # the two people's INSERTs too (one where the database returns both ids)
    with new_session(engine) as session:
        files = session.exec(select(AttachmentRow).order_by(AttachmentRow.id)).all()
        audits = session.exec(select(AuditRow).order_by(AuditRow.id)).all()
    assert [(f.nominee_id, f.role) for f in files] == [
        (filed[n].record_id, role) for n in range(2) for role in ("form", "writeup", "photo", "photo", "photo", "photo")]
    assert {f.message_id for f in files} == {message_id} and all(f.probe for f in files if f.role == "photo")
    assert [(a.entity_id, a.action, a.note) for a in audits] == [
        (filed[0].record_id, "filed", "intake number BYGJ-2017-0001"),
        (filed[1].record_id, "filed", "intake number BYGJ-2017-0002"), (message_id, "filed", "")]


def test_a_resubmission_of_two_people_supersedes_both_in_a_few_statements(engine):
    """Both people sent again with a better write-up: each earlier filing is superseded and lets
    go of its number in one UPDATE, and the numbers stay with the people."""
    li = FormValues(name="李四", id_number=id_number(sequence="456"))
    _, _, first = file_mail(engine, district_mail([ZHANG, li], "<district@x.cn>"), 1)
    seen = []
    message_id, verdict, again = file_mail(engine, district_mail([ZHANG, li], "<again@x.cn>"), 2, seen)
    assert [f.intake_number for f in again] == [f.intake_number for f in first] == ["BYGJ-2017-0001", "BYGJ-2017-0002"]
    assert starting(seen, "SELECT") == 2, seen  # no counter: both keep their numbers
    assert [starting(seen, f"INSERT INTO {table} ") for table in ("attachment", "audit")] == [1, 1]
    assert len(seen) <= 12, seen
    rows = nominees(engine)
    assert [(r.superseded_by, r.intake_number) for r in rows] == [
        (again[0].record_id, None), (again[1].record_id, None), (None, "BYGJ-2017-0001"), (None, "BYGJ-2017-0002")]
    with new_session(engine) as session:
        audits = session.exec(select(AuditRow).where(AuditRow.id > 3).order_by(AuditRow.id)).all()
    assert [(a.entity_id, a.action, a.before) for a in audits] == [
        (first[0].record_id, "superseded", "accepted"), (again[0].record_id, "filed", None),
        (first[1].record_id, "superseded", "accepted"), (again[1].record_id, "filed", None),
        (message_id, "filed", None)]


def test_a_damaged_database_file_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "intake.sqlite3"
    open_database(f"sqlite:///{path}").dispose()  # the last close checkpoints the WAL into the file
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)  # every page but the header page scribbled over
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseUnusable, match="损坏"):
        open_database(f"sqlite:///{path}")
    path.write_bytes(b"this is not a database" * 300)
    with pytest.raises(DatabaseUnusable, match="损坏或不是数据库"):
        open_database(f"sqlite:///{path}")


def _open(url: str) -> None:
    open_database(url)


def test_processes_starting_together_do_not_race_the_migration(tmp_path):
    import multiprocessing

    url = f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    starters = [multiprocessing.get_context("spawn").Process(target=_open, args=(url,)) for _ in range(4)]
    for process in starters:
        process.start()
    for process in starters:
        process.join(timeout=120)
    assert [p.exitcode for p in starters] == [0, 0, 0, 0]
