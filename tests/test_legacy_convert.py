"""Old Word (.doc) and WPS (.wps) forms: converted by LibreOffice and read, or sent to staff without it."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest

import campaigns
from campaigns.limits import DEFAULT_LIMITS
from parsers import parse_document
from parsers.legacy import convert_to_docx
from parsers.types import DocumentUnreadable, FileData
from service.judge import judge
from service.verdict_json import verdict_json
from testing import programs
from testing.builders import forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number

VALUES = FormValues(name="李四", id_number=id_number(birth="19750101", sequence="456"), phone="023-65311292")
KEYWORDS = ("巴渝工匠", "推荐表")




@pytest.fixture(scope="module")
def legacy_doc(tmp_path_factory) -> bytes:
    """The filled form saved as Word 97 by LibreOffice itself, as WPS and old Word users send it."""
    folder = tmp_path_factory.mktemp("legacy")
    source = folder / "推荐表.docx"
    source.write_bytes(forms.bayu_form_docx(VALUES))
    done = subprocess.run([programs.soffice(), f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                           "--convert-to", "doc:MS Word 97", "--outdir", str(folder), str(source)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    data = (folder / "推荐表.doc").read_bytes()
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    return data


def _attachment(filename: str, data: bytes, media_type: str) -> FileData:
    return FileData(path=filename, data=data, media_type=media_type)


@pytest.mark.parametrize(("filename", "media_type"), [("推荐表.doc", "application/msword"),
                                                      ("推荐表.wps", "application/vnd.ms-works")])
def test_a_doc_or_wps_made_from_the_filled_form_reads_the_same_fields(legacy_doc, filename, media_type):
    original = parse_document(_attachment("推荐表.docx", forms.bayu_form_docx(VALUES), forms_docx_type()),
                              KEYWORDS, DEFAULT_LIMITS)
    converted = parse_document(_attachment(filename, legacy_doc, media_type), KEYWORDS, DEFAULT_LIMITS)
    assert converted.unreadable is None and converted.kind == "form"
    assert converted.fields == original.fields


def forms_docx_type() -> str:
    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_doc_nomination_is_accepted_through_the_pipeline_with_its_seal(legacy_doc):
    profile = campaigns.load("chongqing-bayu-2017")
    mail = nomination_mail([("李四推荐表.doc", legacy_doc), ("李四事迹材料.docx", forms.writeup_docx(900)),
                            *[(f"李四照片{i}.jpg", photo_jpeg(i)) for i in range(4)]])
    result = verdict_json(judge(mail, profile, received_at=datetime(2017, 4, 10, 10, tzinfo=SHANGHAI)), profile.id)
    assert result["status"] == "accepted", result
    (nominee,) = result["nominees"]
    assert nominee["fields"]["name"] == "李四"
    assert nominee["seal"]["present"]  # the stamp picture survived the round trip through Word 97


def _unseen(legacy_doc: bytes) -> bytes:
    """The same document with a free sector appended: bytes not converted before (no cached result)."""
    return legacy_doc + b"\0" * 512


def test_without_libreoffice_the_form_goes_to_staff(legacy_doc, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    legacy_doc = _unseen(legacy_doc)
    with pytest.raises(DocumentUnreadable) as raised:
        convert_to_docx(legacy_doc, 60)
    assert raised.value.reason == "legacy_no_converter" and "libreoffice" in raised.value.explanation.lower()
    profile = campaigns.load("chongqing-bayu-2017")
    mail = nomination_mail([("李四推荐表.doc", legacy_doc), *[(f"李四照片{i}.jpg", photo_jpeg(i)) for i in range(4)]])
    result = verdict_json(judge(mail, profile, received_at=datetime(2017, 4, 10, 10, tzinfo=SHANGHAI)), profile.id)
    assert result["status"] == "needs_review"
    (finding,) = result["nominees"][0]["findings"]
    assert (finding["code"], finding["severity"], finding["detail"]["reason"]) == (
        "FORM_UNREADABLE", "review", "legacy_no_converter")


def test_a_conversion_that_takes_too_long_is_stopped_and_goes_to_staff(legacy_doc):
    programs.soffice()
    with pytest.raises(DocumentUnreadable) as raised:
        convert_to_docx(_unseen(_unseen(legacy_doc)), 0.05)
    assert raised.value.reason == "legacy_no_converter" and "stopped" in raised.value.explanation


def test_a_file_libreoffice_cannot_open_goes_to_staff_too():
    programs.soffice()
    with pytest.raises(DocumentUnreadable) as raised:
        convert_to_docx(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000, 60)
    assert raised.value.reason == "legacy_no_converter"


def test_nothing_is_left_behind_in_the_temporary_folder(legacy_doc, tmp_path, monkeypatch):
    programs.soffice()
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # let tempfile read TMPDIR again
    convert_to_docx(_unseen(_unseen(_unseen(legacy_doc))), 60)
    assert list(Path(tmp_path).iterdir()) == []
