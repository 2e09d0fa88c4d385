"""Forms that arrive only as a scan, read with offline OCR; what OCR read and fails a rule goes to staff."""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import pytest

import campaigns
from campaigns.limits import DEFAULT_LIMITS
from parsers import ocr
from parsers.ocr import Glyph, grid_cells, page_blocks, prepared, read_scan
from parsers.types import Table
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import forms, seals
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number, with_wrong_check_digit
from testing.programs import everything_installed

KEYWORDS = ("巴渝工匠", "推荐表")
RECEIVED = datetime(2017, 4, 10, 10, 0, tzinfo=SHANGHAI)
ZHANG = FormValues(name="张伟华", id_number=id_number(birth="19790315", sequence="271"), phone="13983365127",
                   employer="重庆建工第三建设有限责任公司", position="焊工", channel="组织推荐")
READ = ("name", "gender", "birth", "id_number", "phone", "employer", "position", "skill_level", "recommending_unit")

# under CI an engine that is missing is a failed install, not a reason to skip
_IN_CI = everything_installed()  # a missing engine then fails the tests, not skips them
needs_rapidocr = pytest.mark.skipif("rapidocr" not in ocr.available_engines() and not _IN_CI,
                                    reason="rapidocr-onnxruntime missing")


def _judge(files: list[tuple[str, bytes]]) -> dict:
    profile = campaigns.load("chongqing-bayu-2017")
    return verdict_json(judge(nomination_mail(files), profile, received_at=RECEIVED), profile.id)


@needs_rapidocr
@pytest.mark.parametrize("medium", ["scan_pdf", "photo_jpg"])
def test_a_degraded_scan_reads_as_the_form_with_its_fields(medium):
    data, values, filename = seals.ocr_scan(41, medium)
    document = read_scan(data, filename, KEYWORDS, DEFAULT_LIMITS, "rapidocr")  # in its own process, as intake does
    assert document is not None and document.kind == "form"
    for field in READ:
        assert document.fields[field].replace(" ", "") == getattr(values, field), field
    assert "■" + values.channel in document.fields["channel"]


@needs_rapidocr
def test_an_organization_nomination_sent_only_as_a_stamped_scan_is_accepted_from_ocr():
    scan, _, _ = seals.ocr_scan(7, "scan_pdf", values=ZHANG)
    files = [("张伟华推荐表.pdf", scan), ("张伟华事迹材料.docx", forms.writeup_docx(1200)),
             *[(f"张伟华照片{i}.jpg", photo_jpeg(i)) for i in range(4)]]
    result = _judge(files)
    assert result["status"] == "accepted", result
    (nominee,) = result["nominees"]
    assert nominee["fields"]["name"] == "张伟华" and nominee["fields"]["channel"] == "organization"
    assert nominee["seal"]["present"] and nominee["seal"]["where"] == "张伟华推荐表.pdf p1"
    assert [a["role"] for a in nominee["attachments"]][0] == "form_scan"


@needs_rapidocr
def test_a_field_read_by_ocr_that_fails_a_rule_goes_to_staff_not_back():
    wrong = ZHANG.but(id_number=with_wrong_check_digit(ZHANG.id_number))
    photo, _, _ = seals.ocr_scan(8, "photo_jpg", values=wrong)
    files = [("推荐表.jpg", photo), ("事迹材料.docx", forms.writeup_docx(1200)),
             *[(f"照片{i}.jpg", photo_jpeg(i)) for i in range(4)]]
    result = _judge(files)
    assert result["status"] == "needs_review"
    (finding,) = result["nominees"][0]["findings"]
    assert (finding["code"], finding["severity"]) == ("ID_NUMBER_INVALID", "review")
    assert finding["detail"]["source"] == "ocr"


def test_a_scan_ocr_cannot_read_stays_a_scan_for_staff():
    result = _judge([("推荐表.pdf", forms.scanned_pdf()), *[(f"照片{i}.jpg", photo_jpeg(i)) for i in range(4)]])
    (finding,) = [f for f in result["nominees"][0]["findings"] if f["code"] == "FORM_UNREADABLE"]
    assert finding["severity"] == "review" and finding["detail"]["reason"] == "scan_only"


