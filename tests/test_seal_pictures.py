"""Seals on pictures as offices send them: close-ups, phone JPEGs, photocopies, hard negatives, headers.

Built from the real-like part of the generator (testing/builders/seal_pictures.py `real_picture`) on
seeds that neither its tuning (REAL_TUNING) nor the bench (REAL_HELD_OUT) uses. The pictures
are drawn and read in a worker process: phone-sized pictures leave this process's address
space large, and the sandboxed readers that later tests fork from it would start over their
memory limit.
"""

from __future__ import annotations

import io
from concurrent.futures import ProcessPoolExecutor

import pytest
from PIL import Image, ImageDraw

from bench.seal_sets import jpeg420
from parsers.seal import REASONS, read_seal_here
from parsers.seal_page import judge_page
from testing.builders import forms, seals

SAMPLE = range(70_000, 70_000 + 4 * len(seals.REAL_CASES))


def _seeds(case: str, count: int = 3) -> list[int]:
    def case_of(seed: int) -> str:
        name, has_seal = seals.REAL_CASES[seed % len(seals.REAL_CASES)]
        return f"{'seal' if has_seal else 'trap'}:{name}"

    return [seed for seed in SAMPLE if case_of(seed) == case][:count]


def _read_seed(job: tuple[int, str]) -> tuple[str, float, bool, str, tuple]:
    """(filename, confidence, present, reason, judge_page's answer) of one picture, as found or re-saved."""
    seed, how = job
    picture = seals.real_picture(seed)
    data, name = picture.data, picture.filename
    if how != "as found":
        data = jpeg420(data)
        assert Image.open(io.BytesIO(data)).layer[1][1:3] == (1, 1)  # chroma halved both ways: 4:2:0
        data, name = (data, "推荐表.jpg") if how == "jpeg420" else (_pdf_of(data), "推荐表.pdf")
    reading = read_seal_here(data, name, 100_000_000, 20)
    page = judge_page(picture.data, picture.filename) if how == "as found" else None
    judged = (page.colour, page.verdict, page.reason, page.confidence, page.why) if page else ()
    return name, reading.confidence, reading.present, reading.reason, judged


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(2) as workers:
        yield workers


def _read_case(pool, case: str, how: str = "as found", count: int = 3) -> list[tuple]:
    return list(pool.map(_read_seed, [(seed, how) for seed in _seeds(case, count)]))


def _read(data: bytes, filename: str):
    return read_seal_here(data, filename, 100_000_000, 20)


@pytest.mark.parametrize("case", ["seal:closeup", "seal:closeup_cut", "seal:strip"])
def test_a_seal_that_fills_the_frame_or_is_cut_by_it_is_found(pool, case):
    for name, confidence, present, _, _ in _read_case(pool, case):
        assert present and confidence >= 0.65, (name, confidence)


@pytest.mark.parametrize("how", ["jpeg420", "pdf"])
def test_a_pale_seal_survives_a_420_jpeg_re_save_and_an_image_only_pdf(pool, how):
    for name, confidence, present, _, _ in _read_case(pool, "seal:page_pale", how):
        assert present and confidence >= 0.65, (name, confidence)


