"""Archives that senders attach come apart into named, foldered files, or are refused as unsafe."""

import os
import time
import zipfile
from pathlib import Path

import pytest

from campaigns.limits import Limits
from ingest.mime import parse_message
from ingest.sniff import DOCX
from testing.builders import archives, eml

MP4 = eml.iso_bmff(b"isom", b"isom", b"mp41") + b"\x00" * 2000


def _mail_with(archive: bytes, name: str = "推荐材料.zip", **kwargs):
    """Parse a QQ-Mail-style nomination carrying one archive as application/octet-stream."""
    body = eml.multipart("mixed", eml.text("请查收附件。"), eml.attachment(archive, f'filename="{eml.b_words(name, "gb18030")}"'))
    return parse_message(eml.message(body), **kwargs)


def _listing(message) -> list[tuple[tuple[str, ...], str, tuple[str, ...], str]]:
    return [(a.folder, a.filename, a.archive, a.media_type) for a in message.attachments]


def test_a_windows_zip_with_gbk_names_and_a_folder_per_person():
    entries = [
        ("沙坪坝区推荐材料/", b""),
        ("沙坪坝区推荐材料/张三/", b""),
        ("沙坪坝区推荐材料/张三/张三推荐表.docx", eml.docx()),
        ("沙坪坝区推荐材料/张三/工作照1.jpg", eml.jpeg(seed=1)),
        ("沙坪坝区推荐材料/李四/附件1-巴渝工匠推荐表（李四）.docx", eml.docx("李四")),
        ("沙坪坝区推荐材料/Thumbs.db", b"\xd0\xcf\x11\xe0junk"),
    ]
    message = _mail_with(archives.zip_bytes(entries, name_encoding="gbk"))
    assert _listing(message) == [
        (("沙坪坝区推荐材料", "张三"), "张三推荐表.docx", ("推荐材料.zip",), DOCX),
        (("沙坪坝区推荐材料", "张三"), "工作照1.jpg", ("推荐材料.zip",), "image/jpeg"),
        (("沙坪坝区推荐材料", "李四"), "附件1-巴渝工匠推荐表（李四）.docx", ("推荐材料.zip",), DOCX),
    ]
    assert message.attachments[0].path == "推荐材料.zip/沙坪坝区推荐材料/张三/张三推荐表.docx"
    assert message.unsafe == () and message.unreadable_archives == ()


@pytest.mark.parametrize("encoding", ["utf-8-noflag", "utf-8-flag"])
def test_utf8_zip_names_with_or_without_the_flag(encoding):
    message = _mail_with(archives.zip_bytes([("王五/王五推荐表.docx", eml.docx())], name_encoding=encoding))
    assert _listing(message) == [(("王五",), "王五推荐表.docx", ("推荐材料.zip",), DOCX)]


def test_macos_droppings_are_skipped():
    entries = [
        ("材料/张三推荐表.docx", eml.docx()),
        ("__MACOSX/材料/._张三推荐表.docx", b"\x00\x05\x16\x07"),
        ("材料/.DS_Store", b"\x00\x00\x00\x01Bud1"),
    ]
    assert [a.filename for a in _mail_with(archives.zip_bytes(entries)).attachments] == ["张三推荐表.docx"]


def test_nesting_three_deep_is_unpacked_with_the_whole_chain():
    message = _mail_with(archives.nested_zip(3, [("张三/张三推荐表.docx", eml.docx())]), "材料.zip")
    assert _listing(message) == [(("张三",), "张三推荐表.docx", ("材料.zip", "第2层.zip", "第3层.zip"), DOCX)]
    assert message.unsafe == ()


def test_nesting_four_deep_is_unsafe():
    message = _mail_with(archives.nested_zip(4, [("张三推荐表.docx", eml.docx())]), "材料.zip")
    (unsafe,) = message.unsafe
    assert (unsafe.reason, unsafe.entry, unsafe.figure) == ("nesting_too_deep", "第4层.zip", 4)
    assert unsafe.filename == "材料.zip/第2层.zip/第3层.zip"
    assert [a.filename for a in message.attachments] == ["第4层.zip"]  # kept, not opened