def test_characters_land_in_the_grid_cells_as_a_table():
    page, _ = seals.form_page(ZHANG, random.Random(0))
    grey = prepared(np.asarray(page))
    cells = grid_cells(grey)
    assert len(cells) >= 30
    label = next(c for c in cells if c.row == 0 and c.column == 0)
    value = next(c for c in cells if c.row == 0 and c.column == 1)
    glyphs = [Glyph("姓", (label.box[0] + 5, label.box[1] + 5, label.box[0] + 25, label.box[1] + 30)),
              Glyph("名", (label.box[0] + 30, label.box[1] + 5, label.box[0] + 50, label.box[1] + 30)),
              Glyph("张", (value.box[0] + 5, value.box[1] + 5, value.box[0] + 25, value.box[1] + 30))]
    blocks = page_blocks(glyphs, cells)
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert table.rows[0][:2] == ("姓名", "张")


def test_a_box_read_as_kou_is_an_empty_box_where_an_option_is_ticked():
    assert ocr._checkboxes("口组织推荐■社会举荐口个人自荐") == "☐组织推荐■社会举荐☐个人自荐"
    assert ocr._checkboxes("人口普查") == "人口普查"


@pytest.mark.skipif("tesseract" not in ocr.available_engines() and not _IN_CI, reason="tesseract-ocr-chi-sim missing")
def test_tesseract_the_fallback_engine_reads_the_title_at_least():
    data, _, filename = seals.ocr_scan(41, "scan_pdf")
    document = read_scan(data, filename, KEYWORDS, DEFAULT_LIMITS, "tesseract")
    assert document is not None and document.kind == "form" and "巴渝工匠" in document.content.text


def test_a_scanned_page_without_a_ruled_table_is_not_read_by_ocr(monkeypatch):
    """A covering letter or a certificate scanned beside the photos: no grid, so not the form,
    and the OCR engine (seconds a page) is never started for it."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", seals.PAGE_SIZE, "white")
    draw = ImageDraw.Draw(page)
    for line in range(12):
        draw.text((150, 200 + 60 * line), "关于推荐张伟华同志参评巴渝工匠的函" if line == 0 else "特此推荐。" * 6,
                  fill="black", font=seals.font(34))
    letter = seals.scan_pdf(page, random.Random(1))

    def no_engine(*args):
        raise AssertionError("OCR ran on a page that is no form")

    monkeypatch.setattr(ocr, "glyphs_of", no_engine)
    document = ocr.read_scan_here(letter, "推荐函.pdf", KEYWORDS, 100_000_000, 4, "rapidocr")
    assert document.kind == "other" and document.content is None
    form, _, _ = seals.ocr_scan(41, "scan_pdf")
    with pytest.raises(AssertionError, match="no form"):  # the form's page does reach the engine
        ocr.read_scan_here(form, "推荐表.pdf", KEYWORDS, 100_000_000, 4, "rapidocr")


@needs_rapidocr
def test_a_districts_two_scanned_forms_are_read_in_one_ocr_process(monkeypatch):
    """Each scan would otherwise pay the interpreter's start and the models' load again."""
    from core import children

    spawned = []
    real = children.run
    monkeypatch.setattr(children, "run", lambda *args, **kwargs: (kwargs.get("fresh") and spawned.append(1))
                        or real(*args, **kwargs))
    wang = ZHANG.but(name="王建国", id_number=id_number(birth="19800101", sequence="155"), phone="13900001234")
    files = []
    for seed, values in ((7, ZHANG), (9, wang)):
        scan, _, _ = seals.ocr_scan(seed, "scan_pdf", values=values)
        files += [(f"{values.name}推荐表.pdf", scan), (f"{values.name}事迹材料.docx", forms.writeup_docx(1200)),
                  *[(f"{values.name}照片{i}.jpg", photo_jpeg(seed * 10 + i)) for i in range(4)]]
    result = _judge(files)
    assert sorted(n["fields"]["name"] for n in result["nominees"]) == ["张伟华", "王建国"]
    assert {n["status"] for n in result["nominees"]} == {"accepted"}, result
    assert len(spawned) == 1
