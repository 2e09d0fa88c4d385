"""Raw .eml bytes built the way real clients write them: Foxmail, QQ Mail, 163, Outlook."""

# Everything is assembled by hand rather than with `email.message`, which would tidy up
# exactly the sloppiness (encoded words in quoted parameters, raw GBK bytes, mis-split
# words) that the ingest stage has to survive.

from __future__ import annotations

import base64
import binascii
import itertools
import struct
import urllib.parse
from typing import Iterable

Header = tuple[str, "str | bytes"]
_boundaries = itertools.count(1)

# --- file names and subjects as each client encodes them ------------------------------------


def b_words(text: str, charset: str = "GBK", split_bytes: int | None = None, separator: str = " ") -> str:
    """RFC 2047 B words. `split_bytes` cuts the raw bytes every N bytes, mid-character if
    that is where N falls (Foxmail and Outlook do), and `separator` is what goes between
    the words ("" for the clients that write them back to back, "\\r\\n\\t" for folding)."""
    data = text.encode(charset)
    chunks = [data[i : i + split_bytes] for i in range(0, len(data), split_bytes)] if split_bytes else [data]
    return separator.join(f"=?{charset}?B?{base64.b64encode(chunk).decode()}?=" for chunk in chunks)


def b_words_unpadded(text: str, charset: str, split_chars: int) -> str:
    """One base64 text cut every N characters into words, padding only at the very end:
    the split is mid-quantum, so no word decodes on its own."""
    encoded = base64.b64encode(text.encode(charset)).decode()
    return " ".join(f"=?{charset}?B?{encoded[i:i + split_chars]}?=" for i in range(0, len(encoded), split_chars))


def q_word(text: str, charset: str = "UTF-8") -> str:
    data = text.encode(charset)
    encoded = "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in data)
    return f"=?{charset}?Q?{encoded}?="


