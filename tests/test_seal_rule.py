"""The seal rule through the real pipeline: a nomination e-mail in, SEAL_MISSING / SEAL_UNCERTAIN / the seal out."""

from __future__ import annotations

import io
import random
from datetime import datetime

import pytest
from PIL import Image

import campaigns
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import forms, seals
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number

RECEIVED = datetime(2017, 4, 10, 10, 0, tzinfo=SHANGHAI)
ZHANG = FormValues(id_number=id_number())
PHOTOS = [(f"张三工作照{i}.jpg", photo_jpeg(i)) for i in range(1, 5)]
WRITEUP = ("张三事迹材料.docx", forms.writeup_docx(1200))


def verdict(files: list[tuple[str, bytes]], campaign: str = "chongqing-bayu-2017", profile=None) -> dict:
    profile = profile or campaigns.load(campaign)
    return verdict_json(judge(nomination_mail(files), profile, received_at=RECEIVED), profile.id)


def findings(result: dict) -> list[tuple[str, str]]:
    return [(f["code"], f["severity"]) for n in result["nominees"] for f in n["findings"]]


def test_an_organization_nomination_without_a_seal_is_rejected_seal_missing():
    result = verdict([("附件1.docx", forms.bayu_form_docx(ZHANG, stamped=False)), WRITEUP, *PHOTOS])
    assert result["status"] == "rejected"
    assert findings(result) == [("SEAL_MISSING", "reject")]
    (finding,) = result["nominees"][0]["findings"]
    assert finding["detail"] == {"filename": "附件1.docx"} and "公章" in finding["message"]
    assert result["nominees"][0]["seal"] == {"present": False, "confidence": 0.0, "where": "", "electronic": False}


def test_with_the_stamp_pasted_into_the_form_it_is_accepted_and_the_seal_reported():
    result = verdict([("附件1.docx", forms.bayu_form_docx(ZHANG)), WRITEUP, *PHOTOS])
    assert result["status"] == "accepted", findings(result)
    assert result["nominees"][0]["seal"] == {"present": True, "confidence": 1.0, "where": "附件1.docx 图1",
                                             "electronic": False}


def test_an_editable_docx_beside_a_stamped_scan_is_one_nominee_with_the_seal_on_the_scan():
    page, layout = seals.form_page(ZHANG, random.Random(1))
    rng = random.Random(2)
    seals.stamp_page(page, layout, ZHANG.recommending_unit, seals.seal_style(rng, "round"), rng)
    files = [("附件1.docx", forms.bayu_form_docx(ZHANG, stamped=False)), ("附件1.pdf", seals.scan_pdf(page, rng)),
             WRITEUP, *PHOTOS]
    result = verdict(files)
    assert result["status"] == "accepted", findings(result)
    (nominee,) = result["nominees"]
    assert nominee["seal"]["present"] and nominee["seal"]["where"] == "附件1.pdf p1"


def test_a_signed_pdf_form_is_an_electronic_seal(tmp_path):
    signed = seals.signed_pdf(forms.form_pdf(ZHANG, stamped=False), tmp_path)
    result = verdict([("推荐表.pdf", signed), WRITEUP, *PHOTOS])
    assert result["status"] == "accepted", findings(result)
    seal = result["nominees"][0]["seal"]
    assert seal["present"] and seal["electronic"] and seal["where"].startswith("推荐表.pdf p1 电子签章")


def test_red_traps_on_the_form_and_in_the_photos_are_no_seal():
    rng = random.Random(5)
    portrait = seals.jpeg_bytes(seals.id_photo(rng, "red", scale=8))
    form = seals.form_docx(ZHANG, [("photo", portrait, 2.5)])  # the red-background ID photo in 照片
    helmets = [(f"张三工作照{i}.jpg", seals.jpeg_bytes(seals.helmet_photo(random.Random(i)))) for i in range(4)]
    result = verdict([("附件1.docx", form), WRITEUP, *helmets])
    assert findings(result) == [("SEAL_MISSING", "reject")]


