"""Hostile MIME through the whole judge: it must never raise, hang, hide an error of ours or write a file.

The strategies build mails the way broken and malicious senders do: deep and odd nesting,
forwarded mails inside forwarded mails, boundaries missing, repeated or never used,
bodies cut short, transfer encodings that lie, headers with raw 8-bit bytes, NUL bytes and
lines of tens of kilobytes, encoded words and RFC 2231 names in every charset (and in
none that exists). Each generated mail goes through `service.judge.judge`, the function
behind `intake check`, under `testing.hostile.Guard`. Run with -s for the tally per strategy.

Examples: CI (CI=true) runs a fixed, derandomized set; HOSTILE_EXAMPLES=N runs N per test.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import ingest.archives
import ingest.mime
from testing.builders import archives, eml
from testing.hostile import AUDIT, Guard, Hung, Tally, Trouble, hostile_settings

HOSTILE = hostile_settings("hostile-mime")
TALLY = Tally()


@pytest.fixture(scope="module", autouse=True)
def _print_tally():
    yield
    print("\n" + "\n".join(TALLY.lines("hostile MIME")))


@pytest.fixture
def guard(tmp_path, monkeypatch):
    return Guard(tmp_path, monkeypatch, TALLY)


# --- pieces of text ----------------------------------------------------------------------

CHARSETS = ["utf-8", "gbk", "gb2312", "gb18030", "big5", "x-unknown-cs", "utf-7", "punycode", "idna",
            "iso-2022-jp", "utf-16", "", "gbk*zh-cn", "\"gbk\"", "ascii"]
CJK = st.sampled_from(["推荐表", "张三", "巴渝工匠", "事迹材料", "工作照", "沙坪坝区总工会", "鐵匠", "𠀀字", "ｆｕｌｌ"])
NAMEISH = st.lists(st.one_of(CJK, st.sampled_from(["a", " ", "-", ".", "..", "/", "\\", "\x00", "\r\n", "\t", ";", "\"",
                                                   "=?", "?=", "%", "*", "'", "（", "）", "\u202e", "C:"])),
                   min_size=0, max_size=6).map("".join)
EXTENSION = st.sampled_from([".docx", ".doc", ".pdf", ".jpg", ".zip", ".7z", ".rar", ".mp4", ".txt", "", ".推荐表"])


def _encodable(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset.strip('"').split("*")[0] or "utf-8", "replace")
    except (LookupError, UnicodeError):
        return text.encode("utf-8", "surrogatepass")


@st.composite
def encoded_word(draw) -> str:
    """An RFC 2047 word, well-formed or not: any charset, B or Q, split mid-character, bad base64."""
    text = draw(NAMEISH)
    charset = draw(st.sampled_from(CHARSETS))
    data = _encodable(text, charset)
    kind = draw(st.sampled_from(["B", "Q", "b", "q", "X"]))
    if kind in "Bb":
        payload = base64.b64encode(data).decode()
        payload = draw(st.sampled_from([payload, payload.rstrip("="), payload[:-1], payload + "!!", payload.replace("A", "?")]))
    else:
        payload = "".join(chr(b) if 33 < b < 127 and b not in b"=?_" else f"={b:02X}" for b in data)
        payload = draw(st.sampled_from([payload, payload + "=", payload + "=Z", payload.replace("=", "= ")]))
    if draw(st.booleans()) and len(payload) > 4:  # cut into several words, mid-quantum
        cut = draw(st.integers(1, len(payload) - 1))
        return f"=?{charset}?{kind}?{payload[:cut]}?= =?{charset}?{kind}?{payload[cut:]}?="
    return f"=?{charset}?{kind}?{payload}?="


@st.composite
def header_value(draw) -> bytes:
    pieces = draw(st.lists(st.one_of(
        NAMEISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
        CJK.map(lambda t: t.encode("gbk", "replace")),  # raw 8-bit GBK
        CJK.map(lambda t: t.encode("big5", "replace")),
        encoded_word().map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=12),
        st.sampled_from([b"\x00", b"\r\n\t", b"\r\n", b"\n", b"\xff\xfe", b"<a@b>", b"\"", b"(", b")"]),
    ), max_size=6))
    value = b" ".join(pieces)
    if draw(st.integers(0, 9)) == 0:  # one very long unfolded line
        value += draw(st.sampled_from([b"x", "长".encode("gbk"), b"=?gbk?B?1cXI/Q==?= "])) * draw(st.integers(2000, 40000))
    return value


@st.composite
def rfc2231_params(draw, key: str) -> str:
    """`key*…` parameters, continuations complete or broken: gaps, no *0, bad %XX, mixed charsets."""
    text = draw(NAMEISH) + draw(EXTENSION)
    charset = draw(st.sampled_from(CHARSETS))
    quoted = urllib.parse.quote(_encodable(text, charset), safe="")
    pieces = draw(st.integers(1, 4))
    size = max(1, -(-len(quoted) // pieces))
    chunks = [quoted[i:i + size] for i in range(0, len(quoted), size)] or [""]
    numbers = list(range(len(chunks)))
    damage = draw(st.sampled_from(["none", "gap", "no-zero", "shuffle", "bad-percent", "no-charset", "dup", "huge-index"]))
    if damage == "gap" and len(numbers) > 1:
        numbers[-1] += 3
    elif damage == "no-zero":
        numbers = [n + 1 for n in numbers]
    elif damage == "shuffle":
        numbers = numbers[::-1]
    elif damage == "bad-percent":
        chunks[0] = chunks[0] + "%G%"
    elif damage == "dup":
        numbers = [0] * len(numbers)
    elif damage == "huge-index":
        numbers[-1] = 10 ** 12
    lead = f"{charset}''" if damage != "no-charset" else ""
    if len(chunks) == 1 and draw(st.booleans()):
        return f"{key}*={lead}{chunks[0]}"
    parts = [f"{key}*{numbers[0]}*={lead}{chunks[0]}"]
    parts += [f"{key}*{n}*={c}" if draw(st.booleans()) else f'{key}*{n}="{c}"' for n, c in zip(numbers[1:], chunks[1:])]
    return ";\r\n\t".join(parts)


@st.composite
def file_name_params(draw, key: str) -> bytes:
    name = draw(NAMEISH) + draw(EXTENSION)
    style = draw(st.sampled_from(["plain", "quoted-2047", "2231", "raw-gbk", "raw-utf8", "both", "none", "empty", "long"]))
    if style == "plain":
        return f'{key}="{name}"'.encode("utf-8", "surrogatepass")
    if style == "quoted-2047":
        return f'{key}="{draw(encoded_word())}"'.encode("utf-8", "surrogatepass")
    if style == "2231":
        return draw(rfc2231_params(key)).encode("utf-8", "surrogatepass")
    if style == "raw-gbk":
        return f'{key}="'.encode() + _encodable(name, "gbk") + b'"'
    if style == "raw-utf8":
        return f"{key}=".encode() + name.encode("utf-8", "surrogatepass")
    if style == "both":
        return f'{key}="{draw(encoded_word())}";\r\n\t{draw(rfc2231_params(key))}'.encode("utf-8", "surrogatepass")
    if style == "empty":
        return f'{key}=""'.encode()
    if style == "long":
        return f'{key}="{"附件" * draw(st.integers(200, 3000))}.docx"'.encode()
    return b""


# --- bodies --------------------------------------------------------------------------------

PAYLOADS = {
    "docx": eml.docx(),
    "jpeg": eml.jpeg(),
    "png": eml.png(),
    "zip": archives.zip_bytes([("张三/张三推荐表.docx", eml.docx()), ("张三/工作照1.jpg", eml.jpeg())], name_encoding="gbk"),
    "mp4": eml.iso_bmff(b"isom", b"isom", b"mp41") + bytes(200),
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "ole2": eml.ole2("WordDocument"),
    "text": "巴渝工匠推荐表 姓名：张三".encode("gbk"),
    "empty": b"",
}
ENCODINGS = ["base64", "quoted-printable", "7bit", "8bit", "binary", "x-bogus", "base64;", " BASE64 ", "uuencode",
             "quoted-printable; x=1", ""]


@st.composite
def encoded_body(draw, data: bytes) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body): encoded as said, encoded otherwise, or broken."""
    cte = draw(st.sampled_from(ENCODINGS))
    base = cte.strip().split(";")[0].lower()
    if base == "base64":
        body = base64.encodebytes(data)
        body = draw(st.sampled_from([body, body.replace(b"\n", b"\r\n"), body[:-3], body + b"=====", b"!" + body,
                                     body.replace(b"A", b"*"), body.rstrip(b"=\n") + b"\n"]))
    elif base == "quoted-printable":
        body = binascii.b2a_qp(data)
        body = draw(st.sampled_from([body, body + b"=", body + b"=ZZ\r\n", body.replace(b"=", b"=\r\n"), body + b"=0"]))
    elif base == "uuencode":
        lines = b"".join(binascii.b2a_uu(data[i:i + 45]) for i in range(0, len(data), 45))
        body = draw(st.sampled_from([b"begin 644 x.docx\n" + lines + b"`\nend\n",
                                     b"begin 644 x\nM!!!!\nend\n", b"begin\n", data]))
    else:
        body = data
    return cte, body


