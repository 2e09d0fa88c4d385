"""The .docx reader: order, merged cells, content controls, checkboxes of every kind, safety."""

import re
import zipfile
from io import BytesIO
from pathlib import Path

import docx
import pytest

from parsers.docx import read_docx
from parsers.types import CHECKED, UNCHECKED, Table
from testing.builders import forms

CORPUS = Path("/work/shared/corpora/docx")


def tables(content):
    return [block for block in content.blocks if isinstance(block, Table)]


@pytest.mark.parametrize("style", forms.MARK_STYLES)
def test_every_kind_of_checkbox_becomes_a_mark(style):
    content = read_docx(forms.bayu_form_docx(forms.FormValues(channel="社会举荐"), mark_style=style))
    row = next(row for row in tables(content)[0].rows if row[0] == "推荐方式")
    assert row[1] == "☐组织推荐  ☑社会举荐  ☐个人自荐"


@pytest.mark.parametrize("style", ["sdt", "formcheckbox", "wingdings", "wingdings2", "wps_text"])
def test_python_docx_text_loses_these_marks(style):
    """Why we read the XML: python-docx's .text has no mark (or the wrong letter) for them."""
    document = docx.Document(BytesIO(forms.bayu_form_docx(mark_style=style)))
    cell_text = document.tables[0].rows[5].cells[1].text
    assert not set(cell_text) & {CHECKED, UNCHECKED, "☒"}


def test_content_control_checkbox_is_counted_once():
    content = read_docx(forms.bayu_form_docx(mark_style="sdt"))
    assert "☒" not in content.text  # the control's own glyph is not repeated beside ☑
    assert content.text.count(CHECKED) == 1
    assert content.text.count(UNCHECKED) == 2


def test_merged_cells_appear_once_where_they_start():
    table = tables(read_docx(forms.bayu_form_docx()))[0]
    assert table.rows[0] == ("姓  名", "张三", "性\u3000别", "男", "出生年月：", "1980.05", "照片")
    assert table.rows[1] == ("民  族", "汉族", "政治面貌", "中共党员", "文化程度", "大专")  # 照片 continues
    assert table.rows[2] == ("身份证号码", "500103198005121234", "联系电话", "13812345678")
    assert table.columns[2] == (0, 1, 4, 5)  # the ID number spans grid columns 1–3
    assert table.rows[6][0] == "主要\n事迹"
    assert table.rows[6][1] == "\n".join(forms.DEEDS)
    text = read_docx(forms.bayu_form_docx()).text
    assert text.count("重庆长安汽车股份有限公司") == 1
    assert text.count("照片") == 1


def test_paragraphs_and_tables_keep_their_order_and_headers_are_left_out():
    content = read_docx(forms.bayu_form_docx())
    assert content.blocks[:2] == ("附件", "2017年度“巴渝工匠”推荐表")
    assert isinstance(content.blocks[2], Table)
    assert content.blocks[3:] == ("推荐单位（盖章）：重庆市沙坪坝区总工会", "填表日期：2017年4月10日")
    writeup = read_docx(forms.writeup_docx(600))
    assert "巴渝工匠评选材料之二" not in writeup.text and "第1页" not in writeup.text


def test_table_inside_a_content_control_and_a_layout_table_is_read():
    content = read_docx(forms.nested_form_docx())
    assert any(row[:2] == ("姓  名", "张三") for table in tables(content) for row in table.rows)
    assert content.text.count("张三同志扎根") == 1  # the nested table's text is not doubled
    assert docx.Document(BytesIO(forms.nested_form_docx())).tables == []  # python-docx misses it


def test_pictures_in_the_body_are_counted():
    assert read_docx(forms.photo_docx(5)).image_count == 5
    assert read_docx(forms.bayu_form_docx(stamped=False)).image_count == 0


def test_external_entity_is_neither_fetched_nor_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    data = forms.entity_docx(f'<!ENTITY xxe SYSTEM "file://{secret}">', "&xxe;")
    content = read_docx(data)
    assert "TOP-SECRET" not in content.text
    assert content.text.startswith("before")


def test_internal_entities_are_not_expanded():
    data = forms.entity_docx('<!ENTITY name "张三">', "&name;")
    assert "张三" not in read_docx(data).text


def test_corpus_xxe_file_reads_without_the_entity():
    content = read_docx((CORPUS / "poi__ExternalEntityInText.docx").read_bytes())
    assert "Apache POI" not in content.text and content.text.startswith("Here should not be")


def test_legacy_form_checkboxes_in_corpus_match_their_xml():
    """docx2python's checked_boxes.docx: one mark per FORMCHECKBOX, in the state its XML says."""
    data = (CORPUS / "docx2python__checked_boxes.docx").read_bytes()
    xml = zipfile.ZipFile(BytesIO(data)).read("word/document.xml").decode("utf-8")
    boxes = re.findall(r"<w:checkBox>(.*?)</w:checkBox>", xml)
    checked = sum(1 for box in boxes if re.search(r"<w:checked/>|<w:checked w:val=\"(1|true)\"/>", box))
    content = read_docx(data)
    assert (content.text.count(CHECKED), content.text.count(UNCHECKED)) == (checked, len(boxes) - checked)
    assert checked > 0 and len(boxes) - checked > 0


def test_strict_ooxml_and_a_renamed_main_part_are_read():
    strict = read_docx((CORPUS / "docx2python__strict.docx").read_bytes())
    assert strict.text.startswith("Bullet1") and tables(strict)[0].rows[0] == ("Cellaa", "Cellab")
    renamed = read_docx((CORPUS / "docx2python__renamed_document_xml.docx").read_bytes())
    assert renamed.text == "This is a link to my website."


def test_text_box_and_vml_picture_in_corpus():
    assert read_docx((CORPUS / "mammoth__text-box.docx").read_bytes()).text == "Datum plane"
    assert read_docx((CORPUS / "docx2python__has_pict.docx").read_bytes()).image_count == 1
