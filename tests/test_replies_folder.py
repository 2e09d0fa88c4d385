"""The embedded default: replies written as private, parseable .eml files, atomically and once."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from email import message_from_bytes
from email.policy import default
from zoneinfo import ZoneInfo

import pytest

import campaigns
from replies.compose import compose_reply
from replies.folder import FolderTransport
from replies.transport import SendConfigurationError
from service.judge import judge
from testing.builders.forms import FormValues, bayu_form_docx, writeup_docx
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.idcards import id_number

BAYU = campaigns.load("chongqing-bayu-2017")
NOW = datetime(2017, 4, 10, 10, 5, tzinfo=ZoneInfo("Asia/Shanghai"))


def make_reply(message_id: str = "<nomination-1@example.cn>") -> bytes:
    files = [("张三-推荐表.docx", bayu_form_docx(FormValues(id_number=id_number()))),
             ("张三-事迹材料.docx", writeup_docx(800))] + [(f"张三-照片{i}.jpg", photo_jpeg(i)) for i in range(4)]
    verdict = judge(nomination_mail(files, message_id=message_id), BAYU)
    return compose_reply(verdict, BAYU, intake_numbers=["BYGJ-2017-0003"], from_addr="bygj@cqgh.org", now=NOW).as_bytes()


def test_a_reply_is_written_as_a_private_parseable_eml(tmp_path):
    outbox = tmp_path / "data" / "outbox"
    raw = make_reply()
    FolderTransport(outbox).send(raw, "bygj@cqgh.org", ["gonghui@example.cn"])
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    [written] = list(outbox.iterdir())
    assert written.name.startswith("20170410T020500Z-") and written.suffix == ".eml"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert written.read_bytes() == raw
    parsed = message_from_bytes(written.read_bytes(), policy=default)
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert "BYGJ-2017-0003" in parsed.get_body(("plain",)).get_content()


def test_sending_the_same_reply_again_replaces_its_file(tmp_path):
    raw = make_reply()
    transport = FolderTransport(tmp_path)
    transport.send(raw, "bygj@cqgh.org", ["gonghui@example.cn"])
    transport.send(raw, "bygj@cqgh.org", ["gonghui@example.cn"])
    assert len(list(tmp_path.glob("*.eml"))) == 1
    transport.send(make_reply("<nomination-2@example.cn>"), "bygj@cqgh.org", ["gonghui@example.cn"])
    assert len(list(tmp_path.glob("*.eml"))) == 2
    assert not list(tmp_path.glob(".writing-*"))  # no temporary file left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_we_may_not_write_is_a_configuration_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(SendConfigurationError):
        FolderTransport(locked / "outbox").send(make_reply(), "bygj@cqgh.org", ["gonghui@example.cn"])


def test_check_creates_the_private_folder_and_leaves_nothing_in_it(tmp_path):
    outbox = tmp_path / "outbox"
    FolderTransport(outbox).check()
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert not list(outbox.iterdir())
