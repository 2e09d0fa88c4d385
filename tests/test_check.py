"""`intake check` end to end: realistic nomination e-mails in, the verdicts of CONTRACT §4 out."""

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from testing.builders import archives, forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number, with_wrong_check_digit

VALID_ID = id_number()
ZHANG = FormValues(id_number=VALID_ID)
PHOTOS = [(f"张三工作照{i}.jpg", photo_jpeg(i)) for i in range(1, 5)]


def check(tmp_path: Path, mails: dict[str, bytes], *args: str, campaign: str = "chongqing-bayu-2017") -> list[dict]:
    paths = []
    for name, raw in mails.items():
        path = tmp_path / name
        path.write_bytes(raw)
        paths.append(str(path))
    result = CliRunner().invoke(main, ["check", *paths, "--campaign", campaign, *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def one(tmp_path: Path, raw: bytes, *args: str, campaign: str = "chongqing-bayu-2017") -> dict:
    [verdict] = check(tmp_path, {"mail.eml": raw}, *args, campaign=campaign)
    return verdict


def codes(verdict: dict) -> list[str]:
    return [f["code"] for f in verdict["findings"]] + [
        f["code"] for nominee in verdict["nominees"] for f in nominee["findings"]
    ]


def complete_nomination(values: FormValues = ZHANG, writeup_chars: int = 1200, **mail) -> bytes:
    files = [("附件1.docx", forms.bayu_form_docx(values)), ("张三事迹材料.docx", forms.writeup_docx(writeup_chars))]
    return nomination_mail(files + PHOTOS, **mail)


# --- the whole object --------------------------------------------------------------------------


def test_a_complete_nomination_is_accepted_with_every_key_of_the_contract(tmp_path):
    verdict = one(tmp_path, complete_nomination())
    assert verdict["status"] == "accepted", codes(verdict)
    assert verdict["file"].endswith("mail.eml")
    assert verdict["message_id"] == "<nomination-1@example.cn>"
    assert verdict["from"] == "gonghui@example.cn"
    assert verdict["subject"] == "2017年度巴渝工匠推荐材料"
    assert verdict["received_at"] == "2017-04-10T09:59:00+08:00"
    assert verdict["campaign"] == "chongqing-bayu-2017"
    assert verdict["findings"] == []
    [nominee] = verdict["nominees"]
    assert nominee["status"] == "accepted"
    fields = nominee["fields"]
    assert fields["name"] == "张三" and fields["channel"] == "organization"
    assert fields["employer"] == "重庆长安汽车股份有限公司" and fields["position"] == "数控车工"
    assert fields["recommending_unit"] == "重庆市沙坪坝区总工会"
    # personal data never leaves the database in full
    assert fields["id_number"] == VALID_ID[:6] + "********" + VALID_ID[-4:]
    assert fields["phone"] == "138****5678"
    assert nominee["writeup_chars"] == 1200
    assert nominee["seal"] == {"present": True, "confidence": 1.0, "where": "附件1.docx 图1", "electronic": False}
    roles = {a["filename"]: a["role"] for a in nominee["attachments"]}
    assert roles == {"附件1.docx": "form", "张三事迹材料.docx": "writeup", **{n: "photo" for n, _ in PHOTOS}}
    form = next(a for a in nominee["attachments"] if a["role"] == "form")
    assert form["media_type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert len(form["sha256"]) == 64 and form["bytes"] > 1000


def test_several_files_give_one_line_each_in_order(tmp_path):
    lines = check(tmp_path, {"a.eml": complete_nomination(), "b.eml": b"not an e-mail at all \x00\x01"})
    assert [Path(v["file"]).name for v in lines] == ["a.eml", "b.eml"]
    assert lines[1]["status"] == "ignored" and codes(lines[1]) == ["NOT_SUBMISSION"]


# --- time of receipt -------------------------------------------------------------------------


def test_late_by_the_servers_clock_rejects_every_nominee(tmp_path):
    raw = complete_nomination(received=datetime(2017, 5, 1, 0, 0, 5, tzinfo=SHANGHAI))
    verdict = one(tmp_path, raw)
    assert verdict["status"] == "rejected" and codes(verdict) == ["LATE"]
    assert verdict["findings"][0]["nominee"] is None
    assert "2017年4月30日24:00" in verdict["findings"][0]["message"]
    assert verdict["nominees"][0]["status"] == "rejected"


def test_received_at_option_wins_and_is_read_in_shanghai(tmp_path):
    raw = complete_nomination()
    assert one(tmp_path, raw, "--received-at", "2017-04-30T23:59:59")["status"] == "accepted"
    late = one(tmp_path, raw, "--received-at", "2017-05-01T00:00:00")
    assert late["received_at"] == "2017-05-01T00:00:00+08:00" and codes(late) == ["LATE"]
    # 16:00 UTC is midnight in Shanghai
    assert codes(one(tmp_path, raw, "--received-at", "2017-04-30T16:00:00+00:00")) == ["LATE"]


def test_the_district_deadline_is_the_whole_of_20_april(tmp_path):
    raw = complete_nomination(to="704234263@qq.com")
    on_the_day = one(tmp_path, raw, "--received-at", "2017-04-20T22:00", campaign="shapingba-bayu-2017")
    assert on_the_day["status"] == "accepted"
    next_day = one(tmp_path, raw, "--received-at", "2017-04-21T08:00", campaign="shapingba-bayu-2017")
    assert codes(next_day) == ["LATE"]


# --- what is wrong, all of it in one reply ---------------------------------------------------


def test_every_problem_is_reported_at_once(tmp_path):
    values = ZHANG.but(phone="1381234", id_number=with_wrong_check_digit(VALID_ID), position="")
    verdict = one(tmp_path, complete_nomination(values, writeup_chars=1501))
    assert verdict["status"] == "rejected"
    findings = {f["code"]: f for f in verdict["nominees"][0]["findings"]}
    assert set(findings) == {"FIELD_MISSING", "ID_NUMBER_INVALID", "PHONE_INVALID", "WRITEUP_TOO_LONG"}
    assert findings["FIELD_MISSING"]["detail"] == {"field": "position"}
    assert findings["WRITEUP_TOO_LONG"]["detail"]["chars"] == 1501
    for finding in findings.values():
        assert finding["severity"] == "reject"
        assert VALID_ID[6:14] not in finding["message"]  # the birth date stays masked


def test_writeup_of_exactly_1500_characters_passes(tmp_path):
    verdict = one(tmp_path, complete_nomination(writeup_chars=1500))
    assert verdict["status"] == "accepted" and verdict["nominees"][0]["writeup_chars"] == 1500


def test_deeds_in_the_form_serve_as_the_writeup(tmp_path):
    raw = nomination_mail([("推荐表.docx", forms.bayu_form_docx(ZHANG))] + PHOTOS)
    verdict = one(tmp_path, raw)
    assert verdict["status"] == "accepted"
    assert verdict["nominees"][0]["writeup_chars"] == sum(len(p) for p in ZHANG.deeds)


def test_see_attachment_without_an_attachment_is_a_missing_writeup(tmp_path):
    raw = nomination_mail([("推荐表.docx", forms.bayu_form_docx(ZHANG.but(deeds=("详见附件",))))] + PHOTOS)
    verdict = one(tmp_path, raw)
    assert codes(verdict) == ["WRITEUP_MISSING"]
    assert "见附件" in verdict["nominees"][0]["findings"][0]["message"]


def test_channel_left_unticked_is_a_missing_field(tmp_path):
    verdict = one(tmp_path, complete_nomination(ZHANG.but(channel="")))
    assert [f["detail"] for f in verdict["nominees"][0]["findings"]] == [{"field": "channel"}]


@pytest.mark.parametrize("mark_style", forms.MARK_STYLES)
def test_each_way_of_ticking_the_channel_is_understood(tmp_path, mark_style):
    form = forms.bayu_form_docx(ZHANG.but(channel="个人自荐"), mark_style=mark_style)
    raw = nomination_mail([("推荐表.docx", form), ("事迹.docx", forms.writeup_docx(800))] + PHOTOS)
    verdict = one(tmp_path, raw)
    assert verdict["nominees"][0]["fields"]["channel"] == "self", mark_style
    assert verdict["status"] == "accepted"


def test_a_text_pdf_form_is_read_like_the_docx(tmp_path):
    raw = nomination_mail([("巴渝工匠推荐表.pdf", forms.form_pdf(ZHANG)), ("事迹.pdf", forms.writeup_pdf(900))] + PHOTOS)
    verdict = one(tmp_path, raw)
    [nominee] = verdict["nominees"]
    assert nominee["fields"]["name"] == "张三" and nominee["fields"]["channel"] == "organization"
    assert verdict["status"] == "accepted", codes(verdict)


def test_docx_and_pdf_of_the_same_form_are_one_nominee(tmp_path):
    files = [("推荐表.docx", forms.bayu_form_docx(ZHANG)), ("推荐表（盖章）.pdf", forms.form_pdf(ZHANG))]
    verdict = one(tmp_path, nomination_mail(files + PHOTOS))
    assert len(verdict["nominees"]) == 1
    assert sorted(a["role"] for a in verdict["nominees"][0]["attachments"])[:2] == ["form", "form"]


# --- no form, or no material -----------------------------------------------------------------


def test_material_without_a_form_is_form_missing(tmp_path):
    raw = nomination_mail([("事迹材料.docx", forms.writeup_docx(900))] + PHOTOS)
    verdict = one(tmp_path, raw)
    assert verdict["status"] == "rejected" and codes(verdict) == ["FORM_MISSING"]
    assert verdict["nominees"] == []
    assert "推荐表" in verdict["findings"][0]["message"]


def test_a_question_is_not_a_submission_whatever_it_says(tmp_path):
    raw = nomination_mail([], subject="请问巴渝工匠推荐表在哪里下载？", body="请问个人自荐需要盖章吗？")
    verdict = one(tmp_path, raw)
    assert verdict["status"] == "ignored" and codes(verdict) == ["NOT_SUBMISSION"]


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"X-Autoreply": "yes"}],
)
def test_auto_replies_are_ignored_even_with_attachments(tmp_path, headers):
    verdict = one(tmp_path, complete_nomination(headers=headers))
    assert verdict["status"] == "ignored" and codes(verdict) == ["AUTO_REPLY"]