def _pdf_of(jpeg: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(buffer, "PDF", resolution=150)
    return buffer.getvalue()


def test_a_grey_photocopy_seal_beside_small_colour_marks_goes_to_staff_with_the_reason(pool):
    """The copy carries a red tick and a blue pen signature: the grey ring is still looked for,
    and lands in the review band as a grey copy, never as a pass."""
    for name, confidence, present, reason, _ in _read_case(pool, "seal:photocopy_marks"):
        assert 0.35 <= confidence < 0.65, (name, confidence)
        assert not present and reason == "grey_copy"


def _read_oval_copy(job: tuple[int, bool, bool, bool]) -> tuple[float, bool, str]:
    from testing.builders.seal_pictures import oval_grey_copy

    reading = _read(oval_grey_copy(*job), "推荐表复印件.png")
    return reading.confidence, reading.present, reading.reason


@pytest.mark.parametrize(("inked", "over_text", "turned"),
                         [(False, True, False), (True, True, False), (True, False, False), (True, False, True)],
                         ids=["pale-over-the-date", "dark-over-the-date", "dark-apart", "dark-turned"])
def test_a_grey_copy_of_an_oval_seal_goes_to_staff(pool, inked, over_text, turned):
    """An oval seal is no circle, and on a copy its grey ring runs into the （盖章） and date it was
    pressed on; pressed hard, the copy prints it as dark as the text; scanned a quarter turned, it
    stands. It is found as a circle on the page squeezed along it, and goes to staff as a grey copy."""
    jobs = [(seed, inked, over_text, turned) for seed in range(1, 9)]
    for seed, (confidence, present, reason) in zip(range(1, 9), pool.map(_read_oval_copy, jobs)):
        assert 0.35 <= confidence < 0.65 and not present, (seed, confidence)
        assert reason == "grey_copy", seed


@pytest.mark.parametrize("size", [(2, 400), (400, 2), (3, 5000), (1, 1)])
def test_a_picture_a_pixel_or_two_thin_is_judged_without_a_seal_not_an_error(size):
    """Shrunk for the circle search, such a strip would be nothing, which OpenCV refuses."""
    import numpy as np

    judged = judge_page(np.full((*size, 3), (200, 30, 30), np.uint8))
    assert judged.verdict == "none" and judged.confidence == 0


def _oval_over_print(ink: tuple[int, int, int]):
    """A page of dense black print with a thin level oval drawn over it, 200 × 140 px."""
    import numpy as np

    from testing.builders.seal_drawing import font

    page = Image.new("RGB", (1000, 707), "white")
    draw = ImageDraw.Draw(page)
    for row in range(22):
        draw.text((40, 20 + row * 30), "推荐单位意见（盖章）二〇二四年五月二十日推荐表推荐单位意见", fill=(0, 0, 0),
                  font=font(18), stroke_width=1, stroke_fill=(0, 0, 0))
    draw.ellipse((500, 330, 700, 470), outline=ink, width=4)
    return np.asarray(page)


@pytest.mark.parametrize(("ink", "colour"), [((40, 80, 190), "blue"), ((200, 40, 40), "red"), ((225, 120, 120), "red")],
                         ids=["blue", "red", "pale-red"])
def test_an_ovals_ink_is_named_from_its_outline_as_fitted(ink, colour):
    """Read on the outline drawn with its long axis first, a level oval stood upright, crossed the
    print and was named grey: a blue stamp as a grey copy, and a red ring, the red search's
    business, sent to staff as a grey copy."""
    judged = judge_page(_oval_over_print(ink))
    assert judged.colour == colour, judged
    assert judged.reason != "grey_copy", judged
    if colour == "blue":
        assert judged.verdict == "uncertain" and judged.reason == "blue_stamp", judged


@pytest.mark.parametrize("case", ["trap:clock", "trap:plate", "trap:emblem", "trap:prohibition_sign",
                                  "trap:no_entry_sign", "trap:red_letterhead", "trap:red_badge_logo",
                                  "trap:red_round_logo", "trap:gold_foil"])
def test_round_things_that_are_no_seal_never_pass(pool, case):
    for name, confidence, present, _, _ in _read_case(pool, case):
        assert not present and confidence < 0.65, (name, confidence)


@pytest.mark.parametrize("case", ["trap:blue_stamp", "trap:blue_closeup"])
def test_a_blue_stamp_is_at_most_a_question_for_staff(pool, case):
    for name, confidence, present, reason, _ in _read_case(pool, case):
        assert not present and confidence < 0.65, (name, confidence)
        if confidence >= 0.35:
            assert reason == "blue_stamp"


@pytest.mark.parametrize(("band", "seeds"), [((92, 146, 82), (1, 3, 4)), ((88, 140, 200), (1, 3, 5))],
                         ids=["green", "blue"])
def test_a_faded_seal_over_a_tickets_coloured_print_goes_to_staff_and_the_bare_ticket_does_not(band, seeds):
    """Faded red ink over a green or blue band only tints it (green to a dark olive, red still
    below green): the red-ink test cannot see it, the shift of the print's colour towards red
    can. Seen only that way it is in the review band as `faint`, never a pass."""
    from testing.builders.seal_pictures import ticket_over_print

    for seed in seeds:
        reading = _read(ticket_over_print(seed, band), "车票.png")
        assert 0.35 <= reading.confidence < 0.65 and not reading.present, (seed, reading.confidence)
        assert reading.reason == "faint" and REASONS[reading.reason], seed
        bare = _read(ticket_over_print(seed, band, stamped=False), "车票.png")
        assert bare.confidence < 0.35, (seed, bare.confidence)


def test_a_red_logo_in_a_docx_header_is_not_a_seal_but_the_same_stamp_in_the_body_is():
    from docx import Document
    from docx.shared import Cm

    stamp = seals.stamp_png("重庆市沙坪坝区总工会")
    document = Document(io.BytesIO(forms.bayu_form_docx(forms.FormValues(), stamped=False)))
    document.sections[0].header.paragraphs[0].add_run().add_picture(io.BytesIO(stamp), width=Cm(3))
    buffer = io.BytesIO()
    document.save(buffer)
    assert _read(buffer.getvalue(), "推荐表.docx").confidence < 0.35
    document.add_paragraph().add_run().add_picture(io.BytesIO(stamp), width=Cm(4))
    buffer = io.BytesIO()
    document.save(buffer)
    reading = _read(buffer.getvalue(), "推荐表.docx")
    assert reading.present and reading.where == "推荐表.docx 图1"


def test_a_red_round_logo_in_a_text_pdfs_running_header_is_not_a_seal():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(seals.stamp_png("重庆市建设工会")), x=10, y=4, w=16)  # a letterhead logo, top left
    pdf.set_font("helvetica", size=12)
    pdf.set_y(40)
    pdf.cell(0, 10, "Recommendation form")
    assert _read(bytes(pdf.output()), "推荐函.pdf").confidence < 0.35


