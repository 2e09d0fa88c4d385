"""Media types come from the bytes, because senders label everything application/octet-stream."""

import io
import zipfile

import pytest

from ingest.sniff import DOCX, ENCRYPTED_OFFICE, PPTX, XLSX, extension_for, sniff
from testing.builders import archives, eml


def _ooxml(top: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(f"{top}/workbook.xml" if top == "xl" else f"{top}/presentation.xml", "<x/>")
    return buffer.getvalue()


CASES = [
    ("pdf", b"%PDF-1.7\n%\xe2\xe3", "", "application/pdf"),
    ("pdf after junk", b"\r\n\r\nHTTP/1.1 200\r\n\r\n%PDF-1.4", "", "application/pdf"),
    ("docx", eml.docx(), "附件1.docx", DOCX),
    ("docx named .zip", eml.docx(), "推荐表.zip", DOCX),
    ("xlsx", _ooxml("xl"), "", XLSX),
    ("pptx", _ooxml("ppt"), "", PPTX),
    ("plain zip", archives.zip_bytes([("张三/推荐表.docx", eml.docx())]), "", "application/zip"),
    ("truncated docx", eml.docx()[:300], "", DOCX),
    ("word 97", eml.ole2("WordDocument", "1Table"), "推荐表.doc", "application/msword"),
    ("kingsoft wps", eml.ole2("WordDocument", "1Table"), "推荐表.wps", "application/wps-office.wps"),
    ("excel 97", eml.ole2("Workbook"), "汇总表.xls", "application/vnd.ms-excel"),
    ("kingsoft et", eml.ole2("Workbook"), "汇总表.et", "application/wps-office.et"),
    ("password docx", eml.ole2("EncryptionInfo", "EncryptedPackage"), "推荐表.docx", ENCRYPTED_OFFICE),
    ("ms works", eml.ole2("MatOST"), "old.wps", "application/vnd.ms-works"),
    ("rtf", b"{\\rtf1\\ansi\\ansicpg936", "", "application/rtf"),
    ("jpeg", eml.jpeg(), "photo.png", "image/jpeg"),
    ("png", eml.png(), "", "image/png"),
    ("gif", b"GIF89a\x01\x00\x01\x00", "", "image/gif"),
    ("bmp", b"BM" + b"\x36\x00\x00\x00" + b"\x00\x00\x00\x00" + b"\x36\x00\x00\x00" + b"\x28\x00\x00\x00"
     + b"\x00" * 40, "", "image/bmp"),
    ("text starting BM", b"BMW dealer list 2017\n", "", "text/plain"),
    ("tiff", b"II*\x00\x08\x00\x00\x00", "", "image/tiff"),
    ("webp", eml.riff(b"WEBP"), "", "image/webp"),
    ("iphone heic", eml.iso_bmff(b"heic", b"mif1", b"heic"), "IMG_0001.HEIC", "image/heic"),
    ("heif", eml.iso_bmff(b"mif1", b"mif1"), "", "image/heif"),
    ("avif", eml.iso_bmff(b"avif", b"mif1", b"avif"), "", "image/avif"),
    ("mp4 isom", eml.iso_bmff(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "", "video/mp4"),
    ("mp4 mp42", eml.iso_bmff(b"mp42", b"mp42", b"isom"), "", "video/mp4"),
    ("m4v", eml.iso_bmff(b"M4V ", b"M4V ", b"M4A "), "", "video/mp4"),
    ("mp4 by compatible brand only", eml.iso_bmff(b"dash", b"iso6", b"avc1"), "", "video/mp4"),
    ("iphone mov renamed mp4", eml.iso_bmff(b"qt  ", b"qt  "), "张三.mp4", "video/quicktime"),
    ("old mov without ftyp", b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "", "video/quicktime"),
    ("3gp listing isom", eml.iso_bmff(b"3gp4", b"isom", b"3gp4"), "", "video/3gpp"),
    ("avi renamed mp4", eml.riff(b"AVI "), "张三.mp4", "video/x-msvideo"),
    ("wav", eml.riff(b"WAVE"), "", "audio/wav"),
    ("wmv", b"0&\xb2u\x8ef\xcf\x11\xa6\xd9\x00\xaa\x00b\xcel", "", "video/x-ms-asf"),
    ("flv", b"FLV\x01\x05\x00\x00\x00\x09", "", "video/x-flv"),
    ("mpeg-ps", b"\x00\x00\x01\xba\x44\x00\x04\x00", "", "video/mpeg"),
    ("mpeg-ts", (b"\x47\x40\x00\x10" + b"\xff" * 184) * 4, "", "video/mp2t"),
    ("mkv", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "", "video/x-matroska"),
    ("webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "", "video/webm"),
    ("rar4", b"Rar!\x1a\x07\x00\xcf\x90\x73", "", "application/vnd.rar"),
    ("rar5", archives.rar5([("a.txt", b"a")]), "", "application/vnd.rar"),
    ("7z", archives.seven_zip([("a.txt", b"a")]), "", "application/x-7z-compressed"),
    ("gzip", b"\x1f\x8b\x08\x00", "", "application/gzip"),
    ("bzip2", b"BZh91AY&SY", "", "application/x-bzip2"),
    ("eml", eml.message(eml.text("x")), "转发.eml", "message/rfc822"),
    ("html", "<!DOCTYPE html><html><body>推荐</body></html>".encode("gbk"), "", "text/html"),
    ("gbk text", "姓名：张三\r\n性别：男\r\n".encode("gbk"), "", "text/plain"),
    ("utf-8 text", "姓名：张三\n".encode("utf-8"), "", "text/plain"),
    ("binary junk", bytes(range(256)) * 4, "x.docx", "application/octet-stream"),
    ("docx cut before word/", eml.docx()[:114], "推荐表.docx", DOCX),
    ("zip cut short", archives.zip_bytes([("a.txt", b"a" * 500)])[:200], "材料.zip", "application/zip"),
    ("empty", b"", "x.pdf", "application/octet-stream"),
]


@pytest.mark.parametrize("data, filename, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_sniffed_type(data, filename, expected):
    assert sniff(data, filename) == expected


def test_extensions_for_synthetic_names():
    assert extension_for(DOCX) == ".docx"
    assert extension_for("video/quicktime") == ".mov"
    assert extension_for("application/x-unknown") == ".bin"
