"""MaildirSource on real folders: a Maildir, and the plain .eml folder of samples/mailbox."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ingest.sources import MaildirConfig, MaildirSource, open_source
from ingest.sources.base import Cursor, FetchedMail
from ingest.sources.errors import SourceError, SourceUnavailable
from ingest.sources.maildir import STATE_FILE

SAMPLES = Path(__file__).parent.parent / "samples" / "mailbox"
PROCESSED_MAILDIR = ".&XfJZBHQG-"  # 已处理 in modified UTF-7, as Dovecot names the Maildir++ folder


def deliver(maildir: Path, name: str, raw: bytes, *, sub: str = "new", delivered: datetime | None = None) -> Path:
    for each in ("new", "cur", "tmp"):
        (maildir / each).mkdir(parents=True, exist_ok=True)
    path = maildir / sub / name
    path.write_bytes(raw)
    if delivered is not None:
        os.utime(path, (delivered.timestamp(), delivered.timestamp()))
    return path


def message(number: int) -> bytes:
    return f"From: a{number}@example.cn\r\nSubject: {number}\r\n\r\n推荐 {number}\r\n".encode()


def source(path: Path, **overrides) -> MaildirSource:
    return open_source(MaildirConfig(path=path, **overrides))


def taken(mail_source, cursor: Cursor) -> tuple[int, bool, list[FetchedMail]]:
    batch = mail_source.poll(cursor)
    return batch.uidvalidity, batch.resynchronising, list(batch.mails)


def test_a_maildir_delivery_is_offered_with_its_bytes_and_delivery_time(tmp_path):
    delivered = datetime(2017, 5, 3, 1, 30, 15, tzinfo=timezone.utc)
    deliver(tmp_path, "1493775015.M1P1.host", message(1), delivered=delivered)
    deliver(tmp_path, "1493775016.M2P1.host:2,S", message(2), sub="cur")
    uidvalidity, resynchronising, mails = taken(source(tmp_path), Cursor("INBOX"))
    assert [mail.raw for mail in mails] == [message(1), message(2)]
    assert [mail.uid for mail in mails] == [1, 2] and not resynchronising
    assert mails[0].internaldate == delivered and mails[0].internaldate.tzinfo is not None
    assert {mail.uidvalidity for mail in mails} == {uidvalidity}
    assert mails[0].account == f"maildir:{tmp_path.resolve()}" and mails[0].folder == "INBOX"


def test_uids_are_stable_across_sources_and_new_mail_is_offered_alone(tmp_path):
    for n in range(3):
        deliver(tmp_path, f"149377501{n}.M{n}P1.host", message(n))
    uidvalidity, _, first = taken(source(tmp_path), Cursor("INBOX"))
    # another client moves one to cur/ and flags it; the service restarts (a new source)
    os.rename(tmp_path / "new" / "1493775011.M1P1.host", tmp_path / "cur" / "1493775011.M1P1.host:2,S")
    deliver(tmp_path, "1493775019.M9P1.host", message(9))
    again = source(tmp_path)
    validity, resynchronising, everything = taken(again, Cursor("INBOX", uidvalidity, 0))
    assert validity == uidvalidity and not resynchronising
    assert [(mail.uid, mail.raw) for mail in everything[:3]] == [(mail.uid, mail.raw) for mail in first]
    assert [(mail.uid, mail.raw) for mail in taken(again, Cursor("INBOX", uidvalidity, 3))[2]] == [(4, message(9))]
    assert taken(again, Cursor("INBOX", uidvalidity, 4))[2] == []


def test_losing_the_uid_list_renumbers_and_resynchronises(tmp_path):
    deliver(tmp_path, "1493775010.M0P1.host", message(0))
    uidvalidity, _, mails = taken(source(tmp_path), Cursor("INBOX"))
    (tmp_path / STATE_FILE).unlink()
    validity, resynchronising, again = taken(source(tmp_path), Cursor("INBOX", uidvalidity, mails[-1].uid))
    assert validity != uidvalidity and resynchronising
    assert [mail.raw for mail in again] == [message(0)]


def test_set_aside_moves_the_file_into_the_processed_maildir_and_nothing_else(tmp_path):
    kept = deliver(tmp_path, "1493775010.M0P1.host:2,S", message(0), sub="cur")
    deliver(tmp_path, "1493775011.M1P1.host", message(1))
    mail_source = source(tmp_path)
    uidvalidity, _, mails = taken(mail_source, Cursor("INBOX"))
    mail_source.set_aside(mails[1])
    mail_source.set_aside(mails[1])  # twice: harmless
    moved = tmp_path / PROCESSED_MAILDIR / "new" / "1493775011.M1P1.host"
    assert moved.read_bytes() == message(1)
    assert (tmp_path / PROCESSED_MAILDIR / "maildirfolder").exists()
    assert kept.read_bytes() == message(0) and not (tmp_path / "new" / moved.name).exists()
    assert taken(mail_source, Cursor("INBOX", uidvalidity, 0))[2][0].uid == mails[0].uid


def test_flag_mode_marks_the_maildir_file_and_keeps_its_uid(tmp_path):
    deliver(tmp_path, "1493775010.M0P1.host", message(0))
    mail_source = source(tmp_path, processed_action="flag")
    uidvalidity, _, mails = taken(mail_source, Cursor("INBOX"))
    mail_source.set_aside(mails[0])
    assert [path.name for path in (tmp_path / "cur").iterdir()] == ["1493775010.M0P1.host:2,F"]
    again = taken(source(tmp_path), Cursor("INBOX", uidvalidity, 0))[2]
    assert [(mail.uid, mail.raw) for mail in again] == [(mails[0].uid, message(0))]
    assert not (tmp_path / PROCESSED_MAILDIR).exists()


def test_set_aside_refuses_a_message_numbered_under_another_uidvalidity(tmp_path):
    path = deliver(tmp_path, "1493775010.M0P1.host", message(0))
    mail_source = source(tmp_path)
    mail = taken(mail_source, Cursor("INBOX"))[2][0]
    stale = FetchedMail(mail.account, mail.folder, mail.uidvalidity + 1, mail.uid, b"", None)
    with pytest.raises(SourceError, match="renumbered"):
        mail_source.set_aside(stale)
    assert path.exists()


def test_the_sample_folder_of_eml_files_is_the_inbox(tmp_path):
    inbox = tmp_path / "mailbox"
    shutil.copytree(SAMPLES, inbox)
    names = sorted(path.name for path in inbox.glob("*.eml"))
    mail_source = source(inbox)
    uidvalidity, _, mails = taken(mail_source, Cursor("INBOX"))
    assert [mail.raw for mail in mails] == [(inbox / name).read_bytes() for name in names]
    assert [mail.uid for mail in mails] == list(range(1, len(names) + 1))
    assert all(mail.internaldate is None for mail in mails)  # the judge reads Received:
    mail_source.set_aside(mails[0])
    assert (inbox / "已处理" / names[0]).read_bytes() == mails[0].raw
    assert not (inbox / names[0]).exists()
    again = taken(source(inbox), Cursor("INBOX", uidvalidity, 0))[2]
    assert [mail.uid for mail in again] == [mail.uid for mail in mails[1:]]


def test_setting_aside_never_overwrites_a_file_of_the_same_name(tmp_path):
    (tmp_path / "已处理").mkdir()
    (tmp_path / "已处理" / "a.eml").write_bytes(b"an earlier a.eml")
    (tmp_path / "a.eml").write_bytes(message(1))
    mail_source = source(tmp_path)
    mail_source.set_aside(taken(mail_source, Cursor("INBOX"))[2][0])
    assert (tmp_path / "已处理" / "a.eml").read_bytes() == b"an earlier a.eml"
    assert (tmp_path / "已处理" / "2-a.eml").read_bytes() == message(1)


def test_a_missing_folder_is_reported_and_wait_for_mail_is_not_supported(tmp_path):
    mail_source = source(tmp_path / "nowhere")
    with pytest.raises(SourceUnavailable, match="没有邮件文件夹"):
        mail_source.poll(Cursor("INBOX"))
    assert mail_source.wait_for_mail(5) is False