def test_judge_page_says_colour_confidence_and_doubt_of_one_picture(pool):
    [(_, _, _, _, red)] = _read_case(pool, "seal:closeup", count=1)
    assert red[:3] == ("red", "present", "") and red[3] >= 0.65
    [(_, _, _, _, grey)] = _read_case(pool, "seal:photocopy_marks", count=1)
    assert grey[:3] == ("grey", "uncertain", "grey_copy")
    assert grey[4] == REASONS["grey_copy"] and "红色" in grey[4]
    blank = Image.new("RGB", (800, 1100), "white")
    ImageDraw.Draw(blank).text((100, 100), "2017", fill="black")
    nothing = judge_page(__import__("numpy").asarray(blank), "空白.png")
    assert (nothing.verdict, nothing.colour, nothing.confidence) == ("none", "", 0.0)


def test_confidence_is_not_all_or_nothing(pool):
    """Doubtful pictures land inside the review band, not at 0 or above the pass mark."""
    values = [row[1] for case in ("seal:photocopy_phone", "trap:blue_stamp") for row in _read_case(pool, case)]
    assert any(0.35 <= v < 0.65 for v in values), values
    assert all(v < 0.65 for v in values), values


def test_the_real_development_pictures_hold_as_found_and_re_saved():
    """../shared/seals-real (read at run time, never copied here): no trap or blue stamp passes,
    and the seals are found as bench/seal_eval.py counts them (one known miss: a faded oval half
    hidden by a ticket's green print, as found only in the review band; the black rectangular
    fee seal goes to staff, as grey copies do)."""
    from bench.seal_eval import found
    from bench.seal_sets import real_items, resaved

    items = real_items()
    if not items:
        pytest.skip("../shared/seals-real is not beside this checkout")
    for how in ("as found", "pdf"):
        readings = [(item, _read(resaved(item, how).data, resaved(item, how).filename)) for item in items]
        passed = [item.name for item, reading in readings if not item.has_seal and reading.confidence >= 0.65]
        assert passed == [], (how, passed)
        seals_found = [found(item.expect, reading.confidence) for item, reading in readings if item.has_seal]
        assert sum(seals_found) >= len(seals_found) - 1, (how, sum(seals_found), len(seals_found))


