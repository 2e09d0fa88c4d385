"""The media type of a file judged from its bytes, because senders label everything octet-stream."""

from __future__ import annotations

import re
import struct
from typing import Callable

OCTET_STREAM = "application/octet-stream"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ZIP = "application/zip"
SEVEN_ZIP = "application/x-7z-compressed"
RAR = "application/vnd.rar"
# An Office file saved with a password is an OLE2 box holding an "EncryptedPackage" stream,
# whatever its extension (.docx, .xlsx): parsers must say "encrypted", not "corrupt".
ENCRYPTED_OFFICE = "application/x-ms-office-encrypted"

# (offset, magic, media type): the plain signatures, first match wins
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"{\\rtf", "application/rtf"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"II+\x00", "image/tiff"),
    (0, b"0&\xb2u\x8ef\xcf\x11", "video/x-ms-asf"),  # ASF: WMV and WMA
    (0, b"FLV\x01", "video/x-flv"),
    (0, b"\x00\x00\x01\xba", "video/mpeg"),  # MPEG program stream (.mpg, .vob)
    (0, b"\x00\x00\x01\xb3", "video/mpeg"),  # bare MPEG-1/2 video sequence
    (0, b"Rar!\x1a\x07\x01\x00", RAR),  # RAR 5
    (0, b"Rar!\x1a\x07\x00", RAR),  # RAR 1.5–4
    (0, b"7z\xbc\xaf\x27\x1c", SEVEN_ZIP),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x78\x9f\x3e\x22", "application/vnd.ms-tnef"),  # winmail.dat
)

_MP4_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V "}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}

EXTENSIONS = {
    "application/pdf": ".pdf", DOCX: ".docx", XLSX: ".xlsx", PPTX: ".pptx", ZIP: ".zip",
    "application/msword": ".doc", "application/wps-office.wps": ".wps",
    "application/vnd.ms-excel": ".xls", "application/wps-office.et": ".et",
    "application/vnd.ms-powerpoint": ".ppt", "application/wps-office.dps": ".dps",
    "application/vnd.ms-outlook": ".msg", "application/rtf": ".rtf",
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/bmp": ".bmp",
    "image/tiff": ".tif", "image/webp": ".webp", "image/heic": ".heic", "image/heif": ".heif",
    "image/avif": ".avif", "video/mp4": ".mp4", "video/quicktime": ".mov", "video/3gpp": ".3gp",
    "video/x-msvideo": ".avi", "video/x-ms-asf": ".wmv", "video/x-flv": ".flv", "video/mpeg": ".mpg",
    "video/mp2t": ".ts", "video/x-matroska": ".mkv", "video/webm": ".webm", "audio/wav": ".wav",
    "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/ogg": ".ogg", "audio/flac": ".flac",
    RAR: ".rar", SEVEN_ZIP: ".7z", "application/gzip": ".gz", "application/x-bzip2": ".bz2",
    "application/vnd.ms-tnef": ".dat", "message/rfc822": ".eml", "text/html": ".html",
    "text/plain": ".txt",
}


def extension_for(media_type: str) -> str:
    """The usual file extension (with the dot) for a sniffed type; `.bin` when there is none."""
    return EXTENSIONS.get(media_type, ".bin")


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _pdf(data: bytes, filename: str) -> str | None:
    # some generators put a few junk bytes (even a whole HTTP header) before %PDF-
    return "application/pdf" if b"%PDF-" in data[:1024] else None


def _bmp(data: bytes, filename: str) -> str | None:
    # "BM" alone is too weak: text starting "BMW…" must not be a bitmap
    if data[:2] == b"BM" and len(data) >= 18 and data[6:10] == b"\0\0\0\0":
        if struct.unpack_from("<I", data, 14)[0] in (12, 40, 52, 56, 64, 108, 124):
            return "image/bmp"
    return None


def _bzip2(data: bytes, filename: str) -> str | None:
    return "application/x-bzip2" if data[:3] == b"BZh" and data[3:4].isdigit() else None