def test_a_grey_photocopy_seal_goes_to_staff_with_the_reason():
    copy = seals.eval_page(seals.case_seed("seal:photocopy/scan_pdf"))
    files = [("附件1.docx", forms.bayu_form_docx(ZHANG, stamped=False)), ("附件1.pdf", copy.data), WRITEUP, *PHOTOS]
    result = verdict(files)
    assert result["status"] == "needs_review"
    assert findings(result) == [("SEAL_UNCERTAIN", "review")]
    detail = result["nominees"][0]["findings"][0]["detail"]
    assert detail["filename"] == "附件1.pdf p1" and detail["reason"] == "grey_copy" and "红色" in detail["why"]
    assert result["nominees"][0]["seal"]["present"] is False


def test_a_doubtful_seal_never_passes_even_where_the_band_is_low():
    """A profile whose band ends below the detector's doubt (0.6) still sends a grey copy to staff."""
    base = campaigns.load("chongqing-bayu-2017")
    lax = base.model_copy(update={"seal": base.seal.model_copy(update={"uncertain_low": 0.2, "uncertain_high": 0.3})})
    copy = seals.eval_page(seals.case_seed("seal:photocopy/scan_pdf"))
    files = [("附件1.docx", forms.bayu_form_docx(ZHANG, stamped=False)), ("附件1.pdf", copy.data), WRITEUP, *PHOTOS]
    result = verdict(files, profile=lax)
    assert findings(result) == [("SEAL_UNCERTAIN", "review")]


def test_a_blue_stamp_on_the_form_goes_to_staff_not_through():
    picture = next(seals.real_picture(seed) for seed in range(70_000, 70_100)
                   if seals.REAL_CASES[seed % len(seals.REAL_CASES)][0] == "blue_stamp")
    scan = Image.open(io.BytesIO(picture.data))
    buffer = io.BytesIO()
    scan.save(buffer, "PDF", resolution=150)  # the photo sent as an image-only PDF beside the .docx
    files = [("附件1.docx", forms.bayu_form_docx(ZHANG, stamped=False)), ("附件1.pdf", buffer.getvalue()), WRITEUP,
             *PHOTOS]
    result = verdict(files)
    assert findings(result) == [("SEAL_UNCERTAIN", "review")]
    assert result["nominees"][0]["findings"][0]["detail"]["reason"] == "blue_stamp"
    assert result["nominees"][0]["seal"]["present"] is False


@pytest.mark.parametrize("stamped", [False, True])
def test_a_self_nomination_needs_no_seal_and_is_not_looked_at_for_one(stamped):
    """CONTRACT §1/§4: Chongqing judges the seal of unit nominations only; `seal` is null where
    it is not judged (and the detector's time is not spent)."""
    values = ZHANG.but(channel="个人自荐")
    result = verdict([("附件1.docx", forms.bayu_form_docx(values, stamped=stamped)), WRITEUP, *PHOTOS])
    assert result["status"] == "accepted", findings(result)
    assert result["nominees"][0]["seal"] is None


def test_wuhan_records_a_seal_when_seen_and_asks_for_none():
    values = FormValues(id_number=id_number(), channel="基层单位推荐")
    plain = verdict([("申报表.docx", forms.wuhan_form_docx(values))], campaign="wuhan-dacheng-2018")
    assert plain["status"] == "accepted", findings(plain)
    assert plain["nominees"][0]["seal"] is None
    stamped = seals.form_docx(values, [("opinion", seals.stamp_png(values.recommending_unit), 4.0)])
    # the 巴渝 layout with a Wuhan channel is still a form to Wuhan's reader: what matters is the seal
    seen = verdict([("申报表.docx", stamped)], campaign="wuhan-dacheng-2018")
    assert seen["nominees"][0]["seal"]["present"] is True
    assert not [f for f in findings(seen) if f[0].startswith("SEAL")]