def test_auto_submitted_no_is_an_ordinary_mail(tmp_path):
    assert one(tmp_path, complete_nomination(headers={"Auto-Submitted": "no"}))["status"] == "accepted"


# --- unreadable forms ------------------------------------------------------------------------


def test_password_protected_form_is_unreadable(tmp_path):
    raw = nomination_mail([("巴渝工匠推荐表.docx", forms.encrypted_docx())] + PHOTOS)
    verdict = one(tmp_path, raw)
    assert verdict["status"] == "rejected"
    [finding] = verdict["nominees"][0]["findings"]
    assert finding["code"] == "FORM_UNREADABLE" and finding["detail"]["reason"] == "encrypted"


def test_zero_byte_form_is_unreadable(tmp_path):
    verdict = one(tmp_path, nomination_mail([("推荐表.docx", b"")] + PHOTOS))
    assert codes(verdict) == ["FORM_UNREADABLE"]
    assert verdict["nominees"][0]["findings"][0]["detail"]["reason"] == "empty"


@pytest.mark.parametrize("keep", [None, 114], ids=["half", "cut before word/"])
def test_truncated_form_is_unreadable(tmp_path, keep):
    form = forms.bayu_form_docx(ZHANG)
    cut = forms.truncated(form) if keep is None else form[:keep]  # 114 bytes: only [Content_Types].xml begun
    verdict = one(tmp_path, nomination_mail([("附件1.docx", cut)] + PHOTOS))
    assert codes(verdict) == ["FORM_UNREADABLE"]