def _riff(data: bytes, filename: str) -> str | None:
    if data[:4] != b"RIFF":
        return None
    return {b"AVI ": "video/x-msvideo", b"WAVE": "audio/wav", b"WEBP": "image/webp"}.get(data[8:12], OCTET_STREAM)


def _iso_bmff(data: bytes, filename: str) -> str | None:
    if data[4:8] != b"ftyp":
        # QuickTime files written before ftyp existed start straight with these atoms
        return "video/quicktime" if data[4:8] in (b"moov", b"mdat", b"wide") else None
    box_size = min(struct.unpack_from(">I", data, 0)[0], 256, len(data))
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, box_size - 3, 4)}
    brands = compatible | {major}
    # the major brand decides first: a 3GP or QuickTime file often lists isom among its
    # compatible brands, and CONTRACT §3 says neither is MP4
    if major in _HEIC_BRANDS | _HEIF_BRANDS | _AVIF_BRANDS:
        return _image_brand(brands)
    if major == b"qt  ":
        return "video/quicktime"
    if major.startswith((b"3gp", b"3g2", b"3ge", b"3gg")):
        return "video/3gpp"
    if major in (b"M4A ", b"M4B "):
        return "audio/mp4"
    if brands & _MP4_BRANDS:
        return "video/mp4"
    if b"qt  " in compatible:
        return "video/quicktime"
    return _image_brand(brands) or "application/mp4"


def _image_brand(brands: set[bytes]) -> str | None:
    if brands & _HEIC_BRANDS:
        return "image/heic"
    if brands & _AVIF_BRANDS:
        return "image/avif"
    if brands & _HEIF_BRANDS:
        return "image/heif"
    return None


def _matroska(data: bytes, filename: str) -> str | None:
    if data[:4] != b"\x1a\x45\xdf\xa3":
        return None
    return "video/webm" if b"webm" in data[:64] else "video/x-matroska"


def _mpeg_ts(data: bytes, filename: str) -> str | None:
    # sync byte 0x47 every 188 bytes (or 192 in Blu-ray/camcorder .m2ts, after a 4-byte stamp)
    for start, step in ((0, 188), (4, 192)):
        if len(data) > start + 2 * step and all(data[start + k * step] == 0x47 for k in range(3)):
            return "video/mp2t"
    return None


def _mp3_frame(data: bytes, filename: str) -> str | None:
    frame = len(data) > 2 and data[0] == 0xFF and data[1] & 0xE6 == 0xE2
    return "audio/mpeg" if frame and _extension(filename) == "mp3" else None


def _ole2(data: bytes, filename: str) -> str | None:
    if data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None
    # Stream names sit UTF-16 in the directory sectors; looking for them beats walking the FAT.
    # WPS saves Word-compatible OLE2 files, so only the extension tells .wps from .doc.
    extension = _extension(filename)
    if "EncryptedPackage".encode("utf-16-le") in data:
        return ENCRYPTED_OFFICE
    if "WordDocument".encode("utf-16-le") in data:
        return "application/wps-office.wps" if extension == "wps" else "application/msword"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "application/wps-office.et" if extension == "et" else "application/vnd.ms-excel"
    if "PowerPoint Document".encode("utf-16-le") in data:
        return "application/wps-office.dps" if extension == "dps" else "application/vnd.ms-powerpoint"
    if "__substg1.0_".encode("utf-16-le") in data:
        return "application/vnd.ms-outlook"
    if extension == "wps":  # Microsoft Works, not Kingsoft
        return "application/vnd.ms-works"
    return "application/x-ole-storage"


def zip_member_names(data: bytes, limit: int = 200) -> list[str]:
    """The first `limit` names of a zip's central directory, read without trusting much.

    Reads raw records rather than opening a ZipFile, so a hostile directory of millions of
    entries costs nothing here. Falls back to the local headers of a truncated zip.
    """
    names: list[str] = []
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end >= 0 and len(data) >= end + 22:
        offset = struct.unpack_from("<I", data, end + 16)[0]
        while len(names) < limit and data[offset : offset + 4] == b"PK\x01\x02" and offset + 46 <= len(data):
            name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
            names.append(data[offset + 46 : offset + 46 + name_len].decode("cp437"))
            offset += 46 + name_len + extra_len + comment_len
    return names or _local_header_names(data, limit)


