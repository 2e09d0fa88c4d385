"""Recognising the form by its content first, its file name second; write-ups; photo documents."""

import pytest

from parsers.classify import classify
from parsers.docx import read_docx
from parsers.fields import extract_fields
from parsers.pdf import read_pdf
from parsers.types import DocumentContent, Table
from testing.builders import forms

BAYU = ("巴渝工匠", "推荐表")
WUHAN = ("大城工匠", "申报表")


def kind_of(filename, content, keywords=BAYU):
    return classify(filename, content, extract_fields(content) if content else {}, keywords)


def paragraphs(*lines) -> DocumentContent:
    return DocumentContent(tuple(lines), "\n".join(lines))


@pytest.mark.parametrize(
    ("builder", "keywords"),
    [
        (forms.bayu_form_docx, BAYU),
        (forms.wuhan_form_docx, WUHAN),
        (forms.paragraph_form_docx, BAYU),
        (forms.same_cell_form_docx, BAYU),
        (forms.nested_form_docx, BAYU),
    ],
)
def test_forms_are_forms_whatever_their_name(builder, keywords):
    kind, score = kind_of("附件1.docx", read_docx(builder()), keywords)
    assert kind == "form" and score >= 0.75


def test_pdf_form_is_a_form():
    kind, score = kind_of("scan.pdf", read_pdf(forms.form_pdf(), 5))
    assert (kind, score) == ("form", 1.0)


def test_form_without_a_title_is_known_by_its_labels():
    table = Table((("姓名", "张三", "性别", "男"), ("工作单位", "长安", "联系电话", "13812345678")))
    content = DocumentContent((table,), "")
    kind, score = kind_of("附件1.docx", content)
    assert kind == "form" and 0.2 < score < 0.5


def test_other_campaigns_form_still_reads_as_a_form_by_its_generic_title():
    kind, score = kind_of("附件.docx", read_docx(forms.wuhan_form_docx()), BAYU)
    assert kind == "form"
    assert score < kind_of("附件.docx", read_docx(forms.wuhan_form_docx()), WUHAN)[1]


def test_cover_letter_mentioning_the_form_is_not_the_form():
    letter = paragraphs(
        "关于推荐张三同志参评2017年度“巴渝工匠”的函",
        "沙坪坝区总工会：",
        "现将我单位推荐的张三同志的“巴渝工匠”推荐表及事迹材料报送你们，请审核。联系人：李四，联系电话：65311292。",
    )
    assert kind_of("推荐函.docx", letter)[0] == "other"


def test_a_file_named_as_the_form_is_a_weaker_candidate():
    kind, score = kind_of("张三推荐表.pdf", read_pdf(forms.scanned_pdf(), 5))
    assert (kind, score) == ("form", 0.3)
    assert kind_of("扫描件.pdf", read_pdf(forms.scanned_pdf(), 5))[0] == "other"


def test_unreadable_files_are_judged_by_name():
    assert classify("张三推荐表.docx", None, {}, BAYU) == ("form", 0.3)
    assert classify("武汉大城工匠申报表.pdf", None, {}, WUHAN) == ("form", 0.3)
    assert classify("事迹材料.docx", None, {}, BAYU) == ("writeup", 0.0)
    assert classify("附件1.docx", None, {}, BAYU) == ("other", 0.0)


def test_writeup_by_title_by_name_and_by_prose():
    assert kind_of("附件2.docx", read_docx(forms.writeup_docx(1200)))[0] == "writeup"
    untitled = read_docx(forms.writeup_docx(1200, title="张三"))
    assert kind_of("张三先进事迹.docx", untitled)[0] == "writeup"
    assert kind_of("附件2.docx", untitled)[0] == "writeup"  # long Chinese prose, no labels
    assert kind_of("事迹.pdf", read_pdf(forms.writeup_pdf(900), 5))[0] == "writeup"


def test_short_or_foreign_prose_is_not_a_writeup():
    assert kind_of("附件2.docx", paragraphs(forms.prose(200)))[0] == "other"
    english = paragraphs(" ".join(["The quick brown fox jumps over the lazy dog."] * 80))
    assert kind_of("report.docx", english)[0] == "other"


def test_photo_document_needs_the_name_and_pictures():
    assert kind_of("张三工作照.docx", read_docx(forms.photo_docx(4)))[0] == "photo_document"
    assert kind_of("附件3.docx", read_docx(forms.photo_docx(4)))[0] == "other"
    assert kind_of("照片说明.docx", paragraphs("照片由本人提供"))[0] == "other"


def test_a_form_with_its_one_inch_photo_is_still_the_form():
    content = read_docx(forms.bayu_form_docx())
    with_photo = DocumentContent(content.blocks, content.text, image_count=1)
    assert kind_of("张三推荐表（含照片）.docx", with_photo)[0] == "form"