def test_legacy_doc_goes_to_staff_not_back_to_the_sender(tmp_path):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000
    verdict = one(tmp_path, nomination_mail([("巴渝工匠推荐表.doc", ole2)] + PHOTOS))
    assert verdict["status"] == "needs_review"
    assert verdict["nominees"][0]["findings"][0]["severity"] == "review"


# --- several nominees ------------------------------------------------------------------------


LI = FormValues(name="李四", id_number=id_number(birth="19750101", sequence="456"), phone="023-65311292")


def test_a_district_zip_with_a_folder_per_person_in_gbk(tmp_path):
    entries = [
        ("沙坪坝区推荐材料/张三/推荐表.docx", forms.bayu_form_docx(ZHANG)),
        ("沙坪坝区推荐材料/张三/事迹材料.docx", forms.writeup_docx(1000)),
        *[(f"沙坪坝区推荐材料/张三/{i}.jpg", photo_jpeg(i)) for i in range(4)],
        ("沙坪坝区推荐材料/李四/推荐表.docx", forms.bayu_form_docx(LI)),
        ("沙坪坝区推荐材料/李四/事迹材料.docx", forms.writeup_docx(1600)),
        *[(f"沙坪坝区推荐材料/李四/{i}.jpg", photo_jpeg(10 + i)) for i in range(5)],
    ]
    zipped = archives.zip_bytes(entries, name_encoding="gbk")
    verdict = one(tmp_path, nomination_mail([("沙坪坝区推荐材料.zip", zipped)]))
    by_name = {n["fields"]["name"]: n for n in verdict["nominees"]}
    assert set(by_name) == {"张三", "李四"}
    assert by_name["张三"]["status"] == "accepted"
    assert by_name["李四"]["status"] == "rejected"
    assert [f["code"] for f in by_name["李四"]["findings"]] == ["WRITEUP_TOO_LONG"]
    assert verdict["status"] == "rejected"  # the worst of its nominees
    li_files = {a["filename"] for a in by_name["李四"]["attachments"]}
    assert "沙坪坝区推荐材料.zip/沙坪坝区推荐材料/李四/事迹材料.docx" in li_files
    assert len(li_files) == 7


