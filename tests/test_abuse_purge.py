"""`intake purge` removes everything it says (issue 18): after it, the campaign's ID numbers are
nowhere on disk. A mail carrying an ID number in its form, its text, its subject and a file name
goes through the real service (a Maildir the service reads, and a real Dovecot over IMAP); staff
write it out (`review show`), correct a number, export it twice (once with `-o` outside the data
folder); then every byte under the data folder, the mailbox and the export folders is searched,
inside zips (.docx, .xlsx) and base64 mail parts too, SQLite file and its -wal included.
"""

from __future__ import annotations

import email
import io
import os
import sqlite3
import stat
import time
import zipfile
from datetime import datetime, timezone
from email import policy
from pathlib import Path

from starlette.testclient import TestClient

from service.runtime import open_runtime
from testing import console
from testing.builders import forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.service import intake, records, write_config
from web import accounts
from web.app import create_app

ARRIVED = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)
CLOCK = "2017-04-28T10:00:00+08:00"
NUMBER = id_number(sequence="301")
PHONE = "13987654321"
NEEDLES = (NUMBER.encode(), PHONE.encode())


def the_mail() -> bytes:
    """The ID number in the form, the mail's text and subject; the phone in a photo's name."""
    values = FormValues(name="郑九", id_number=NUMBER, phone=PHONE)
    files = [("郑九-推荐表.docx", forms.bayu_form_docx(values)), ("郑九-事迹材料.docx", forms.writeup_docx(900)),
             *[(f"郑九-照片{i + 1}.jpg", photo_jpeg(70 + i, size=(96, 72))) for i in range(3)],
             (f"郑九{PHONE}-照片4.jpg", photo_jpeg(74, size=(96, 72)))]
    message = email.message_from_bytes(
        nomination_mail(files, subject=f"推荐郑九（身份证{NUMBER}）", message_id="<purge@unit.example.cn>",
                        body=f"您好，推荐郑九，身份证号 {NUMBER}，电话 {PHONE}。"), policy=policy.default)
    for part in message.walk():  # the text as 8bit, so its numbers are in the raw bytes as typed
        if part.get_content_type() == "text/plain" and not part.get_filename():
            part.set_content(part.get_content(), cte="8bit")
    return message.as_bytes(policy=policy.SMTP)


def holders(root: Path) -> list[str]:
    """Every file under `root` holding an ID or phone number of the mail, also inside zips and mail."""
    return [str(path) for path in sorted(root.rglob("*"))
            if any(needle.decode() in path.name for needle in NEEDLES) or path.is_file() and _holds(path.read_bytes())]


def _holds(data: bytes, depth: int = 0) -> bool:
    if any(needle in data for needle in NEEDLES):
        return True
    if depth > 3:
        return False
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                return any(_holds(package.read(name), depth + 1) for name in package.namelist())
        except zipfile.BadZipFile:
            return False
    if b"Content-Transfer-Encoding: base64" in data or b"Content-Transfer-Encoding: quoted-printable" in data:
        message = email.message_from_bytes(data, policy=policy.default)
        return any(_holds(part.get_payload(decode=True) or b"", depth + 1) for part in message.walk()
                   if not part.is_multipart())
    return False


def _staff_work(config: Path, outside: Path) -> None:
    _, nominees, _ = records(config)
    [nominee] = nominees
    intake(config, "review", "show", str(nominee.id), clock=CLOCK)
    intake(config, "review", "correct", str(nominee.id), "--field", "phone", "--value", "13911112222", "--no-reply",
           clock=CLOCK)
    intake(config, "export", clock=CLOCK)
    intake(config, "export", "-o", str(outside), clock=CLOCK)


def maildir_config(folder: Path, maildir: Path, smtp) -> Path:
    """The service reading a local Maildir, as a small office runs it beside its mail server."""
    config = folder / "intake.toml"
    config.write_text(f"""
campaign = "chongqing-bayu-2017"
data_path = "{folder / 'data'}"

[mailbox]
kind = "maildir"
path = "{maildir}"

[smtp]
kind = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "plain"
timeout_seconds = 5

[replies]
from_addr = "bygj@cqgh.org"
""", encoding="utf-8")
    return config


def test_after_purge_no_id_number_is_left_in_the_data_the_maildir_or_the_exports(tmp_path, smtp_server):
    maildir = tmp_path / "mailbox"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    delivered = maildir / "new" / "1492653600.M1P1.mx"
    delivered.write_bytes(the_mail())
    stamp = ARRIVED.astimezone(timezone.utc).timestamp()
    os.utime(delivered, (stamp, stamp))
    config = maildir_config(tmp_path, maildir, smtp_server)
    intake(config, "poll", "--once")
    outside = tmp_path / "给评审组"
    outside.mkdir()
    (outside / "评审会议通知.txt").write_text("4月30日评审", encoding="utf-8")  # staff's own, not the export's
    _staff_work(config, outside)
    data = tmp_path / "data"
    assert [p for p in holders(maildir) if "/.&XfJZBHQG-/" in p]  # the mail, moved to 已处理
    assert holders(data) and holders(outside)  # the search finds what is there

    said = intake(config, "purge", "--campaign", "chongqing-bayu-2017", "--yes", clock=CLOCK).stdout
    assert (holders(data), holders(maildir), holders(outside)) == ([], [], [])
    assert f"已删除 {outside.resolve()}/chongqing-bayu-2017-名单.xlsx" in said
    assert "/.&XfJZBHQG-/new/1492653600.M1P1.mx" in said
    assert [p.name for p in outside.iterdir()] == ["评审会议通知.txt"]
    assert "已改为遮盖形式：" in said and "未能删除" not in said
    _, [nominee], _ = records(config)  # the record stays, its numbers masked
    assert nominee.intake_number == "BYGJ-2017-0001"
    assert nominee.fields["id_number"] == f"{NUMBER[:6]}********{NUMBER[-4:]}"


