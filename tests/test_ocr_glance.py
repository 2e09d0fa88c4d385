"""A stamped scan beside complete typed forms is read only as far as its title (and first row).

The typed .docx gives the fields; the scan is wanted to know that it is the form's stamped page
(not a cover letter) and whose it is. Reading the whole page cost about a second more per scan."""

from __future__ import annotations

import pytest

import campaigns
from parsers import ocr
from parsers.ocr import Glance
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import forms, seals
from testing.builders.forms import FormValues
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.programs import everything_installed

KEYWORDS = ("巴渝工匠", "推荐表")
BAYU = campaigns.load("chongqing-bayu-2017")
ZHAO = FormValues(name="赵立新", id_number=id_number(birth="19760212", sequence="318"), phone="13983361122",
                  employer="重庆钢铁股份有限公司", position="电工", channel="组织推荐")
QIAN = ZHAO.but(name="钱红梅", id_number=id_number(birth="19820709", sequence="426"), phone="13983364455",
                gender="女")

pytestmark = pytest.mark.skipif("rapidocr" not in ocr.available_engines() and not everything_installed(),
                                reason="rapidocr-onnxruntime missing")


def _read(glance: Glance | None, seed: int = 41):
    data, values, filename = seals.ocr_scan(seed, "scan_pdf", values=ZHAO)
    return ocr.read_scan_here(data, filename, KEYWORDS, 100_000_000, 4, "rapidocr", glance)


def _files(values: FormValues, seed: int, typed: FormValues | None = None) -> list[tuple[str, bytes]]:
    scan, _, _ = seals.ocr_scan(seed, "scan_pdf", values=values)
    return [(f"{values.name}推荐表.docx", forms.bayu_form_docx(typed or values, stamped=False)),
            (f"{values.name}推荐表（盖章）.pdf", scan), (f"{values.name}事迹材料.docx", forms.writeup_docx(1200)),
            *[(f"{values.name}照片{i}.jpg", photo_jpeg(seed * 10 + i)) for i in range(4)]]


def _judged(files) -> dict:
    return verdict_json(judge(nomination_mail(files), BAYU), BAYU.id, "test.eml")


def test_beside_one_typed_form_a_glance_reads_the_title_and_beside_several_the_first_row_too():
    alone, several, whole = _read(Glance()), _read(Glance(names=("赵立新", "钱红梅"))), _read(None)
    assert alone.kind == several.kind == whole.kind == "form"
    assert "巴渝工匠" in alone.content.text and ZHAO.name not in alone.content.text
    assert several.fields["name"] == "赵立新" and "recommending_unit" not in several.fields
    assert ZHAO.recommending_unit not in several.content.text and "recommending_unit" in whole.fields


def test_a_glance_that_does_not_show_a_typed_forms_name_reads_the_whole_page_where_that_is_needed(monkeypatch):
    assert _read(Glance(names=("赵立新", "钱红梅"))).fields.get("recommending_unit") is None  # settled
    whole = _read(Glance(names=("钱红梅", "孙七")))  # a misread name, or another batch's form
    assert whole.fields["name"] == "赵立新" and "recommending_unit" in whole.fields
    monkeypatch.setattr(ocr, "GLANCE_ROWS", 0)  # the title alone: the form, but nobody's
    named = _read(Glance(names=("赵立新", "钱红梅")))
    assert named.fields["name"] == "赵立新" and "recommending_unit" in named.fields


def test_a_table_that_starts_at_the_pages_top_edge_is_read_whole_not_lost(monkeypatch):
    monkeypatch.setattr(ocr, "opening", lambda page, cells, rows: (page[:0], []))  # nothing above the table
    whole = _read(Glance())
    assert whole.kind == "form" and "recommending_unit" in whole.fields


def test_a_stamped_scan_beside_the_complete_typed_form_carries_the_seal():
    result = _judged(_files(ZHAO, 7))
    (nominee,) = result["nominees"]
    assert result["status"] == "accepted", result
    assert nominee["seal"]["present"] and nominee["seal"]["where"] == "赵立新推荐表（盖章）.pdf p1"
    assert {a["filename"]: a["role"] for a in nominee["attachments"]}["赵立新推荐表（盖章）.pdf"] == "form_scan"