def test_a_200_megabyte_zip_bomb_is_stopped_early_by_its_ratio():
    bomb = archives.zeros_bomb("zeros.bin", 200 << 20)
    assert len(bomb) < 1_000_000
    started = time.perf_counter()
    message = _mail_with(bomb, "bomb.zip", limits=Limits(file_parse_memory_bytes=1 << 30))
    assert time.perf_counter() - started < 10
    (unsafe,) = message.unsafe
    assert (unsafe.filename, unsafe.reason, unsafe.entry) == ("bomb.zip", "compression_ratio", "zeros.bin")
    assert unsafe.figure > 100
    assert [a.filename for a in message.attachments] == ["bomb.zip"]  # nothing safely read: the archive stays


def test_a_ratio_bomb_in_7z_is_stopped_too():
    message = _mail_with(archives.seven_zip([("材料/zeros.bin", bytes(20 << 20))]), "材料.7z")
    assert [(u.reason, u.entry) for u in message.unsafe] == [("compression_ratio", "材料/zeros.bin")]


def test_the_total_unpacked_size_is_counted_over_the_whole_message():
    first = archives.zip_bytes([("a.bin", os.urandom(2_000_000))], method=zipfile.ZIP_STORED)
    second = archives.zip_bytes([("b.bin", os.urandom(2_000_000))], method=zipfile.ZIP_STORED)
    body = eml.multipart("mixed", eml.attachment(first, 'name="1.zip"'), eml.attachment(second, 'name="2.zip"'))
    message = parse_message(eml.message(body), limits=Limits(archive_total_bytes=3_000_000))
    assert [(u.filename, u.reason, u.entry) for u in message.unsafe] == [("2.zip", "total_too_large", "b.bin")]
    assert [a.filename for a in message.attachments] == ["a.bin", "2.zip"]


def test_more_entries_than_allowed_is_unsafe_and_what_came_before_is_kept():
    entries = [(f"照片{n}.jpg", eml.jpeg(seed=n)) for n in range(8)]
    message = _mail_with(archives.zip_bytes(entries), limits=Limits(archive_max_entries=5))
    (unsafe,) = message.unsafe
    assert (unsafe.reason, unsafe.entry, unsafe.figure) == ("too_many_entries", "照片5.jpg", 6)
    assert len(message.attachments) == 5


