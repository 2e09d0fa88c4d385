"""parse_document: the reader table, the sandbox, and every way a file can be unreadable."""

import zipfile
from io import BytesIO

import pytest

from campaigns.limits import Limits
from ingest.sniff import sniff
from parsers import _guarded, parse_document, parse_documents
from parsers.docx import read_docx
from parsers.fields import extract_fields
from parsers.pdf import read_pdf
from parsers.types import DocumentUnreadable, FileData, ParsedDocument
from testing.builders import forms

BAYU = ("巴渝工匠", "推荐表")
LIMITS = Limits()


def parse(filename: str, data: bytes, limits: Limits = LIMITS, media_type: str = "") -> ParsedDocument:
    attachment = FileData(filename, data, media_type or sniff(data, filename))
    return parse_document(attachment, BAYU, limits)


def test_form_and_writeup_in_one_message():
    form = parse("附件1.docx", forms.bayu_form_docx())
    writeup = parse("附件2.docx", forms.writeup_docx(1400))
    assert (form.kind, form.form_score, form.unreadable) == ("form", 1.0, None)
    assert form.fields["name"] == "张三" and form.fields["channel"].startswith("☑组织推荐")
    assert (writeup.kind, writeup.fields, writeup.content.page_count) == ("writeup", {}, None)


def test_pdf_form_and_pdf_writeup():
    form = parse("推荐表.pdf", forms.form_pdf())
    assert (form.kind, form.fields["phone"], form.content.page_count) == ("form", "13812345678", 1)
    assert parse("事迹材料.pdf", forms.writeup_pdf(1000)).kind == "writeup"


def test_scanned_pdf_is_readable_with_no_text():
    scan = parse("张三推荐表.pdf", forms.scanned_pdf())
    assert scan.unreadable is None and scan.content.text.strip() == ""
    assert (scan.kind, scan.content.image_count) == ("form", 1)


def test_text_attachment_in_gb18030():
    text = "张三同志先进事迹材料\n" + forms.prose(500)
    parsed = parse("事迹.txt", text.encode("gb18030"))
    assert parsed.kind == "writeup" and parsed.content.text == text


@pytest.mark.parametrize(
    ("filename", "data", "reason", "kind"),
    [
        ("张三推荐表.docx", forms.encrypted_docx(), "encrypted", "form"),
        ("附件1.docx", forms.truncated(forms.bayu_form_docx()), "corrupt", "other"),
        ("推荐表.docx", b"", "empty", "form"),
        ("事迹材料.pdf", b"", "empty", "writeup"),
        ("推荐表.pdf", b"%PDF-1.4\n1 0 obj garbage", "corrupt", "form"),
        ("推荐表.pdf", forms.encrypted_pdf(user_password="secret"), "encrypted", "form"),
    ],
)
def test_unreadable_documents(filename, data, reason, kind):
    parsed = parse(filename, data)
    assert parsed.content is None and parsed.fields == {}
    assert (parsed.unreadable.reason, parsed.kind) == (reason, kind)


def test_owner_password_only_pdf_is_read():
    parsed = parse("推荐表.pdf", forms.encrypted_pdf(user_password=""))
    assert parsed.unreadable is None and parsed.fields["name"] == "张三"


def test_password_docx_from_the_corpus_even_when_sniffed_as_word():
    data = open("/work/shared/corpora/docx/poi__bug53475-password-is-pass.docx", "rb").read()
    parsed = parse("推荐表.docx", data, media_type="application/msword")
    assert parsed.unreadable.reason == "encrypted"


def test_legacy_word_needs_the_converter(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no LibreOffice on this machine
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    parsed = parse("推荐表.doc", ole2, media_type="application/msword")
    assert (parsed.unreadable.reason, parsed.kind) == ("legacy_no_converter", "form")


@pytest.mark.parametrize(
    ("filename", "media_type", "kind"),
    [
        ("汇总表.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "summary"),
        ("汇总表.xls", "application/vnd.ms-excel", "summary"),
        ("推荐表.jpg", "image/jpeg", "other"),
        ("video.mp4", "video/mp4", "other"),
        ("材料.zip", "application/zip", "other"),
    ],
)
def test_what_is_not_a_document_here(filename, media_type, kind):
    parsed = parse(filename, b"\x00" * 100, media_type=media_type)
    assert (parsed.kind, parsed.content, parsed.unreadable) == (kind, None, None)


def test_time_limit():
    parsed = parse("推荐表.docx", forms.bayu_form_docx(), Limits(file_parse_seconds=0.001))
    assert parsed.unreadable.reason == "timeout"


def test_memory_limit_on_a_docx_that_inflates():
    """24 MB of text packed into a few hundred kB: the reader runs out of its address space."""
    bomb = forms.inflating_docx(8_000)
    assert len(bomb) < 1_000_000
    # a forked reader may map this much on top of what it inherits (core/children.py)
    parsed = parse("推荐表.docx", bomb, Limits(file_parse_memory_bytes=10_000_000))
    assert parsed.unreadable.reason == "memory"
    ample = parse("推荐表.docx", bomb, Limits(file_parse_memory_bytes=2_000_000_000))
    assert ample.unreadable is None and len(ample.content.blocks) == 8_000


def test_a_messages_documents_are_each_read_under_their_own_limits():
    """One child reads them all; the bomb among them costs its own reading, not its neighbours'."""
    files = [FileData(name, data, sniff(data, name)) for name, data in (
        ("推荐表.docx", forms.bayu_form_docx()), ("附件.docx", forms.inflating_docx(8_000)),
        ("事迹材料.pdf", forms.writeup_pdf(900)),
        ("说明.txt", "补充说明".encode()), ("空.docx", b""))]
    parsed = parse_documents(files, BAYU, Limits(file_parse_memory_bytes=60_000_000))
    assert parsed[0].kind == "form" and parsed[0].fields["name"] == "张三"
    assert parsed[1].unreadable.reason == "memory"
    assert parsed[2].unreadable is None and parsed[2].content.text.strip()
    assert parsed[3].unreadable is None and "补充说明" in parsed[3].content.text
    assert parsed[4].unreadable.reason == "empty"


def test_library_errors_are_corrupt_but_our_own_bugs_are_not_hidden():
    with pytest.raises(DocumentUnreadable) as raised:
        _guarded(read_pdf, (b"%PDF-1.4 not really", 5))
    assert raised.value.reason == "corrupt"
    with pytest.raises(DocumentUnreadable):
        _guarded(read_docx, (b"PK\x03\x04 truncated",))
    with pytest.raises(AttributeError):  # a bug in parsers/ propagates as itself
        _guarded(extract_fields, (None,))


def test_unreadable_survives_the_child_process():
    import pickle

    copy = pickle.loads(pickle.dumps(DocumentUnreadable("encrypted", "needs a password")))
    assert (copy.reason, copy.explanation) == ("encrypted", "needs a password")


def test_docx_inside_a_zip_named_docx_without_word_part_is_corrupt():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    parsed = parse("推荐表.docx", buffer.getvalue(), media_type="application/zip")
    assert parsed.unreadable.reason == "corrupt"
