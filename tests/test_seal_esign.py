"""Electronic seals: PDF signature fields listed and checked (pyHanko), SM2 seals present but not verified."""

from __future__ import annotations

from pathlib import Path

from parsers.esign import pdf_signatures
from parsers.seal import read_seal_here
from testing.builders import forms, seals

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "pdf"
UNIT = "重庆市沙坪坝区总工会"


def test_a_signed_pdf_is_an_electronic_seal_that_checks(tmp_path):
    signed = seals.signed_pdf(forms.form_pdf(stamped=False), tmp_path)
    (signature,) = pdf_signatures(signed)
    assert (signature.kind, signature.verified, signature.page) == ("verified", True, 0)
    assert UNIT in signature.signer
    reading = read_seal_here(signed, "推荐表.pdf", 100_000_000, 20)
    assert reading.present and reading.electronic and reading.verified
    assert reading.where == "推荐表.pdf p1 电子签章 电子签章"


def test_a_stamp_in_the_signatures_appearance_is_seen_on_the_page_and_reported_as_electronic(tmp_path):
    signed = seals.signed_pdf(forms.form_pdf(stamped=False), tmp_path, stamp=seals.stamp_png(UNIT))
    reading = read_seal_here(signed, "推荐表.pdf", 100_000_000, 20)
    on_page = [s for s in reading.sightings if not s.electronic]
    assert on_page and on_page[0].confidence >= 0.65  # the stamp picture, drawn by the page render
    assert reading.present and reading.electronic


def test_an_sm2_seal_is_present_but_not_verified(tmp_path):
    sm2 = seals.sm2_signed_pdf(forms.form_pdf(stamped=False), tmp_path)
    (signature,) = pdf_signatures(sm2)
    assert (signature.kind, signature.verified) == ("sm2", None)
    reading = read_seal_here(sm2, "推荐表.pdf", 100_000_000, 20)
    assert reading.present and reading.electronic and reading.verified is None


def test_a_pdf_changed_after_signing_goes_to_staff(tmp_path):
    broken = seals.tampered(seals.signed_pdf(forms.form_pdf(stamped=False), tmp_path))
    (signature,) = pdf_signatures(broken)
    assert (signature.kind, signature.verified) == ("broken", False)
    reading = read_seal_here(broken, "推荐表.pdf", 100_000_000, 20)
    assert 0.35 <= reading.confidence < 0.65  # the profile's band: SEAL_UNCERTAIN


def test_no_signature_no_electronic_seal():
    assert pdf_signatures(forms.form_pdf(stamped=False)) == []


def test_a_real_signature_from_the_corpus_is_listed_without_the_network():
    data = (CORPORA / "paperless__signed.pdf").read_bytes()  # encrypted with an empty user password
    (signature,) = pdf_signatures(data)
    assert signature.subfilter == "ETSI.CAdES.detached" and signature.kind == "verified"