def test_files_matched_by_the_name_in_their_file_name(tmp_path):
    files = [
        ("张三推荐表.docx", forms.bayu_form_docx(ZHANG)),
        ("李四推荐表.docx", forms.bayu_form_docx(LI)),
        ("张三事迹.docx", forms.writeup_docx(700)),
        ("李四事迹.docx", forms.writeup_docx(800)),
        *[(f"张三-照片{i}.jpg", photo_jpeg(i)) for i in range(4)],
        *[(f"李四-照片{i}.jpg", photo_jpeg(9 + i)) for i in range(4)],
    ]
    verdict = one(tmp_path, nomination_mail(files))
    assert verdict["status"] == "accepted", codes(verdict)
    chars = {n["fields"]["name"]: n["writeup_chars"] for n in verdict["nominees"]}
    assert chars == {"张三": 700, "李四": 800}


def test_the_longest_matching_name_wins(tmp_path):
    zhang_weihua = FormValues(name="张伟华", id_number=id_number(sequence="777"))
    zhang_wei = FormValues(name="张伟", id_number=id_number(sequence="778"))
    files = [
        ("张伟推荐表.docx", forms.bayu_form_docx(zhang_wei)),
        ("张伟华推荐表.docx", forms.bayu_form_docx(zhang_weihua)),
        ("张伟华事迹.docx", forms.writeup_docx(600)),
        ("张伟事迹.docx", forms.writeup_docx(650)),
    ]
    verdict = one(tmp_path, nomination_mail(files))
    chars = {n["fields"]["name"]: n["writeup_chars"] for n in verdict["nominees"]}
    assert chars == {"张伟华": 600, "张伟": 650}


def test_material_that_fits_no_nominee_goes_to_staff(tmp_path):
    files = [
        ("张三推荐表.docx", forms.bayu_form_docx(ZHANG)),
        ("李四推荐表.docx", forms.bayu_form_docx(LI)),
        ("事迹材料.docx", forms.writeup_docx(700)),
        *[(f"张三-照片{i}.jpg", photo_jpeg(i)) for i in range(4)],
        *[(f"李四-照片{i}.jpg", photo_jpeg(9 + i)) for i in range(4)],
    ]
    verdict = one(tmp_path, nomination_mail(files))
    assert [f["code"] for f in verdict["findings"]] == ["ASSIGNMENT_AMBIGUOUS"]
    assert verdict["findings"][0]["severity"] == "review"
    assert verdict["findings"][0]["detail"]["filename"] == "事迹材料.docx"
    assert {n["status"] for n in verdict["nominees"]} == {"needs_review"}
    assert verdict["status"] == "needs_review"
    assert [a["filename"] for a in verdict["attachments"]] == ["事迹材料.docx"]