def _receipt_scan(stamped: bool, seed: int) -> bytes:
    """A receipt's lower part as a flatbed scan: the black fee seal pressed on its bottom rule, or,
    unstamped, its framed look-alikes (a boxed label, an empty 盖章 box, a two-cell table)."""
    import random

    from PIL import ImageDraw

    from testing.builders import seal_receipts
    from testing.builders.seal_pages import png_bytes, scan

    rng = random.Random(seed)
    page, rule_y = seal_receipts._receipt(rng)
    draw = ImageDraw.Draw(page)
    if stamped:
        seal_receipts.fee_seal(draw, rng, (420, rule_y - 30), "江阴市人民医院")
    else:
        seal_receipts._lookalikes(draw, rng, rule_y)
    return png_bytes(scan(page, rng))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_black_rectangular_fee_seal_goes_to_staff_as_a_grey_copy_and_framed_print_does_not(seed):
    """A hospital's 收费专用章 printed in black is a frame, not a ring: it is found and sent to
    staff (never a pass, CONTRACT §3); a boxed label, an empty seal box and a table's cells are not."""
    stamped = _read(_receipt_scan(True, seed), "收据.png")
    assert 0.35 <= stamped.confidence < 0.65 and not stamped.present, stamped.confidence
    assert stamped.reason == "grey_copy" and stamped.sightings[0].kind == "grey"
    unstamped = _read(_receipt_scan(False, seed), "收据.png")
    assert unstamped.confidence < 0.35, unstamped.confidence


def _receipt_photo(seed: int, rule_at: float) -> bytes:
    """A receipt photographed askew, its fee seal pressed on the table's bottom rule: the rule at
    `rule_at` of the seal's height from its top (1.0: along its bottom side)."""
    import random

    from PIL import ImageDraw

    from testing.builders import seal_receipts
    from testing.builders.seal_pictures import _phone, phone_jpeg

    rng = random.Random(seed)
    page, rule_y = seal_receipts._receipt(rng)
    width, height = 330.0, 110.0
    seal_receipts.fee_seal(ImageDraw.Draw(page), rng, (520, rule_y + (0.5 - rule_at) * height), "常州市武进区第一人民医院",
                           size=(width, height))
    return phone_jpeg(_phone(page, rng, 0.03), rng)


@pytest.mark.parametrize("rule_at", [0.5, 1.0])
@pytest.mark.parametrize("seed", [5, 6])
def test_a_fee_seal_pressed_on_a_rule_of_a_photographed_receipt_goes_to_staff(seed, rule_at):
    """The rule it was pressed on splits the seal in two when the photo turns it off level (its removal
    looked for level runs only), or is one with the seal's own bottom side (the seal's frame then
    went with the rule): either way the seal was not seen, and the receipt passed as unstamped."""
    reading = _read(_receipt_photo(seed, rule_at), "收据.jpg")
    assert 0.35 <= reading.confidence < 0.65 and not reading.present, reading.confidence
    assert reading.reason == "grey_copy"


def test_a_hole_found_with_the_rules_in_and_out_is_measured_once_and_an_inner_frame_stays_its_own():
    from parsers.seal_rect import _same

    outer = ((400.0, 300.0), (334.0, 114.0), 0.0)
    assert _same(outer, ((401.0, 299.0), (112.0, 335.0), 90.0))  # the same hole, found twice
    assert not _same(outer, ((400.0, 300.0), (314.0, 94.0), 0.0))  # a double-bordered stamp's inner frame


def _read_receipt(seed: int) -> tuple[str, float, bool, str]:
    picture = seals.receipt_picture(seed)
    reading = read_seal_here(picture.data, picture.filename, 100_000_000, 20)
    return picture.expect, reading.confidence, reading.present, reading.reason


def test_phone_photos_of_receipts_with_a_black_fee_seal(pool):
    """The generator's receipts, photographed askew in uneven light (seeds neither its tuning nor the
    bench uses): no fee seal passes, most go to staff as grey copies, no unstamped receipt does."""
    rows = list(pool.map(_read_receipt, range(82_000, 82_012)))
    stamped = [row for row in rows if row[0] == "grey"]
    assert not any(present for _, _, present, _ in rows)
    assert sum(0.35 <= confidence < 0.65 and reason == "grey_copy" for _, confidence, _, reason in stamped) >= 3
    assert all(confidence < 0.35 for expect, confidence, _, _ in rows if expect == "none")
