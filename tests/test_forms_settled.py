"""CONTRACT §3's settled cases about the forms, on forms as offices really fill them: a value ends at
the next label of its line, box-per-character rows, marks in brackets after the option, the
recommending unit named only in 推荐单位意见; and the campaign report that groups by that unit."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import campaigns
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import forms
from testing.builders.forms import BAYU_CHANNELS, FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number

CITY = campaigns.load("chongqing-bayu-2017")
WUHAN = campaigns.load("wuhan-dacheng-2018")
JIANGAN = "武汉市江岸区总工会"
SHAPINGBA = "重庆市沙坪坝区总工会"
PHOTOS = [(f"张三工作照{i}.jpg", photo_jpeg(i)) for i in range(1, 5)]
CHANNEL_IDS = {"组织推荐": "organization", "社会举荐": "public", "个人自荐": "self"}


def wuhan_person(n: int = 1, **changes) -> FormValues:
    values = dict(name="江一", id_number=id_number(region="420102", sequence=f"{n:03d}"), channel="基层单位推荐",
                  recommending_unit=JIANGAN, unit_category="区、开发区及产业工会", employer="武汉重型机床集团有限公司")
    return FormValues(**(values | changes))


def wuhan_mail(values: FormValues, **mail) -> bytes:
    files = [(f"{values.name}-申报表.docx", forms.wuhan_official_form_docx(values))]
    return nomination_mail(files, to="2942292164@qq.com", sent=datetime(2018, 8, 20, 10, tzinfo=SHANGHAI), **mail)


def chongqing_mail(values: FormValues, **form) -> bytes:
    return nomination_mail([("附件1.docx", forms.chongqing_form_docx(values, **form)), *PHOTOS])


def judged(raw: bytes, profile=CITY):
    verdict = judge(raw, profile)
    return verdict, verdict_json(verdict, profile.id)


def codes(shown: dict) -> list[str]:
    return [f["code"] for f in shown["findings"]] + [f["code"] for n in shown["nominees"] for f in n["findings"]]


# --- a value ends where the next label of its line begins -------------------------------------------


def test_wuhan_unit_ends_before_the_fill_in_date_on_its_line():
    verdict, shown = judged(wuhan_mail(wuhan_person()), WUHAN)
    [nominee] = shown["nominees"]
    assert nominee["fields"]["recommending_unit"] == JIANGAN
    assert shown["status"] == "accepted", codes(shown)


def test_a_self_nomination_has_no_unit_rather_than_the_fill_in_date():
    values = wuhan_person(channel="个人自荐", recommending_unit="", unit_category="")
    verdict, shown = judged(wuhan_mail(values), WUHAN)
    [nominee] = shown["nominees"]
    assert "recommending_unit" not in nominee["fields"], nominee["fields"]
    assert nominee["fields"]["channel"] == "self"


@pytest.mark.parametrize("line, expected", [
    ("工作单位：中建三局集团有限公司　　　单位地址：武汉市洪山区", "中建三局集团有限公司"),
    ("岗位：焊工    从事本职业时间：12年", "焊工"),
    ("联系电话：13812345678　　微信号码：wx1381234", "13812345678"),
])
def test_every_short_field_ends_at_a_label_it_does_not_know(line, expected):
    from parsers.fields import text_pairs

    [(_field, value)] = list(text_pairs(line))[:1]
    assert value == expected


def test_a_label_glued_to_the_value_before_it_still_ends_that_value():
    from parsers.fields import text_pairs

    assert list(text_pairs("推荐单位（盖章）：武汉市江岸区总工会填表日期：2018年8月")) == [
        ("recommending_unit", "武汉市江岸区总工会")]
    assert list(text_pairs("工作单位：重庆长安汽车股份有限公司岗位：数控车工")) == [
        ("employer", "重庆长安汽车股份有限公司"), ("position", "数控车工")]


# --- one character per box ----------------------------------------------------------------------------


def test_id_number_written_one_digit_per_box_is_read_whole():
    values = FormValues(id_number=id_number())
    verdict, shown = judged(chongqing_mail(values, boxed=True))
    [nominee] = verdict.submission.nominees
    assert nominee.fields["id_number"] == values.id_number
    assert "ID_NUMBER_INVALID" not in codes(shown)
    assert shown["status"] == "accepted", codes(shown)


def test_phone_one_digit_per_box_is_read_whole():
    from parsers.fields import table_pairs
    from parsers.types import Table

    row = ("联系电话", *"13812345678", "邮政编码", *"400030")
    assert dict(table_pairs(Table((row,)))) == {"phone": "13812345678"}


# --- marks in brackets, or after the option ----------------------------------------------------------


@pytest.mark.parametrize("style", forms.AFTER_MARK_STYLES)
@pytest.mark.parametrize("channel", BAYU_CHANNELS)
def test_channel_marked_after_the_option_is_understood(style, channel):
    values = FormValues(id_number=id_number(), channel=channel)
    verdict, shown = judged(chongqing_mail(values, mark_style=style, stamped=channel == "组织推荐"))
    [nominee] = shown["nominees"]
    assert nominee["fields"]["channel"] == CHANNEL_IDS[channel]
    assert "FIELD_MISSING" not in codes(shown)


@pytest.mark.parametrize("style", forms.AFTER_MARK_STYLES)
def test_gender_frontline_and_unit_category_marked_after_the_option(style):
    values = wuhan_person(gender="女", frontline="否", unit_category="委办局、大型企业")
    raw = nomination_mail([("申报表.docx", forms.wuhan_official_form_docx(values, mark_style=style))],
                          to="2942292164@qq.com", sent=datetime(2018, 8, 20, 10, tzinfo=SHANGHAI))
    verdict, _shown = judged(raw, WUHAN)
    [nominee] = verdict.submission.nominees
    assert (nominee.fields["gender"], nominee.fields["frontline"]) == ("女", "否")
    assert nominee.fields["unit_category"] == "委办局、大型企业"
    assert nominee.fields["channel"] == "organization"


# --- the recommending unit named only in 推荐单位意见 ---------------------------------------------------


def test_chongqing_unit_is_read_from_the_opinion_and_marked_inferred():
    values = FormValues(id_number=id_number(), recommending_unit=SHAPINGBA)
    verdict, shown = judged(chongqing_mail(values))
    [nominee] = verdict.submission.nominees
    assert nominee.fields["recommending_unit"] == SHAPINGBA
    assert nominee.field_sources["recommending_unit"] == "inferred"
    assert shown["status"] == "accepted", codes(shown)


def test_unit_under_the_seal_when_the_opinion_says_our_unit():
    values = FormValues(id_number=id_number(), recommending_unit="重庆钢铁股份有限公司工会",
                        unit_opinion="经我单位研究，同意推荐。\n重庆钢铁股份有限公司工会")
    verdict, _shown = judged(chongqing_mail(values, by_decision=False))
    assert verdict.submission.nominees[0].fields["recommending_unit"] == "重庆钢铁股份有限公司工会"


# --- the campaign report groups by the real unit ----------------------------------------------------


def _file(engine, raw: bytes, uid: int, profile) -> None:
    from core.times import shown
    from storage.db import session as new_session
    from storage.filing import earlier_nominees, ensure_campaign, file_verdict
    from storage.models import MessageRow
    from validators.memory import with_history

    verdict = judge(raw, profile)
    with new_session(engine) as session:
        ensure_campaign(session, profile)
        row = MessageRow(campaign_id=profile.id, account="test", folder="INBOX", uidvalidity=1, uid=uid,
                         raw_sha256=verdict.message.raw_sha256, raw_size=len(raw), message_id=verdict.message.message_id,
                         received_at=verdict.message.received_at, received_at_source="test")
        session.add(row)
        session.flush()
        earlier = earlier_nominees(session, verdict, profile.id, shown)
        file_verdict(session, row, with_history(verdict, earlier), profile, earlier, datetime.now(timezone.utc))
        session.commit()


def test_wuhan_report_lists_real_units_only(tmp_path):
    from staff.campaign_report import NO_UNIT, build_report, render_markdown
    from storage.db import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    people = [wuhan_person(1, name="江一"), wuhan_person(2, name="江二"),
              wuhan_person(3, name="自荐甲", channel="个人自荐", recommending_unit="", unit_category="")]
    for uid, values in enumerate(people, 1):
        _file(engine, wuhan_mail(values, message_id=f"<w{uid}@wh.example.cn>"), uid, WUHAN)
    figures = build_report(engine, WUHAN, datetime(2018, 8, 31, tzinfo=SHANGHAI))
    units = {line.unit: line.accepted + line.pending + line.rejected for line in figures.by_unit}
    assert units == {JIANGAN: 2, NO_UNIT: 1}
    assert "填表时间" not in render_markdown(figures)


def test_chongqing_report_groups_nominees_by_their_recommending_unit(tmp_path):
    from staff.campaign_report import build_report
    from storage.db import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    people = [FormValues(name="张三", id_number=id_number(sequence="111")),
              FormValues(name="李四", id_number=id_number(sequence="222")),
              FormValues(name="王五", id_number=id_number(sequence="333"), recommending_unit="重庆市九龙坡区总工会")]
    for uid, values in enumerate(people, 1):
        _file(engine, nomination_mail([("附件1.docx", forms.chongqing_form_docx(values)),
                                       *((f"{values.name}照片{i}.jpg", photo_jpeg(i)) for i in range(4))],
                                      message_id=f"<c{uid}@cq.example.cn>"), uid, CITY)
    figures = build_report(engine, CITY, datetime(2017, 5, 1, tzinfo=SHANGHAI))
    units = {line.unit: line.accepted + line.pending + line.rejected for line in figures.by_unit}
    assert units == {SHAPINGBA: 2, "重庆市九龙坡区总工会": 1}


def test_staff_are_told_that_a_unit_read_from_the_opinion_was_inferred(tmp_path):
    from core import words
    from testing.service import intake

    mail = tmp_path / "mail"
    mail.mkdir()
    values = FormValues(name="张三", id_number=id_number(sequence="111"))
    (mail / "1.eml").write_bytes(nomination_mail([("附件1.docx", forms.chongqing_form_docx(values)), *PHOTOS]))
    config = tmp_path / "intake.toml"
    config.write_text(f'campaign = "chongqing-bayu-2017"\ndata_path = "{tmp_path / "data"}"\n'
                      f'[mailbox]\npath = "{mail}"\n', encoding="utf-8")
    intake(config, "poll", "--once")
    shown = intake(config, "review", "show", "张三").stdout
    assert f"推荐单位：{SHAPINGBA}（{words.INFERRED_NOTE}）" in shown
    assert f"工作单位：{values.employer}\n" in shown  # a field in its own cell carries no note


# --- the seal must be on the form: a stamped cover letter or envelope is not ----------------------------


@pytest.mark.parametrize("name, picture", [
    ("附件2.jpg", forms.cover_letter_jpeg), ("推荐函.jpg", forms.cover_letter_jpeg), ("附件3.jpg", forms.envelope_jpeg),
])
def test_a_stamped_cover_letter_or_envelope_beside_an_unstamped_form_is_seal_missing(name, picture):
    values = FormValues(id_number=id_number())
    files = [("附件1.docx", forms.bayu_form_docx(values, stamped=False)), (name, picture(values)), *PHOTOS]
    verdict, shown = judged(nomination_mail(files))
    assert codes(shown) == ["SEAL_MISSING"]
    [nominee] = shown["nominees"]
    assert nominee["seal"]["present"] is False
    assert {a["filename"]: a["role"] for a in nominee["attachments"]}[name] == "other"


def test_the_stamped_scan_of_the_form_beside_the_docx_still_carries_the_seal():
    from testing.builders import seals

    values = FormValues(id_number=id_number())
    scan, _values, _name = seals.ocr_scan(3, "scan_pdf", values=values)
    files = [("附件1.docx", forms.bayu_form_docx(values, stamped=False)), ("附件2.pdf", scan), *PHOTOS]
    verdict, shown = judged(nomination_mail(files))
    assert shown["status"] == "accepted", codes(shown)
    assert len(shown["nominees"]) == 1 and shown["nominees"][0]["seal"]["where"] == "附件2.pdf p1"


def test_a_letterhead_logo_in_the_docx_header_is_no_seal():
    values = FormValues(id_number=id_number())
    verdict, shown = judged(nomination_mail([("附件1.docx", forms.letterhead_form_docx(values, stamped=False)), *PHOTOS]))
    assert codes(shown) == ["SEAL_MISSING"]
    assert shown["nominees"][0]["seal"]["present"] is False


def test_a_letterhead_form_stamped_in_its_body_keeps_its_seal():
    values = FormValues(id_number=id_number())
    verdict, shown = judged(nomination_mail([("附件1.docx", forms.letterhead_form_docx(values, stamped=True)), *PHOTOS]))
    assert shown["status"] == "accepted", codes(shown)
    assert shown["nominees"][0]["seal"]["present"] is True


@pytest.mark.parametrize("stamped", [False, True])
def test_a_letterhead_logo_at_the_top_of_a_pdf_page_is_no_seal_and_a_stamp_in_the_body_still_is(stamped):
    values = FormValues(id_number=id_number())
    form = forms.form_pdf(values, stamped=stamped, letterhead="重庆长安汽车股份有限公司")
    verdict, shown = judged(nomination_mail([("附件1.pdf", form), *PHOTOS]))
    assert shown["nominees"][0]["seal"]["present"] is stamped
    assert codes(shown) == ([] if stamped else ["SEAL_MISSING"])


def test_a_districts_unnamed_stamped_scans_go_to_the_people_they_name():
    from testing.builders import seals

    people = [FormValues(name="张三", id_number=id_number(sequence="111")),
              FormValues(name="李四", gender="女", id_number=id_number(sequence="222"))]
    files = [(f"附件{k}.docx", forms.bayu_form_docx(v, stamped=False)) for k, v in enumerate(people, 1)]
    files += [(f"附件{k}.pdf", seals.ocr_scan(k, "scan_pdf", values=v)[0]) for k, v in enumerate(people, 3)]
    files += [(f"{v.name}照片{i}.jpg", photo_jpeg(i)) for v in people for i in range(4)]
    verdict, shown = judged(nomination_mail(files))
    assert shown["status"] == "accepted", codes(shown)
    wheres = {n["fields"]["name"]: n["seal"]["where"] for n in shown["nominees"]}
    assert wheres == {"张三": "附件3.pdf p1", "李四": "附件4.pdf p1"}


@pytest.mark.parametrize("label, field, value", [
    ("公民身份证号码", "id_number", "500103198005121234"), ("身份证件号码", "id_number", "500103198005121234"),
    ("手机号", "phone", "13812345678"), ("移动电话", "phone", "13812345678"),
    ("现工作单位", "employer", "重庆长安汽车股份有限公司"),
])
def test_more_wordings_of_the_same_labels_on_real_forms(label, field, value):
    from parsers.fields import table_pairs
    from parsers.types import Table

    assert dict(table_pairs(Table(((label, value, "民族", "汉族"),)))) == {field: value, "ethnicity": "汉族"}


def test_id_number_in_boxes_grouped_six_eight_four_is_read_whole():
    from parsers.fields import table_pairs
    from parsers.types import Table

    row = ("身份证号码", "500103", "19800512", "123X", "性别", "男")
    assert dict(table_pairs(Table((row,)))) == {"id_number": "50010319800512123X", "gender": "男"}


def test_id_number_in_a_row_of_boxes_inserted_into_its_cell_is_read_whole():
    import io

    from docx import Document

    from parsers.docx import read_docx
    from parsers.fields import extract_fields

    document = Document()
    document.add_paragraph("“巴渝工匠”推荐表")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "姓名", "张三"
    table.cell(1, 0).text = "身份证号码"
    boxes = table.cell(1, 1).add_table(rows=1, cols=18)
    for k, digit in enumerate("500103198005121234"):
        boxes.cell(0, k).text = digit
    buffer = io.BytesIO()
    document.save(buffer)
    fields = extract_fields(read_docx(buffer.getvalue()))
    assert fields["id_number"] == "500103198005121234"
