"""A picture of the stamped form is found as the form's stamped page by what it holds, not by its name.

Units photograph the printed, stamped form with a phone and send it as IMG_2034.jpg, alone or
beside the .docx they typed. The judge must read it as the form (OCR) and count its seal.
"""

from __future__ import annotations

import campaigns
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import forms, seals
from testing.builders.forms import FormValues
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.idcards import id_number

BAYU = campaigns.load("chongqing-bayu-2017")
WANG = FormValues(name="王五", id_number=id_number(sequence="555"), channel="组织推荐")
WRITEUP = ("王五事迹材料.docx", forms.writeup_docx(800))
PHOTOS = [(f"王五工作照{i}.jpg", photo_jpeg(i, size=(96, 72))) for i in range(4)]


def _judged(files) -> dict:
    return verdict_json(judge(nomination_mail(files), BAYU), BAYU.id, "test.eml")


def _stamped_photo() -> bytes:
    photo, _, _ = seals.ocr_scan(3, "photo_jpg", stamped=True, values=WANG)
    return photo


def test_a_phone_photo_of_the_stamped_form_sent_alone_is_the_form_with_its_seal():
    result = _judged([("IMG_2034.jpg", _stamped_photo()), WRITEUP, *PHOTOS])
    (nominee,) = result["nominees"]
    assert result["status"] == "accepted", result
    assert nominee["fields"]["name"] == "王五" and nominee["seal"]["present"]
    assert nominee["seal"]["where"] == "IMG_2034.jpg"


def test_a_phone_photo_of_the_stamped_form_beside_the_typed_docx_carries_the_seal():
    files = [("王五推荐表.docx", forms.bayu_form_docx(WANG, stamped=False)), ("IMG_2034.jpg", _stamped_photo()),
             WRITEUP, *PHOTOS]
    (nominee,) = _judged(files)["nominees"]
    assert nominee["status"] == "accepted" and nominee["seal"]["where"] == "IMG_2034.jpg"
    roles = {a["filename"]: a["role"] for a in nominee["attachments"]}
    assert roles["IMG_2034.jpg"] == "form_scan" and roles["王五工作照0.jpg"] == "photo"


def test_without_a_stamp_anywhere_the_unit_nomination_is_still_seal_missing():
    files = [("王五推荐表.docx", forms.bayu_form_docx(WANG, stamped=False)), WRITEUP, *PHOTOS]
    (nominee,) = _judged(files)["nominees"]
    assert [f["code"] for f in nominee["findings"]] == ["SEAL_MISSING"]


def test_each_file_is_read_for_its_seal_once_though_the_second_look_judges_the_seal_again(monkeypatch):
    """The docx, then the photos the second look tries, then the docx and the stamped photo again as the
    form's material: each file read once."""
    import parsers.seal

    read = []
    real = parsers.seal.read_seals
    monkeypatch.setattr(parsers.seal, "read_seals",
                        lambda files, limits: read.extend(path for _, path in files) or real(files, limits))
    docx = ("推荐表.docx", forms.bayu_form_docx(WANG, stamped=False))
    result = _judged([docx, ("IMG_2034.jpg", _stamped_photo()), WRITEUP, *PHOTOS])
    assert result["nominees"][0]["seal"]["present"] is True
    assert {"IMG_2034.jpg", "推荐表.docx"} <= set(read) and len(read) == len(set(read)), read


def test_the_second_look_reads_the_photos_seals_in_one_child(monkeypatch):
    import parsers.seal

    batches = []
    real = parsers.seal.read_seals
    monkeypatch.setattr(parsers.seal, "read_seals",
                        lambda files, limits: batches.append([path for _, path in files]) or real(files, limits))
    docx = ("推荐表.docx", forms.bayu_form_docx(WANG, stamped=False))
    result = _judged([docx, ("IMG_2034.jpg", _stamped_photo()), WRITEUP, *PHOTOS])
    assert result["nominees"][0]["seal"]["present"] is True
    photos = {"IMG_2034.jpg", *(name for name, _ in PHOTOS)}
    assert any(photos <= set(batch) for batch in batches), batches