def test_a_field_the_typed_form_left_empty_is_still_read_from_the_scan_beside_it():
    """工作单位 sits below the rows a glance reads: the whole scan is read where the typed form lacks it."""
    (nominee,) = _judged(_files(ZHAO, 7, typed=ZHAO.but(employer="")))["nominees"]
    assert nominee["fields"]["employer"] == "重庆钢铁股份有限公司"
    assert nominee["status"] == "accepted", nominee["findings"]


def test_each_scan_of_a_districts_batch_joins_the_typed_form_it_names():
    result = _judged(_files(ZHAO, 7) + _files(QIAN, 9))
    seals_of = {n["fields"]["name"]: n["seal"]["where"] for n in result["nominees"]}
    assert seals_of == {"赵立新": "赵立新推荐表（盖章）.pdf p1", "钱红梅": "钱红梅推荐表（盖章）.pdf p1"}
    assert {n["status"] for n in result["nominees"]} == {"accepted"}, result


def test_a_phone_photo_of_the_stamped_page_beside_the_complete_typed_form_is_glanced_at_too(monkeypatch):
    """IMG_2034.jpg is neither page-like nor named as the form: the second look finds it by its seal."""
    asked, real = [], ocr.read_scans
    monkeypatch.setattr(ocr, "read_scans", lambda *args, **kwargs: asked.append(kwargs.get("glance")) or real(
        *args, **kwargs))
    photo, _, _ = seals.ocr_scan(3, "photo_jpg", values=ZHAO)
    files = [("赵立新推荐表.docx", forms.bayu_form_docx(ZHAO, stamped=False)), ("IMG_2034.jpg", photo),
             ("赵立新事迹材料.docx", forms.writeup_docx(1200)), *[(f"赵立新照片{i}.jpg", photo_jpeg(i)) for i in range(4)]]
    (nominee,) = _judged(files)["nominees"]
    assert nominee["status"] == "accepted" and nominee["seal"]["where"].startswith("IMG_2034.jpg")
    assert asked == [Glance()]


def test_a_glance_looks_for_text_lines_on_a_smaller_picture_than_a_whole_reading(monkeypatch):
    """The opening's title and first row are found at GLANCE_DET_SIDE, a whole page at DET_SIDE:
    the strip across the page's width cost most of a glance's detection at full size."""
    from parsers import ocr_engine

    detector = ocr_engine._rapid().text_det._detector
    sides: list[int] = []
    infer = detector.infer
    monkeypatch.setattr(detector, "infer", lambda tensor: sides.append(max(tensor.shape[2:])) or infer(tensor))
    _read(Glance())
    glanced = list(sides)
    sides.clear()
    _read(None)
    assert glanced and max(glanced) <= ocr.GLANCE_DET_SIDE
    assert max(sides) > ocr.GLANCE_DET_SIDE


def _sides_drawn(monkeypatch) -> list[int]:
    import parsers.pages

    sides: list[int] = []
    pictures_of = parsers.pages.pictures_of
    monkeypatch.setattr(parsers.pages, "pictures_of", lambda *args, **kw: sides.append(kw["long_side"]) or
                        pictures_of(*args, **kw))
    return sides


def test_a_glance_reads_the_title_and_first_row_on_a_smaller_page(monkeypatch):
    """The title's and the first row's characters read at half the size: the page drawn, straightened
    and searched for its table at GLANCE_SIDE costs a quarter of that at OCR_SIDE."""
    sides = _sides_drawn(monkeypatch)
    alone = _read(Glance())
    assert alone.kind == "form" and "巴渝工匠" in alone.content.text and sides == [ocr.GLANCE_SIDE]
    sides.clear()
    several = _read(Glance(names=("赵立新", "钱红梅")))
    assert several.fields["name"] == "赵立新" and sides == [ocr.GLANCE_SIDE]


def test_a_title_the_smaller_page_does_not_show_is_read_at_full_size(monkeypatch):
    monkeypatch.setattr(ocr, "GLANCE_SIDE", 240)  # too small for the table's cells to be told apart
    sides = _sides_drawn(monkeypatch)
    alone = _read(Glance())
    assert alone.kind == "form" and "巴渝工匠" in alone.content.text and sides == [240, ocr.OCR_SIDE]
