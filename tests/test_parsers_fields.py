"""Field reading: every layout of the form gives the same values, labels never become values."""

import pytest

from parsers.docx import read_docx
from parsers.fields import extract_fields, text_pairs
from parsers.pdf import read_pdf
from parsers.types import DocumentContent, Table
from testing.builders import forms

VALUES = forms.FormValues()
DEEDS = "\n".join(forms.DEEDS)
BAYU_EXPECTED = {
    "name": "张三", "gender": "男", "birth": "1980.05", "ethnicity": "汉族", "politics": "中共党员",
    "education": "大专", "id_number": "500103198005121234", "phone": "13812345678",
    "employer": "重庆长安汽车股份有限公司", "position": "数控车工", "skill_level": "高级技师",
    "years": "20年", "channel": "☑组织推荐  ☐社会举荐  ☐个人自荐", "deeds": DEEDS,
    "honors": "2015年获重庆市五一劳动奖章", "unit_opinion": "同意推荐。\n（盖章）\n2017年4月10日",
    "recommending_unit": "重庆市沙坪坝区总工会",
}


def fields_of(blocks) -> dict:
    text = "\n".join(b if isinstance(b, str) else "\n".join("\t".join(r) for r in b.rows) for b in blocks)
    return extract_fields(DocumentContent(tuple(blocks), text))


@pytest.mark.parametrize("style", forms.MARK_STYLES)
def test_bayu_table_form(style):
    assert extract_fields(read_docx(forms.bayu_form_docx(mark_style=style))) == BAYU_EXPECTED


def test_wuhan_form_with_options_in_cells_and_deeds_under_their_heading():
    values = VALUES.but(channel="职工群众联名推荐", frontline="否", employer="武汉钢铁集团")
    fields = extract_fields(read_docx(forms.wuhan_form_docx(values)))
    assert fields == {
        "name": "张三", "gender": "男", "birth": "1980.05", "ethnicity": "汉族", "politics": "中共党员",
        "education": "大专", "id_number": "500103198005121234", "phone": "13812345678",
        "employer": "武汉钢铁集团", "position": "数控车工", "skill_level": "高级技师", "years": "20年",
        "frontline": "☐是  ☑否", "unit_category": "区、开发区及产业工会",
        "recommending_unit": "重庆市沙坪坝区总工会",
        "channel": "☐基层单位推荐 ☐专业学会或行业协会推荐 ☑职工群众联名推荐 ☐个人自荐 ☐技能竞赛选拔",
        "deeds": DEEDS, "honors": "2015年获重庆市五一劳动奖章", "unit_opinion": "同意推荐。\n（盖章）  年  月  日",
    }


def test_form_typed_as_paragraphs():
    fields = extract_fields(read_docx(forms.paragraph_form_docx()))
    assert fields == {**BAYU_EXPECTED, "unit_opinion": "同意推荐。"}


def test_label_and_value_in_one_cell():
    fields = extract_fields(read_docx(forms.same_cell_form_docx()))
    assert fields == {
        "name": "张三", "gender": "男", "birth": "1980.05", "phone": "13812345678",
        "employer": "重庆长安汽车股份有限公司", "position": "数控车工", "id_number": "500103198005121234",
        "channel": "☑组织推荐  ☐社会举荐  ☐个人自荐", "deeds": DEEDS, "recommending_unit": "重庆市沙坪坝区总工会",
    }


def test_nested_form_in_a_content_control():
    expected = {key: value for key, value in BAYU_EXPECTED.items() if key != "recommending_unit"}
    assert extract_fields(read_docx(forms.nested_form_docx())) == expected  # the table alone


def test_pdf_form_with_ruled_table():
    fields = extract_fields(read_pdf(forms.form_pdf(VALUES.but(channel="个人自荐")), 10))
    expected = {key: value for key, value in BAYU_EXPECTED.items() if key != "honors"}
    assert fields == {**expected, "channel": "□组织推荐 □社会举荐 ■个人自荐", "unit_opinion": "同意推荐。（盖章）"}


def test_blank_form_shows_its_labels_with_empty_values():
    blank = forms.FormValues(**{name: "" for name in BAYU_EXPECTED if name != "deeds"}, deeds=())
    fields = extract_fields(read_docx(forms.bayu_form_docx(blank)))
    assert fields["name"] == fields["phone"] == fields["deeds"] == fields["recommending_unit"] == ""
    assert fields["channel"] == "☐组织推荐  ☐社会举荐  ☐个人自荐"
    assert set(fields) == set(BAYU_EXPECTED)