@pytest.mark.parametrize(
    "entry, reason",
    [("../../etc/passwd", "path_traversal"), ("/tmp/evil.sh", "absolute_path"), ("C:\\Windows\\evil.bat", "absolute_path")],
)
def test_entries_that_leave_the_archive_are_unsafe(entry, reason, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = _mail_with(archives.zip_bytes([("张三/张三推荐表.docx", eml.docx()), (entry, b"root:x:0:0")]))
    assert [(u.filename, u.reason, u.entry) for u in message.unsafe] == [("推荐材料.zip", reason, entry)]
    assert [a.filename for a in message.attachments] == ["张三推荐表.docx"]
    assert list(tmp_path.iterdir()) == []  # nothing was written anywhere


def test_a_7z_with_chinese_folders():
    entries = [("沙坪坝区推荐材料/王五/王五推荐表.docx", eml.docx()), ("沙坪坝区推荐材料/王五/事迹视频.mp4", MP4)]
    message = _mail_with(archives.seven_zip(entries), "推荐材料.7z")
    assert _listing(message) == [
        (("沙坪坝区推荐材料", "王五"), "王五推荐表.docx", ("推荐材料.7z",), DOCX),
        (("沙坪坝区推荐材料", "王五"), "事迹视频.mp4", ("推荐材料.7z",), "video/mp4"),
    ]


def test_a_rar5_with_chinese_folders():
    entries = [("沙坪坝/李四/李四推荐表.docx", eml.docx()), ("沙坪坝/李四/照片1.jpg", eml.jpeg())]
    message = _mail_with(archives.rar5(entries), "材料.rar")
    assert _listing(message) == [
        (("沙坪坝", "李四"), "李四推荐表.docx", ("材料.rar",), DOCX),
        (("沙坪坝", "李四"), "照片1.jpg", ("材料.rar",), "image/jpeg"),
    ]


def test_a_compressed_rar_without_any_tool_is_unsupported_and_kept(monkeypatch):
    import rarfile

    for tool in ("UNRAR_TOOL", "UNAR_TOOL", "BSDTAR_TOOL", "SEVENZIP_TOOL", "SEVENZIP2_TOOL"):
        monkeypatch.setattr(rarfile, tool, "/nonexistent/tool")
    monkeypatch.setattr(rarfile, "CURRENT_SETUP", None)
    message = _mail_with(archives.rar5([("推荐表.docx", eml.docx())], method=3), "材料.rar")
    assert [(u.filename, u.reason) for u in message.unreadable_archives] == [("材料.rar", "unsupported")]
    assert [a.filename for a in message.attachments] == ["材料.rar"]


def test_a_password_protected_zip_is_unreadable_but_still_material():
    protected = archives.zipcrypto_zip([("张三推荐表.docx", eml.docx())], b"123456")
    message = _mail_with(protected)
    assert [(u.filename, u.reason) for u in message.unreadable_archives] == [("推荐材料.zip", "encrypted")]
    assert [(a.filename, a.media_type) for a in message.attachments] == [("推荐材料.zip", "application/zip")]


def test_a_password_protected_7z_is_unreadable():
    import io

    import py7zr

    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w", password="123456") as archive:
        archive.writestr(eml.docx(), "张三推荐表.docx")
    message = _mail_with(buffer.getvalue(), "材料.7z")
    assert [u.reason for u in message.unreadable_archives] == ["encrypted"]
    assert [a.filename for a in message.attachments] == ["材料.7z"]


def test_a_corrupt_zip_keeps_what_was_read_and_the_archive_itself():
    good = eml.docx()
    entries = [("张三推荐表.docx", good), ("李四推荐表.docx", os.urandom(5000))]
    data = bytearray(archives.zip_bytes(entries, method=zipfile.ZIP_STORED))
    data[len(data) // 2 + 1000] ^= 0xFF  # inside the second member: its CRC no longer matches
    message = _mail_with(bytes(data))
    assert [(u.filename, u.reason) for u in message.unreadable_archives] == [("推荐材料.zip", "corrupt")]
    assert [a.filename for a in message.attachments] == ["推荐材料.zip", "张三推荐表.docx"]


def test_a_truncated_zip_is_corrupt():
    data = archives.zip_bytes([("张三推荐表.docx", eml.docx())])
    message = _mail_with(data[: len(data) // 2])
    assert [u.reason for u in message.unreadable_archives] == ["corrupt"]
    assert [a.filename for a in message.attachments] == ["推荐材料.zip"]


def test_an_archive_of_empty_folders_stays_as_material():
    message = _mail_with(archives.zip_bytes([("张三/", b""), ("李四/", b"")]))
    assert [a.filename for a in message.attachments] == ["推荐材料.zip"]
    assert message.unsafe == () and message.unreadable_archives == ()


def test_an_archive_that_takes_too_long_costs_one_finding():
    # enough work that no child can finish it within the limit, however idle the machine
    many = archives.zip_bytes([(f"{i}/照片.txt", os.urandom(2000)) for i in range(900)])
    message = _mail_with(many, limits=Limits(file_parse_seconds=0.001))
    assert [(u.filename, u.reason) for u in message.unreadable_archives] == [("推荐材料.zip", "timeout")]
    assert [a.filename for a in message.attachments] == ["推荐材料.zip"]


def test_no_scratch_folder_is_left_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    _mail_with(archives.rar5([("a.jpg", eml.jpeg())]), "a.rar")
    assert list(Path(tmp_path).iterdir()) == []