def rfc2231(key: str, text: str, charset: str = "gbk", pieces: int = 1) -> str:
    """`key*=charset''%XX…`, or with `pieces` > 1 the continuation form `key*0*=…; key*1*=…`."""
    quoted = urllib.parse.quote(text.encode(charset), safe="")
    if pieces == 1:
        return f"{key}*={charset}''{quoted}"
    # cut between %XX triplets only, as the RFC requires
    triplets = [quoted[i : i + 3] if quoted[i] == "%" else quoted[i] for i in _triplet_starts(quoted)]
    size = -(-len(triplets) // pieces)
    chunks = ["".join(triplets[i : i + size]) for i in range(0, len(triplets), size)]
    first = f"{key}*0*={charset}''{chunks[0]}"
    return ";\r\n\t".join([first, *(f"{key}*{n}*={chunk}" for n, chunk in enumerate(chunks[1:], 1))])


def _triplet_starts(quoted: str) -> list[int]:
    starts, i = [], 0
    while i < len(quoted):
        starts.append(i)
        i += 3 if quoted[i] == "%" else 1
    return starts


# --- parts ------------------------------------------------------------------------------


def _header_bytes(headers: Iterable[Header]) -> bytes:
    lines = []
    for name, value in headers:
        value_bytes = value if isinstance(value, bytes) else value.encode("utf-8")
        lines.append(name.encode("ascii") + b": " + value_bytes + b"\r\n")
    return b"".join(lines)


def part(headers: Iterable[Header], body: bytes) -> bytes:
    """One MIME entity: its headers, a blank line, its (already encoded) body."""
    return _header_bytes(headers) + b"\r\n" + body


def _base64_lines(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def text(body: str, subtype: str = "plain", charset: str = "GBK", encoding: str = "base64") -> bytes:
    data = body.encode(charset)
    if encoding == "base64":
        payload = _base64_lines(data)
    elif encoding == "quoted-printable":
        payload = binascii.b2a_qp(data).replace(b"\n", b"\r\n") + b"\r\n"
    else:
        payload = data.replace(b"\n", b"\r\n") + b"\r\n"
    headers = [("Content-Type", f"text/{subtype}; charset={charset}"), ("Content-Transfer-Encoding", encoding)]
    return part(headers, payload)


def attachment(
    data: bytes,
    params: str | bytes = "",
    *,
    ctype: str = "application/octet-stream",
    disposition: str | None = "attachment",
    disposition_params: str | bytes | None = None,
    content_id: str | None = None,
    encoding: str = "base64",
) -> bytes:
    """A file part. `params` is written after the Content-Type (e.g. 'name="…"'), and after
    the disposition too unless `disposition_params` says otherwise; bytes stay raw 8-bit."""
    def joined(prefix: str, extra: str | bytes) -> str | bytes:
        if not extra:
            return prefix
        return (prefix.encode() + b";\r\n\t" + extra) if isinstance(extra, bytes) else f"{prefix};\r\n\t{extra}"

    headers: list[Header] = [("Content-Type", joined(ctype, params))]
    if disposition:
        headers.append(("Content-Disposition", joined(disposition, params if disposition_params is None else disposition_params)))
    if content_id:
        headers.append(("Content-ID", f"<{content_id}>"))
    headers.append(("Content-Transfer-Encoding", encoding))
    payload = _base64_lines(data) if encoding == "base64" else data
    return part(headers, payload)


def multipart(subtype: str, *children: bytes, boundary: str | None = None) -> bytes:
    boundary = boundary or f"----=_NextPart_{next(_boundaries):04d}_ABCD"
    body = b"This is a multi-part message in MIME format.\r\n\r\n"
    for child in children:
        body += f"--{boundary}\r\n".encode() + child + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return part([("Content-Type", f'multipart/{subtype};\r\n\tboundary="{boundary}"')], body)


def forwarded(inner_message: bytes, filename: str | None = None) -> bytes:
    """A message/rfc822 part carrying a whole earlier mail, as "forward as attachment" sends it."""
    headers: list[Header] = [("Content-Type", "message/rfc822")]
    if filename:
        headers.append(("Content-Disposition", f'attachment; filename="{filename}"'))
    return part(headers, inner_message)


def message(
    body: bytes,
    *,
    sender: str | bytes | None = None,
    to: str = "bygj@cqgh.org",
    subject: str | bytes = "推荐材料",
    date: str | None = "Mon, 10 Apr 2017 09:58:01 +0800",
    received: Iterable[str] = ("from smtp.qq.com (unknown [1.2.3.4]) by mx.cqgh.org with ESMTP id ABC; Mon, 10 Apr 2017 10:00:00 +0800 (CST)",),
    message_id: str = "<20170410095801.1234@example.cn>",
    mailer: str = "Foxmail 7.2.9.115[cn]",
    extra: Iterable[Header] = (),
) -> bytes:
    """A whole mail: top-level headers followed by `body`, which carries its own Content-Type."""
    sender = sender or f"{b_words('沙坪坝区总工会')} <Unit@Example.cn>"
    headers: list[Header] = [("Received", value) for value in received]
    headers += [("From", sender), ("To", to), ("Subject", subject)]
    if date:
        headers.append(("Date", date))
    headers += [("Message-ID", message_id), ("X-Mailer", mailer), ("MIME-Version", "1.0"), *extra]
    return _header_bytes(headers) + body


# --- file contents that sniff as what they claim ------------------------------------------


def jpeg(size: int = 2000, seed: int = 0) -> bytes:
    filler = bytes((i * 31 + seed) % 256 for i in range(size))
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + filler + b"\xff\xd9"


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def iso_bmff(major: bytes, *compatible: bytes) -> bytes:
    brands = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands + b"\x00\x00\x00\x08free"


def riff(kind: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 100) + kind + b"LIST" + b"\x00" * 92


def ole2(*stream_names: str) -> bytes:
    """An OLE2 compound file head with directory entries naming the given streams."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = b"".join(name.encode("utf-16-le").ljust(128, b"\x00") for name in ("Root Entry", *stream_names))
    return head + directory


def docx(paragraph: str = "巴渝工匠推荐表") -> bytes:
    """A minimal WordprocessingML package: enough for anything that looks inside the zip."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        package.writestr("word/document.xml", f'<?xml version="1.0"?><w:document><w:body><w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p></w:body></w:document>')
    return buffer.getvalue()


# --- whole mails as each client shapes them ------------------------------------------------------

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TYPES = {"docx": DOCX_TYPE, "pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
          "mp4": "video/mp4", "zip": "application/zip", "dat": "application/ms-tnef"}


def _ctype(filename: str) -> str:
    return _TYPES.get(filename.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def qq_mail(body: str, files: Iterable[tuple[str, bytes]] = (), inline: Iterable[tuple[str, bytes]] = (),
            **headers) -> bytes:
    """QQ Mail / Foxmail: text and HTML alternatives, the HTML's 插入图片 in a multipart/related
    beside it (referenced by cid:), the attachments after, file names as GBK B words."""
    inline = list(inline)
    cids = [f"{k:08X}@{'qq.com'}" for k in range(1, len(inline) + 1)]
    pictures = "".join(f'<div><img src="cid:{cid}" /></div>' for cid in cids)
    paragraphs = "".join(f"<div>{line}</div>" for line in body.split("\n"))
    html_part = text(f"<html><body>{paragraphs}{pictures}</body></html>", "html", "GB18030")
    related = multipart("related", html_part, *(
        attachment(data, f'name="{b_words(name)}"', ctype=_ctype(name), disposition="inline",
                   disposition_params=f'filename="{b_words(name)}"', content_id=cid)
        for (name, data), cid in zip(inline, cids)))
    alternative = multipart("alternative", text(body, charset="GB18030"), related)
    parts = [attachment(data, f'name="{b_words(name)}"', ctype=_ctype(name)) for name, data in files]
    headers.setdefault("mailer", "QQMail 2.x")
    return message(multipart("mixed", alternative, *parts) if parts else alternative, **headers)


def tnef(files: Iterable[tuple[str, bytes]], codepage: int = 936) -> bytes:
    """An Outlook winmail.dat carrying the files, their titles in the sender's code page."""
    def attribute(level: int, kind: int, name: int, data: bytes) -> bytes:
        return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)

    out = struct.pack("<IH", 0x223E9F78, 0x1234)
    out += attribute(1, 0x0008, 0x9006, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += attribute(1, 0x0006, 0x9007, struct.pack("<II", codepage, 0))  # attOemCodepage
    for name, data in files:
        out += attribute(2, 0x0006, 0x9002, struct.pack("<HiiiHi", 1, -1, -1, -1, 0, 0))  # attAttachRendData
        out += attribute(2, 0x0001, 0x8010, name.encode(f"cp{codepage}") + b"\x00")  # attAttachTitle
        out += attribute(2, 0x0006, 0x800F, data)  # attAttachData
    return out


def outlook_mail(body: str, files: Iterable[tuple[str, bytes]], **headers) -> bytes:
    """Outlook in rich text: the body as text, every file inside one winmail.dat (TNEF)."""
    packed = attachment(tnef(files), 'name="winmail.dat"', ctype="application/ms-tnef")
    headers.setdefault("mailer", "Microsoft Outlook 14.0")
    return message(multipart("mixed", text(body, charset="GB2312"), packed), **headers)


def apple_mail(body: str, files: Iterable[tuple[str, bytes]], **headers) -> bytes:
    """Apple Mail with "send Windows-friendly attachments" off: each file in a multipart/appledouble,
    its resource fork (application/applefile) first under the same name."""
    fork = struct.pack(">II", 0x00051607, 0x00020000) + b"\x00" * 16 + struct.pack(">H", 1) + struct.pack(">III", 9, 38, 32) + b"\x00" * 32
    parts = [multipart("appledouble",
                       attachment(fork, f'name="{name}"', ctype="application/applefile", encoding="base64"),
                       attachment(data, f'name="{b_words(name, "UTF-8")}"', ctype=_ctype(name)))
             for name, data in files]
    headers.setdefault("mailer", "Apple Mail (2.3445.104.11)")
    return message(multipart("mixed", text(body, charset="UTF-8"), *parts), **headers)