@st.composite
def leaf(draw) -> bytes:
    kind = draw(st.sampled_from(["text", "html", "file", "file", "status"]))
    headers: list[bytes] = []
    if kind in ("text", "html"):
        charset = draw(st.sampled_from(CHARSETS))
        text = draw(st.one_of(NAMEISH, st.just("请查收推荐材料，下载链接 https://mail.qq.com/cgi-bin/ftnExs_download?k=abc")))
        if kind == "html":
            tail = draw(st.sampled_from(["", "<div", "<!--", "</p></p>"]))
            text = f"<html><meta charset={charset}><body><p>{text}</p><img src=\"cid:x@y\"></body>" + tail
        ctype = f"text/{'html' if kind == 'html' else 'plain'}; charset={charset}"
        data = _encodable(text, charset)
        headers.append(b"Content-Type: " + ctype.encode())
    elif kind == "status":
        headers.append(b"Content-Type: " + draw(st.sampled_from([
            b"message/delivery-status", b"message/external-body; access-type=URL", b"message/partial; id=x; number=1",
            b"text/rfc822-headers"])))
        data = b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@b\r\n"
    else:
        data = PAYLOADS[draw(st.sampled_from(sorted(PAYLOADS)))]
        ctype = draw(st.sampled_from([b"application/octet-stream", b"image/jpeg", b"application/msword", b"application/zip",
                                      b"text/plain", b"multipart/mixed", b"garbage", b"", b"application/x-rar-compressed"]))
        headers.append(b"Content-Type: " + ctype + b";\r\n\t" + draw(file_name_params("name")))
        disposition = draw(st.sampled_from([b"attachment", b"inline", b"", b"attachment; attachment", b"form-data"]))
        if disposition:
            headers.append(b"Content-Disposition: " + disposition + b";\r\n\t" + draw(file_name_params("filename")))
        if draw(st.booleans()):
            headers.append(b"Content-ID: <x@y>")
    cte, body = draw(encoded_body(data))
    if cte:
        headers.append(b"Content-Transfer-Encoding: " + cte.encode())
    if draw(st.integers(0, 7)) == 0:
        headers.append(b"X-Junk: " + draw(header_value()))
    return b"\r\n".join(headers) + b"\r\n\r\n" + body