def test_a_label_cell_is_never_the_previous_labels_value():
    table = Table((("姓名", "性别", "男"), ("出生年月", "", "照片")))
    assert fields_of([table]) == {"name": "", "gender": "男", "birth": ""}


def test_heading_row_with_values_below():
    table = Table((("姓名", "性别", "民族"), ("李四", "女", "土家族")))
    assert fields_of([table]) == {"name": "李四", "gender": "女", "ethnicity": "土家族"}


def test_no_value_borrowed_from_the_next_row_when_the_row_has_values():
    table = Table((("姓名", "王五", "出生年月", "照片"), ("民族", "汉", "学历", "本科")))
    assert fields_of([table])["birth"] == ""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("推荐单位意见：同意推荐", [("unit_opinion", "同意推荐")]),
        ("推荐单位类别：区县工会", [("unit_category", "区县工会")]),
        ("所在单位意见：同意", [("unit_opinion", "同意")]),
        ("所在单位：长安汽车", [("employer", "长安汽车")]),
        ("身份证号码：500103198005121234", [("id_number", "500103198005121234")]),
        ("公民身份号码:500103198005121234", [("id_number", "500103198005121234")]),
        ("手机号码：13812345678", [("phone", "13812345678")]),
        ("主要事迹简介：攻坚克难", [("deeds", "攻坚克难")]),
        ("岗位/工种：钳工", [("position", "钳工")]),
        ("推荐单位（盖章）：沙坪坝区总工会", [("recommending_unit", "沙坪坝区总工会")]),
        ("姓  名：张三    性　别：男", [("name", "张三"), ("gender", "男")]),
        ("姓名:张三，性别:男；民族:汉", [("name", "张三，"), ("gender", "男；"), ("ethnicity", "汉")]),
        ("姓名 张三 性别 男", [("name", "张三"), ("gender", "男")]),  # a PDF's unruled table row
        ("1、姓名：张三\n（2）性别：男", [("name", "张三"), ("gender", "男")]),  # numbered items
        ("他在工作单位：里表现突出", []),  # a label inside a word is no label
        ("岗位练兵是他的强项", []),
    ],
)
def test_text_pairs(line, expected):
    assert list(text_pairs(line)) == expected


def test_long_value_runs_until_the_next_label():
    text = "主要事迹：\n第一段。\n第二段。\n获奖情况：劳动模范\n姓名：\n赵六"
    assert list(text_pairs(text)) == [
        ("deeds", "第一段。\n第二段。"), ("honors", "劳动模范"), ("name", "赵六"),
    ]


def test_recommending_unit_is_not_the_employer():
    values = VALUES.but(employer="长安汽车", recommending_unit="两江新区总工会")
    fields = extract_fields(read_docx(forms.bayu_form_docx(values)))
    assert (fields["employer"], fields["recommending_unit"]) == ("长安汽车", "两江新区总工会")


def test_placeholder_value_gives_way_to_a_later_written_one():
    table = Table((("推荐单位", "（盖章）"),))
    assert fields_of([table, "推荐单位：九龙坡区总工会"])["recommending_unit"] == "九龙坡区总工会"


def test_a_line_of_another_label_is_no_value():
    assert fields_of(["推荐单位（盖章）：", "填表日期：2017年4月10日"])["recommending_unit"] == ""
    assert fields_of(["主要事迹：", "攻坚克难。", "填表人：李四"])["deeds"] == "攻坚克难。"


def test_first_written_value_wins():
    assert fields_of(["联系电话：13800000001", "联系人：某某  联系电话：023-12345678"])["phone"] == "13800000001"


def test_channel_without_a_label():
    fields = fields_of(["“巴渝工匠”推荐表", "姓名：张三", "☐组织推荐 ☑个人自荐 ☐社会举荐"])
    assert fields["channel"] == "☐组织推荐 ☑个人自荐 ☐社会举荐"


def test_label_with_a_note_and_a_line_break():
    table = Table((("推荐方式（请在□内打√）", "√组织推荐"), ("主要\n事迹\n（500字）", "事迹正文")))
    assert fields_of([table]) == {"channel": "√组织推荐", "deeds": "事迹正文"}
