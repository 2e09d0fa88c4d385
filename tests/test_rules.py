"""Each rule on its own: what it lets through and what it turns back, worded for the sender."""

from dataclasses import replace

import pytest

import campaigns
from ingest.types import Attachment
from nominees.masking import mask_id_number, mask_numbers_in, mask_phone
from nominees.normalise import channel_id, phone_candidates
from nominees.types import NominationFile, Nominee
from parsers.types import DocumentContent, DocumentUnreadable, ParsedDocument
from testing.idcards import id_number, with_wrong_check_digit
from validators import form, identity, writeup

CITY = campaigns.load("chongqing-bayu-2017")
WUHAN = campaigns.load("wuhan-dacheng-2018")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _form_file(filename="推荐表.docx", unreadable=None):
    document = ParsedDocument(filename, "form", None if unreadable else DocumentContent((), "x"), {}, 1.0, unreadable)
    return NominationFile(Attachment(filename, b"x", DOCX), "form", document)


def nominee(fields=None, files=None, **kwargs):
    fields = {"name": "张三", "gender": "男", "employer": "重庆某厂", "position": "钳工",
              "phone": "13812345678", "channel": "organization", **(fields or {})}
    fields = {k: v for k, v in fields.items() if v is not None}
    numbers = tuple(phone_candidates(fields.get("phone", "")))
    return Nominee(0, fields, dict(fields), {}, tuple(files or [_form_file()]), phone_numbers=numbers, **kwargs)


def codes(findings):
    return [f.code for f in findings]


# --- required fields -------------------------------------------------------------------------

def test_complete_form_has_no_missing_field():
    assert form.field_missing(nominee(), CITY) == []


def test_each_missing_required_field_is_its_own_finding():
    findings = form.field_missing(nominee({"phone": None, "channel": None}), CITY)
    assert [(f.code, f.detail["field"]) for f in findings] == [("FIELD_MISSING", "phone"), ("FIELD_MISSING", "channel")]
    assert findings[0].message == "推荐表中“联系电话”未填写。"
    assert findings[1].message == "推荐表中“推荐方式”未勾选或无法识别。"


def test_wuhan_also_requires_frontline():
    assert [f.detail["field"] for f in form.field_missing(nominee(), WUHAN)] == ["frontline"]
    assert form.field_missing(nominee({"frontline": "是"}), WUHAN) == []


def test_unreadable_form_is_reported_once_without_missing_fields():
    broken = nominee({}, files=[_form_file(unreadable=DocumentUnreadable("encrypted"))])
    assert form.field_missing(broken, CITY) == []
    [finding] = form.form_unreadable(broken, CITY)
    assert (finding.code, finding.severity, finding.detail["reason"]) == ("FORM_UNREADABLE", "reject", "encrypted")
    assert "密码" in finding.message


def test_legacy_form_without_converter_goes_to_staff():
    legacy = nominee({}, files=[_form_file("推荐表.doc", DocumentUnreadable("legacy_no_converter"))])
    [finding] = form.form_unreadable(legacy, CITY)
    assert finding.severity == "review"


# --- ID number ---------------------------------------------------------------------------------

def test_valid_id_number_passes_and_lower_x_is_upper_cased_upstream():
    assert identity.id_number_valid(nominee({"id_number": id_number()}), CITY) == []
    x_number = next(n for n in (id_number(sequence=f"{i:03d}") for i in range(200)) if n.endswith("X"))
    assert identity.id_number_valid(nominee({"id_number": x_number}), CITY) == []


@pytest.mark.parametrize(
    "number, reason",
    [
        (with_wrong_check_digit(id_number()), "check_digit"),
        (id_number(birth="19810230"), "birth_date"),  # 30 February
        (id_number(birth="20190101"), "birth_date"),  # born after the campaign closed
        ("50010319800512123", "length"),
        ("5001031980051212A4", "format"),
    ],
)
def test_invalid_id_numbers(number, reason):
    [finding] = identity.id_number_valid(nominee({"id_number": number}), CITY)
    assert finding.code == "ID_NUMBER_INVALID" and finding.detail["reason"] == reason
    assert number not in finding.message  # masked in anything a person reads