BOUNDARY = st.one_of(
    st.just("----=_NextPart_000_0001"),
    st.text(st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters='"\\'), min_size=1, max_size=90),
    st.sampled_from(["", " ", "--", "a" * 200, "边界", "b\x00b", "=?utf-8?B?Ym91bmRhcnk=?="]),
)


@st.composite
def multipart(draw, children: list[bytes]) -> bytes:
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed", "digest", "x-weird", "MIXED"]))
    boundary = draw(BOUNDARY)
    style = draw(st.sampled_from(["ok", "ok", "ok", "missing-param", "unused", "no-close", "duplicate", "unquoted",
                                  "two-params"]))
    used = boundary if style != "unused" else boundary + "-other"
    if style == "missing-param":
        ctype = f"multipart/{subtype}"
    elif style == "unquoted":
        ctype = f"multipart/{subtype}; boundary={boundary}"
    elif style == "two-params":
        ctype = f'multipart/{subtype}; boundary="{boundary}"; boundary="x{boundary}"'
    else:
        ctype = f'multipart/{subtype};\r\n\tboundary="{boundary}"'
    body = draw(st.sampled_from([b"", b"This is a multi-part message in MIME format.\r\n", b"--\r\n"]))
    for child in children:
        if style == "duplicate" and child.startswith(b"Content-Type: multipart"):
            # an inner multipart reusing the outer boundary
            child = child.replace(b'boundary="', f'boundary="{boundary}" x="'.encode("utf-8", "surrogatepass"), 1)
        body += f"\r\n--{used}\r\n".encode("utf-8", "surrogatepass") + child
    if style != "no-close":
        body += f"\r\n--{used}--\r\n".encode("utf-8", "surrogatepass")
    body += draw(st.sampled_from([b"", b"epilogue\r\n", b"--" + used.encode("utf-8", "surrogatepass") + b"--garbage"]))
    return b"Content-Type: " + ctype.encode("utf-8", "surrogatepass") + b"\r\n\r\n" + body


