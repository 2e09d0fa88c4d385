"""File names as Chinese mail clients really encode them come out as the sender typed them."""

import pytest

from ingest import names
from ingest.mime import parse_message
from testing.builders import eml

FORM = "张三推荐表.docx"
LONG = "附件1-巴渝工匠推荐表（李四）.docx"
WINDOWS_PATH = "..\\..\\" + FORM
FOLDED = "\r\n\t"


def _only_name(params: str | bytes, **kwargs) -> str:
    raw = eml.message(eml.multipart("mixed", eml.text("请查收"), eml.attachment(eml.docx(), params, **kwargs)))
    message = parse_message(raw)
    assert len(message.attachments) == 1, message.attachments
    return message.attachments[0].filename


STYLES = {
    "Foxmail: GBK B word in quoted name": (f'name="{eml.b_words(FORM, "GBK")}"', FORM),
    "QQ Mail: gb18030": (f'filename="{eml.b_words(LONG, "gb18030")}"', LONG),
    "Outlook: GB2312 split mid-character, folded": (
        f'name="{eml.b_words(FORM, "gb2312", split_bytes=5, separator=FOLDED)}"', FORM),
    "163: UTF-8 words back to back, split mid-character": (
        f'filename="{eml.b_words(LONG, "UTF-8", split_bytes=7, separator="")}"', LONG),
    "UTF-8 Q word": (f'filename="{eml.q_word(FORM)}"', FORM),
    "base64 cut mid-quantum across words": (f'filename="{eml.b_words_unpadded(LONG, "GBK", 10)}"', LONG),
    "Big5 from Taiwan": (f'filename="{eml.b_words("附件1-巴渝工匠推薦表（李四）.docx", "big5")}"',
                         "附件1-巴渝工匠推薦表（李四）.docx"),
    "RFC 2231 GBK": (eml.rfc2231("filename", FORM, "gbk"), FORM),
    "RFC 2231 UTF-8 in three continuations": (eml.rfc2231("filename", LONG, "utf-8", pieces=3), LONG),
    "RFC 2231 GB18030 in two continuations": (eml.rfc2231("filename", LONG, "gb18030", pieces=2), LONG),
    "raw 8-bit GBK": (b'filename="' + FORM.encode("gbk") + b'"', FORM),
    "raw 8-bit UTF-8": (b'filename="' + LONG.encode("utf-8") + b'"', LONG),
    "encoded word glued to plain text": (f'filename="{eml.b_words("测试费", "utf-8")}1009.xls"', "测试费1009.xls"),
    "Windows path in the name": (f'filename="{eml.b_words(WINDOWS_PATH)}"', FORM),
    "Unix traversal in the name": ('filename="1234/../../report.pdf"', "report.pdf"),
}


@pytest.mark.parametrize("style", STYLES)
def test_filename_styles_decode_to_what_the_sender_typed(style):
    params, expected = STYLES[style]
    assert _only_name(params) == expected


def test_rfc2231_wins_over_the_plain_fallback_name():
    params = f'filename="ATT00001.docx"; {eml.rfc2231("filename", FORM)}'
    assert _only_name(params) == FORM


def test_name_only_in_content_type_with_no_disposition_is_still_a_file():
    form = eml.attachment(eml.docx(), f'name="{eml.b_words(FORM)}"', disposition=None)
    raw = eml.message(eml.multipart("mixed", eml.text("见附件"), form))
    (attachment,) = parse_message(raw).attachments
    assert attachment.filename == FORM
    assert attachment.inline is True


def test_control_and_bidi_characters_are_removed_and_names_are_nfc():
    # U+202E would show "张三gpj.exe" as "张三exe.jpg"; e + combining acute must match é typed directly
    assert names.clean("张三\u202egpj.exe\x07") == "张三gpj.exe"
    assert names.clean("Re\u0301sume\u0301.pdf") == "Résumé.pdf"


def test_base_name_keeps_only_the_last_component():
    assert names.base_name("..\\..\\x.doc") == "x.doc"
    assert names.base_name("/tmp/whoa") == "whoa"
    assert names.base_name("../..") == ""


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("../../etc/passwd", "path_traversal"),
        ("材料/../../张三.docx", "path_traversal"),
        ("..\\..\\Windows\\win.ini", "path_traversal"),
        ("/etc/passwd", "absolute_path"),
        ("C:\\Users\\x.doc", "absolute_path"),
        ("c:x.doc", "absolute_path"),
        ("\\\\server\\share\\x.doc", "absolute_path"),
        ("沙坪坝区推荐材料/张三/推荐表.docx", None),
        ("a..b/c..d.docx", None),
    ],
)
def test_entry_problems(entry, problem):
    assert names.entry_problem(entry) == problem