def _console_copies(config: Path) -> list[Path]:
    """What the web console made of the nominee: its page's pictures and a packed export, as a
    reviewer leaves them after looking at the nominee and downloading the accepted files."""
    runtime = open_runtime(config)
    try:
        accounts.add_user(runtime.engine, "rita", "reviewer", "correct horse battery", actor="test")
        _, [nominee], _ = records(config)
        with TestClient(create_app(runtime), base_url="http://127.0.0.1") as client:
            console.logged_in(client, "rita", "correct horse battery")
            assert client.get(f"/nominees/{nominee.id}").status_code == 200
            token = console.csrf_of(client.get("/exports").text)
            job = client.post("/exports/jobs", data={"csrf": token}, follow_redirects=False).headers["location"]
            for _ in range(200):
                if client.get(f"{job}/download").status_code == 200:
                    break
                time.sleep(0.05)
    finally:
        runtime.engine.dispose()
    made = [p for folder in (runtime.config.previews_path, runtime.config.web_exports_path) for p in folder.rglob("*")
            if p.is_file()]
    assert any(p.suffix == ".jpg" for p in made) and any(p.suffix == ".zip" for p in made)
    return made


def test_purge_removes_what_the_web_console_made_of_the_campaign(tmp_path, smtp_server):
    maildir = tmp_path / "mailbox"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1492653600.M1P1.mx").write_bytes(the_mail())
    config = maildir_config(tmp_path, maildir, smtp_server)
    with config.open("a", encoding="utf-8") as more:
        more.write("\n[web]\nsecure_cookies = false  # the in-process client speaks plain http\n")
    intake(config, "poll", "--once")
    intake(config, "review", "accept", "1", "--no-reply", "--yes", clock=CLOCK)
    made = _console_copies(config)
    said = intake(config, "purge", "--campaign", "chongqing-bayu-2017", "--yes", clock=CLOCK).stdout
    assert [p for p in made if p.exists()] == []
    assert "未能删除" not in said


def test_purge_says_the_imap_server_keeps_its_copy_unless_told_to_delete_it(tmp_path, mailbox, smtp_server):
    mailbox.append(the_mail(), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    _staff_work(config, tmp_path / "给评审组")
    server_side = mailbox.server.root / "mail" / mailbox.user  # Dovecot keeps it as a Maildir
    assert holders(server_side)

    said = intake(config, "purge", "--campaign", "chongqing-bayu-2017", "--yes", clock=CLOCK).stdout
    assert "邮件原件仍保留" in said and "--imap-delete" in said
    assert holders(server_side) and holders(tmp_path / "data") == []
    other = mailbox.append(nomination_mail([], message_id="<other@unit.example.cn>"), folder="已处理")  # not filed
    said = intake(config, "purge", "--campaign", "chongqing-bayu-2017", "--yes", "--imap-delete", clock=CLOCK).stdout
    assert "已处理 UID 1" in said and "仍保留" not in said
    assert holders(server_side) == [] and list(mailbox.messages("已处理")) == [other]  # no other mail touched


def test_purge_masks_the_numbers_in_postgresql_too(tmp_path, mailbox, smtp_server, postgres_url):
    from sqlmodel import SQLModel

    from storage.db import open_database

    engine = open_database(postgres_url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    mailbox.append(the_mail(), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server, database_url=postgres_url)
    intake(config, "poll", "--once")
    _staff_work(config, tmp_path / "给评审组")

    def rows_holding() -> list[str]:
        engine = open_database(postgres_url)
        with engine.connect() as connection:
            found = [table for table in ("message", "nominee", "attachment", "finding", "field_correction", "audit",
                                         "reply")
                     if connection.exec_driver_sql(f"SELECT count(*) FROM {table} t WHERE t::text LIKE %s "
                                                   "OR t::text LIKE %s", (f"%{NUMBER}%", f"%{PHONE}%")).scalar()]
        engine.dispose()
        return found

    assert rows_holding()
    said = intake(config, "purge", "--campaign", "chongqing-bayu-2017", "--yes", clock=CLOCK).stdout
    assert rows_holding() == [] and holders(tmp_path / "data") == []
    assert "PostgreSQL" in said and "预写日志" in said  # what purge cannot reach is said


def test_the_database_and_the_log_are_for_the_service_user_only(tmp_path, mailbox, smtp_server):
    mailbox.append(the_mail(), internaldate=ARRIVED)
    log = tmp_path / "data" / "logs" / "intake.log"
    config = write_config(tmp_path, mailbox, smtp_server, extra=f'\n[log]\nfile = "{log}"\n')
    intake(config, "poll", "--once")
    data = tmp_path / "data"
    reader = sqlite3.connect(data / "intake.sqlite3")  # as staff tools do while the service runs: -wal, -shm
    try:
        reader.execute("SELECT count(*) FROM message").fetchall()
        files = [data / name for name in ("intake.sqlite3", "intake.sqlite3-wal", "intake.sqlite3-shm")]
        files.append(data / "logs" / "intake.log")
        assert {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files} == \
            {path.name: "0o600" for path in files}
    finally:
        reader.close()