@st.composite
def top_headers(draw) -> bytes:
    lines = [
        b"Received: from smtp.qq.com by mx.cqgh.org; Mon, 10 Apr 2017 10:00:00 +0800",
        b"From: " + draw(st.sampled_from([b"unit@example.cn"] * 6 + [b"", b"<>", b"MAILER-DAEMON@x"])) + b" "
        + draw(header_value()),
        b"To: bygj@cqgh.org",
        b"Subject: " + draw(header_value()),
        b"Date: " + draw(st.sampled_from([b"Mon, 10 Apr 2017 09:58:01 +0800", b"yesterday", b"",
                                          b"Mon, 99 Foo 99999 99:99:99 +9999"])),
        b"Message-ID: " + draw(st.sampled_from([b"<a@b>", b"", b"<<<>>>", b"\x00"])),
        b"MIME-Version: 1.0",
    ]
    # an auto-reply ends the judging early: rare, so that most mails reach the attachments
    rare = draw(st.integers(0, 15)) == 0
    extra = [draw(st.sampled_from([b"Auto-Submitted: auto-replied", b"Precedence: bulk"]))] if rare else []
    extra += draw(st.lists(st.sampled_from([
        b"Content-Type: text/plain", b"Subject: second",
        b"From: second@example.cn", b"X-Long: " + b"a" * 70000, b"\x00\x00: \x00", b": no name", b"bad header line",
        b"Content-Transfer-Encoding: base64",
    ]), max_size=3))
    draw(st.randoms()).shuffle(lines)
    return b"\r\n".join(lines + extra) + b"\r\n"


def message_tree(max_leaves: int = 8):
    """A whole body (its own Content-Type first): leaves, multiparts of them, forwarded mails."""

    def extend(inner):
        return st.one_of(
            st.lists(inner, min_size=0, max_size=4).flatmap(multipart),
            st.tuples(top_headers(), inner).map(lambda pair: b"Content-Type: message/rfc822\r\n\r\n" + pair[0] + pair[1]),
        )

    return st.recursive(leaf(), extend, max_leaves=max_leaves)


@st.composite
def damaged(draw, raw: bytes) -> bytes:
    """The bytes as they arrive after a bad relay: cut, NULs sprinkled, bytes flipped, CRs lost."""
    how = draw(st.sampled_from(["none", "none", "truncate", "nul", "flip", "lf-only", "cr-only", "bom", "utf16"]))
    if how == "truncate" and raw:
        return raw[: draw(st.integers(0, len(raw)))]
    if how == "nul" and raw:
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + b"\x00" * draw(st.integers(1, 64)) + raw[at:]
    if how == "flip" and raw:
        data = bytearray(raw)
        for at in draw(st.lists(st.integers(0, len(raw) - 1), max_size=8)):
            data[at] ^= draw(st.integers(1, 255))
        return bytes(data)
    if how == "lf-only":
        return raw.replace(b"\r\n", b"\n")
    if how == "cr-only":
        return raw.replace(b"\r\n", b"\r")
    if how == "bom":
        return b"\xef\xbb\xbf\r\n\r\n" + raw
    if how == "utf16":
        return raw.decode("latin-1").encode("utf-16")
    return raw


def mail():
    return st.tuples(top_headers(), message_tree()).map(lambda pair: pair[0] + pair[1]).flatmap(damaged)


# --- the properties ----------------------------------------------------------------------