def test_summary_sheet_beside_the_forms_is_no_nominee(tmp_path):
    files = [("推荐表.docx", forms.bayu_form_docx(ZHANG)), ("汇总表.xlsx", _xlsx())] + PHOTOS
    verdict = one(tmp_path, nomination_mail(files))
    assert len(verdict["nominees"]) == 1 and verdict["status"] == "accepted"
    # the batch's sheet, listed with the message's files, not filed as the only nominee's
    assert "汇总表.xlsx" not in [a["filename"] for a in verdict["nominees"][0]["attachments"]]
    assert [a["filename"] for a in verdict["attachments"]] == ["汇总表.xlsx"]


def _xlsx() -> bytes:
    return archives.zip_bytes([("[Content_Types].xml", b'<Types><Override PartName="/xl/workbook.xml"/></Types>'),
                               ("xl/workbook.xml", b"<workbook/>")])


# --- hostile archives ------------------------------------------------------------------------


def test_path_traversal_in_a_zip_rejects_the_message(tmp_path):
    zipped = archives.zip_bytes([("../../etc/passwd", b"x"), ("推荐表.docx", forms.bayu_form_docx(ZHANG))])
    verdict = one(tmp_path, nomination_mail([("材料.zip", zipped)] + PHOTOS))
    assert verdict["status"] == "rejected"
    [finding] = [f for f in verdict["findings"] if f["code"] == "ATTACHMENT_UNSAFE"]
    assert finding["detail"]["filename"] == "材料.zip"
    assert {n["status"] for n in verdict["nominees"]} <= {"rejected"}


def test_zip_bomb_is_refused_quickly(tmp_path):
    bomb = archives.zeros_bomb("推荐表.docx", 300_000_000)
    verdict = one(tmp_path, nomination_mail([("推荐材料.zip", bomb)]))
    assert "ATTACHMENT_UNSAFE" in codes(verdict) and verdict["status"] == "rejected"


# --- usage -----------------------------------------------------------------------------------


def _run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=120)


def test_unknown_campaign_is_a_usage_error(tmp_path):
    mail = tmp_path / "a.eml"
    mail.write_bytes(complete_nomination())
    result = _run_script("check", str(mail), "--campaign", "nowhere-2099")
    assert result.returncode == 2
    assert "chongqing-bayu-2017" in result.stderr and "Traceback" not in result.stderr


def test_missing_file_is_a_usage_error():
    result = _run_script("check", "/nonexistent/a.eml", "--campaign", "chongqing-bayu-2017")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_the_installed_command_prints_json_lines(tmp_path):
    mail = tmp_path / "a.eml"
    mail.write_bytes(complete_nomination())
    result = _run_script("check", str(mail), "--campaign", "chongqing-bayu-2017")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "accepted"


def test_an_oversized_mail_is_refused_out_loud_not_dropped():
    import campaigns
    from service.judge import judge

    city = campaigns.load("chongqing-bayu-2017")
    small = city.model_copy(update={"limits": city.limits.model_copy(update={"message_max_bytes": 50_000})})
    verdict = judge(complete_nomination(), small)
    assert verdict.status == "rejected"
    [finding] = verdict.findings
    assert finding.code == "ATTACHMENT_UNSAFE" and finding.detail["reason"] == "message_too_large"
    assert "MB" in finding.message and "超过处理上限" in finding.message


def test_personal_numbers_in_a_subject_are_masked_in_both_outputs(tmp_path):
    """CONTRACT §5: command output shows ID and phone numbers masked, whatever part of the mail held them."""
    raw = complete_nomination(subject=f"推荐张三 电话13812345678 身份证{VALID_ID}")
    verdict = one(tmp_path, raw)
    assert VALID_ID not in json.dumps(verdict, ensure_ascii=False) and "13812345678" not in verdict["subject"]
    assert "138****5678" in verdict["subject"] and VALID_ID[:6] + "********" in verdict["subject"]
    (tmp_path / "mail.eml").write_bytes(raw)
    text = CliRunner().invoke(main, ["check", str(tmp_path / "mail.eml"), "--campaign", "chongqing-bayu-2017",
                                     "--format", "text"]).output
    assert "138****5678" in text and VALID_ID not in text and "13812345678" not in text