def _local_header_names(data: bytes, limit: int) -> list[str]:
    # a truncated zip has no central directory: walk the local headers from the front
    names: list[str] = []
    offset = 0
    while len(names) < limit and data[offset : offset + 4] == b"PK\x03\x04" and offset + 30 <= len(data):
        header = struct.unpack_from("<HHHHIIIHH", data, offset + 6)
        flags, _method, _time, _date, _crc, packed, _size, name_len, extra_len = header
        names.append(data[offset + 30 : offset + 30 + name_len].decode("cp437"))
        if flags & 0x8 and not packed:  # sizes come after the data: no way to skip it
            break
        offset += 30 + name_len + extra_len + packed
    return names


_ODF = re.compile(rb"^PK\x03\x04.{26}mimetype(application/vnd\.oasis\.opendocument\.[a-z.-]+)", re.DOTALL)


_OOXML_BY_EXTENSION = {"docx": DOCX, "docm": DOCX, "xlsx": XLSX, "pptx": PPTX}


def _zip(data: bytes, filename: str) -> str | None:
    if data[:4] not in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return None
    odf = _ODF.match(data[:200])
    if odf:
        return odf.group(1).decode("ascii")
    names = zip_member_names(data)
    tops = {name.split("/", 1)[0] for name in names}
    cut_short = data.rfind(b"PK\x05\x06") < 0  # no central directory: the file was truncated
    if "[Content_Types].xml" in names or "word/document.xml" in names or cut_short:
        for top, media_type in (("word", DOCX), ("xl", XLSX), ("ppt", PPTX)):
            if top in tops:
                return media_type
        # cut off before its word/ part: the name decides, so a broken 推荐表.docx is an
        # unreadable form for the sender to send again, not an archive
        return _OOXML_BY_EXTENSION.get(_extension(filename), ZIP)
    return ZIP


_MAIL_HEADERS = re.compile(
    rb"^(received|from|to|subject|date|message-id|return-path|mime-version|delivered-to|content-type|x-[a-z-]+):",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_LINE = re.compile(rb"^(From |[!-9;-~]+:)")


def _mail(data: bytes, filename: str) -> str | None:
    head = data[:4096]
    if _HEADER_LINE.match(head) and len({m.group(1).lower() for m in _MAIL_HEADERS.finditer(head)}) >= 2:
        return "message/rfc822"
    return None


_HTML = re.compile(rb"<!doctype html|<html|<head|<body|<meta\s|<table|<div|<p>", re.IGNORECASE)


def _text(data: bytes, filename: str) -> str | None:
    head = data[:65_536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text/plain"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and len(head) == 65_536:  # a character cut at our window's edge
            text = head[: exc.start].decode("utf-8")
        else:
            try:
                text = head.decode("gb18030")
            except UnicodeDecodeError:
                return None
    if not text:
        return None
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f\x1b")
    if controls > len(text) / 100:
        return None
    return "text/html" if _HTML.search(head.lstrip()[:1024]) else "text/plain"


# the order matters: containers before text, and text last of all
_SNIFFERS: tuple[Callable[[bytes, str], str | None], ...] = (
    _pdf, _zip, _ole2, _riff, _iso_bmff, _matroska, _bmp, _bzip2, _mpeg_ts, _mp3_frame, _mail, _text,
)


def sniff(data: bytes, filename: str = "") -> str:
    """The media type of `data`; `filename` only breaks ties (.doc vs .wps, .xls vs .et)."""
    for offset, magic, media_type in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return media_type
    for sniffer in _SNIFFERS:
        media_type = sniffer(data, filename)
        if media_type:
            return media_type
    return OCTET_STREAM