@HOSTILE
@given(raw=mail())
@example(raw=eml.message(eml.text("你好")))
def test_any_mime_tree_is_judged_cleanly(guard, raw):
    guard.judge(raw, "mime-tree")


@HOSTILE
@given(value=header_value(), name=st.sampled_from([b"Subject", b"From", b"To", b"Content-Type", b"Content-Disposition",
                                                   b"Message-ID", b"Date", b"Received", b"Content-Transfer-Encoding"]))
def test_any_header_value_is_judged_cleanly(guard, value, name):
    body = eml.multipart("mixed", eml.text("请查收"), eml.attachment(eml.docx(), 'name="推荐表.docx"'))
    guard.judge(eml.message(body, extra=[(name.decode(), value)]), "header-bytes")


@HOSTILE
@given(params=st.tuples(file_name_params("name"), file_name_params("filename")), payload=st.sampled_from(sorted(PAYLOADS)))
def test_any_file_name_encoding_is_judged_cleanly(guard, params, payload):
    body = eml.multipart("mixed", eml.text("请查收"), eml.attachment(PAYLOADS[payload], params[0], disposition_params=params[1]))
    guard.judge(eml.message(body), "file-names")


@HOSTILE
@given(depth=st.integers(1, 60), kind=st.sampled_from(["rfc822", "mixed", "alternating"]), cut=st.booleans())
def test_deep_nesting_is_judged_cleanly(guard, depth, kind, cut):
    inner = eml.multipart("mixed", eml.text("见附件"), eml.attachment(eml.docx(), 'name="推荐表.docx"'))
    for level in range(depth):
        if kind == "rfc822" or (kind == "alternating" and level % 2):
            inner = eml.forwarded(eml.message(inner, message_id=f"<{level}@x>"))
        else:
            inner = eml.multipart("mixed", inner)
    raw = eml.message(inner)
    guard.judge(raw[: len(raw) * 2 // 3] if cut else raw, "deep-nesting")


@HOSTILE
@given(cte=st.sampled_from(ENCODINGS), body=st.binary(max_size=3000),
       ctype=st.sampled_from([b"text/plain; charset=gbk", b"application/octet-stream", b"image/jpeg"]))
def test_any_body_under_any_transfer_encoding_is_judged_cleanly(guard, cte, body, ctype):
    part = b"Content-Type: " + ctype + b'; name="a.jpg"\r\nContent-Transfer-Encoding: ' + cte.encode() + b"\r\n\r\n" + body
    guard.judge(eml.message(eml.multipart("mixed", eml.text("x"), part)), "transfer-encodings")


@HOSTILE
@given(raw=st.binary(max_size=4000))
def test_any_bytes_at_all_are_judged_cleanly(guard, raw):
    guard.judge(raw, "random-bytes")


# --- minimal inputs found by the strategies (kept as plain examples) --------------------------

# a 64×32 white PNG with one black line: decodable, so named as the form it is read by OCR
FORM_SCAN_PNG = (
    b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00@\x00\x00\x00 \x08\x00\x00\x00\x00\x87\xf6!X\x00\x00\x00.IDATx'
    b'\xda\xed\xd4\xb1\r\x00@\x08\xc3@\xe7\xc5\xfe+\xc3\x0eO\x87\x9c\xdeW&\xcdn\x0f\x01\x01\x81#@\x01\xe4\xb7n\x88'
    b'\x87" p\x05\x18\xc4\xad\x03?z\x1b\x02\xac\x00\x00\x00\x00IEND\xaeB`\x82'
)


def test_ocr_leaves_nothing_in_the_temporary_folder(guard):
    """ONNX Runtime leaves its telemetry session file (.ses) in TMPDIR; the OCR child's own
    temporary folder (core/children.py) takes it away with everything else."""
    scan = eml.attachment(FORM_SCAN_PNG, f'name="{eml.b_words("推荐表.png")}"', ctype="image/png")
    body = eml.multipart("mixed", eml.text("见附件"), scan)
    guard.judge(eml.message(body), "ocr")


# --- the guard itself catches what it is there for ----------------------------------------------


def test_the_guard_catches_a_write_outside_the_temporary_folder(guard, monkeypatch, tmp_path):
    stray = tmp_path / "outside.txt"
    real = ingest.mime._parse

    def writing(*args):
        stray.write_text("x")
        return real(*args)

    monkeypatch.setattr(ingest.mime, "_parse", writing)
    with pytest.raises(Trouble, match="outside.txt"):
        guard.judge(eml.message(eml.text("x")), "self-check")


def test_the_guard_catches_a_write_by_a_forked_child(guard, monkeypatch, tmp_path):
    stray = tmp_path / "from-child.txt"
    real = ingest.archives._unpack

    def writing(*args):
        stray.write_text("x")  # runs in the sandbox's child
        return real(*args)

    monkeypatch.setattr(ingest.archives, "_unpack", writing)
    body = eml.multipart("mixed", eml.attachment(archives.zip_bytes([("a.txt", b"x")]), 'name="a.zip"'))
    with pytest.raises(Trouble, match=r"\[child \d+\].*from-child.txt"):
        guard.judge(eml.message(body), "self-check")


def test_the_guard_catches_a_write_by_a_spawned_child(guard, monkeypatch, tmp_path):
    import testing.hostile
    from core import children

    stray = tmp_path / "from-spawned.txt"
    real = testing.hostile.judge

    def spawning(*args, **kwargs):
        children.run(testing.hostile.write_for_self_test, str(stray), seconds=60, memory_bytes=4 << 30, fresh=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(testing.hostile, "judge", spawning)
    with pytest.raises(Trouble, match=r"\[child \d+\].*from-spawned.txt"):
        guard.judge(eml.message(eml.text("x")), "self-check")


def test_the_guard_catches_a_failure_hidden_in_a_spawned_child(guard, monkeypatch):
    import testing.hostile
    from core import children

    real = testing.hostile.judge

    def failing(*args, **kwargs):
        try:  # a directory cannot be opened for writing: the child raises
            children.run(testing.hostile.write_for_self_test, str(guard.tmp), seconds=60, memory_bytes=4 << 30,
                         fresh=True)
        except IsADirectoryError:
            pass  # swallowed, as parsers/ocr.py does
        return real(*args, **kwargs)

    monkeypatch.setattr(testing.hostile, "judge", failing)
    with pytest.raises(Trouble, match="failed in a fresh child: .*Is a directory"):
        guard.judge(eml.message(eml.text("x")), "self-check")


def test_the_guard_catches_a_file_left_in_the_working_folder(guard, monkeypatch):
    real = ingest.mime._parse
    monkeypatch.setattr(ingest.mime, "_parse", lambda *args: (Path("relative.txt").write_text("x"), real(*args))[1])
    with pytest.raises(Trouble, match="relative.txt"):
        guard.judge(eml.message(eml.text("x")), "self-check")


def test_the_guard_catches_an_error_of_ours_turned_into_an_unparsed_mail(guard, monkeypatch):
    monkeypatch.setattr(ingest.mime, "_envelope", lambda *args: {}["bug"])
    with pytest.raises(Trouble, match="could not be taken apart"):
        guard.judge(eml.message(eml.text("x")), "self-check")


def test_the_guard_catches_an_error_of_ours_inside_the_archive_child(guard, monkeypatch):
    monkeypatch.setattr(ingest.archives.names, "split_entry", None)  # so the TypeError is raised in ingest/
    body = eml.multipart("mixed", eml.attachment(archives.zip_bytes([("a.txt", b"x")]), 'name="a.zip"'))
    with pytest.raises(Trouble, match="swallowed as an unreadable archive.*TypeError"):
        guard.judge(eml.message(body), "self-check")


def test_the_guard_catches_an_error_that_broke_the_archive_child(guard, monkeypatch):
    def broken(*args):
        raise TypeError("bug of ours")

    monkeypatch.setattr(ingest.archives, "_unpack", broken)
    body = eml.multipart("mixed", eml.attachment(archives.zip_bytes([("a.txt", b"x")]), 'name="a.zip"'))
    with pytest.raises(Trouble, match="hidden internal error: archive a.zip: TypeError"):
        guard.judge(eml.message(body), "self-check")


def test_the_guard_catches_a_hang(guard, monkeypatch):
    import time

    monkeypatch.setattr(ingest.mime, "_parse", lambda *args: time.sleep(30))
    guard.seconds = 1
    with pytest.raises(Hung):
        guard.judge(eml.message(eml.text("x")), "self-check")
    assert not AUDIT.armed