def test_id_number_is_checked_even_where_not_required():
    assert "id_number" not in WUHAN.form.required_fields
    assert codes(identity.id_number_valid(nominee({"id_number": "123"}), WUHAN)) == ["ID_NUMBER_INVALID"]


# --- phone -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "phone",
    ["13812345678", "１３８１２３４５６７８", "+86 138-1234-5678", "023-63860109", "63860109",
     "(023) 6386 0109", "023-63860109转8001", "座机：1234 手机：13912345678", "027-85761157"],
)
def test_valid_phones(phone):
    assert identity.phone_valid(nominee({"phone": phone}), CITY) == []


@pytest.mark.parametrize("phone", ["1381234567", "1381234", "12812345678", "123456", "无", "023-0386010"])
def test_invalid_phones(phone):
    [finding] = identity.phone_valid(nominee({"phone": phone}), CITY)
    assert finding.code == "PHONE_INVALID"


# --- write-up ----------------------------------------------------------------------------------

def test_writeup_over_the_limit_reports_the_count():
    long = nominee(writeup_text="字" * 1501, writeup_chars=1501, writeup_source="事迹材料.docx")
    [finding] = writeup.writeup_length(long, CITY)
    assert finding.detail == {"chars": 1501, "filename": "事迹材料.docx"}
    assert "1501字" in finding.message and "1500字" in finding.message
    assert writeup.writeup_length(replace(long, writeup_chars=1500), CITY) == []


def test_writeup_missing_and_see_attachment():
    assert codes(writeup.writeup_present(nominee(), CITY)) == ["WRITEUP_MISSING"]
    [referenced] = writeup.writeup_present(nominee(writeup_referenced=True), CITY)
    assert "见附件" in referenced.message
    assert writeup.writeup_present(nominee(), WUHAN) == []  # Wuhan asks for none


# --- normalisation and masking -----------------------------------------------------------------

@pytest.mark.parametrize(
    "raw, expected",
    [("☑组织推荐 ☐社会举荐 ☐个人自荐", "organization"), ("□组织推荐 ■社会举荐 □个人自荐", "public"),
     ("组织推荐 社会举荐 个人自荐√", "self"), ("☐组织推荐 ☐社会举荐 ☐个人自荐", None), ("个人自荐", "self"),
     ("组织推荐、社会举荐、个人自荐", None), ("✔️单位推荐", "organization")],
)
def test_channel_is_the_marked_option(raw, expected):
    assert channel_id(raw, CITY.channels) == expected


def test_wuhan_channels():
    assert channel_id("☐基层单位推荐 ☑专业学会或行业协会推荐 ☐职工群众联名推荐", WUHAN.channels) == "association"
    assert channel_id("技能竞赛选拔", WUHAN.channels) == "competition"


def test_masking():
    assert mask_id_number("50010319800512123X") == "500103********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_numbers_in("手机13812345678，身份证50010319800512123X") == "手机138****5678，身份证500103********123X"


@pytest.mark.parametrize(
    "raw, expected",
    [("☐是 ☐否", ""), ("☑是 ☐否", "是"), ("□是 ■否", "否"), ("是", "是"), ("否", "否")],
)
def test_frontline_left_unticked_is_no_answer(raw, expected):
    from nominees.normalise import clean_yes_no

    assert clean_yes_no(raw) == expected


def test_unticked_frontline_row_is_a_missing_field_for_wuhan():
    from nominees.normalise import clean_yes_no

    value = clean_yes_no("☐是 ☐否")
    assert [f.detail["field"] for f in form.field_missing(nominee({"frontline": value or None}), WUHAN)] == [
        "frontline"]


def test_unit_category_is_the_ticked_option():
    from nominees.normalise import clean_choice, clean_gender

    assert clean_choice("☐区、开发区及产业工会 ☑委办局及大型企事业单位") == "委办局及大型企事业单位"
    assert clean_choice("☐区 ☐委办局") == ""
    assert clean_gender("☐男 ☐女") == ""
