"""Hostile archives through the whole judge: never raise, hang, hide an error of ours or write a file.

Layouts senders and attackers make: GBK names without the UTF-8 flag, Info-ZIP Unicode
path fields that disagree with the name, archives in archives, ../ and absolute names,
symlinks, the same name twice, entries that claim sizes they do not have, ratio bombs,
overlapping entries (one packed stream behind many names), too many entries, empty,
truncated and damaged archives, password-protected ones, archives in forwarded mails. Zip,
7z and rar are unpacked in the sandbox's forked child; the guard (tests/hostile.py) also
sees what that child writes. Run with -s for the tally per strategy.

Examples: CI (CI=true) runs a fixed, derandomized set; HOSTILE_EXAMPLES=N runs N per test.
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.limits import Limits
from testing.builders import archives, eml
from testing.hostile import PROFILE, Guard, Tally, hostile_settings

HOSTILE = hostile_settings("hostile-archives")
TALLY = Tally()
# the same campaign with archive limits small enough that bombs and floods cost milliseconds
TIGHT = PROFILE.model_copy(update={"limits": Limits(
    archive_total_bytes=400_000, archive_max_entries=25, archive_max_depth=3, archive_max_ratio=50.0,
    archive_ratio_min_bytes=20_000)})


@pytest.fixture(scope="module", autouse=True)
def _print_tally():
    yield
    print("\n" + "\n".join(TALLY.lines("hostile archives")))


@pytest.fixture
def guard(tmp_path, monkeypatch):
    return Guard(tmp_path, monkeypatch, TALLY)


# --- entries --------------------------------------------------------------------------------

CJK = st.sampled_from(["张三", "李四", "推荐表", "巴渝工匠推荐表（张三）", "工作照1", "事迹材料", "沙坪坝区", "鐵匠", "𠀀"])
EXTENSION = st.sampled_from([".docx", ".jpg", ".pdf", ".zip", ".7z", ".rar", ".txt", ".mp4", ""])
SAFE_NAME = st.tuples(st.lists(CJK, max_size=3), CJK, EXTENSION).map(lambda t: "/".join([*t[0], t[1] + t[2]]))
HOSTILE_NAME = st.sampled_from([
    "../推荐表.docx", "../../../../etc/cron.d/x", "a/../../b.txt", "..\\..\\win.ini", "/etc/passwd", "\\abs.txt",
    "C:\\Windows\\x.dll", "C:x.txt", "a/./b.txt", "", "/", "a//b.txt", "a\x00b.docx", "\u202egpj.exe", " .. /x.txt",
    "a/ ../b.txt", "__MACOSX/张三/._推荐表.docx", "张三/.DS_Store", "Thumbs.db", "x" * 5000 + ".docx", "文件夹/",
    "./", "..", "...", "a\\b\\c.docx", "CON", "nul.txt",
])
ENTRY_NAME = st.one_of(SAFE_NAME, SAFE_NAME, HOSTILE_NAME)
FILES = {
    "docx": eml.docx(),
    "jpeg": eml.jpeg(),
    "text": "巴渝工匠推荐表 姓名：张三".encode("gbk"),
    "empty": b"",
    "mp4": eml.iso_bmff(b"isom", b"isom", b"mp41") + bytes(100),
    "pdf": b"%PDF-1.4\n%%EOF",
}
FILE_DATA = st.one_of(st.sampled_from(sorted(FILES)).map(FILES.get), st.binary(max_size=300))


def _zip(entries, encoding: str, method: int) -> bytes:
    if encoding == "gbk" and not all(_gbk_ok(name) for name, _ in entries):
        encoding = "utf-8-noflag"  # a name GBK cannot hold is written as UTF-8, as such tools do
    return archives.zip_bytes(entries, name_encoding=encoding, method=method)


def _gbk_ok(name: str) -> bool:
    try:
        name.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


def _seven_zip(entries) -> bytes | None:
    try:
        return archives.seven_zip(entries)
    except Exception:  # noqa: BLE001 - py7zr refuses to write unsafe names: those go in a zip instead
        return None


@st.composite
def pack(draw, entries) -> bytes:
    """One archive of (name, bytes) entries in a format and name encoding drawn here."""
    kind = draw(st.sampled_from(["zip", "zip", "zip-stored", "7z", "rar", "zipcrypto", "7z-password"]))
    if kind == "7z":
        made = _seven_zip(entries)
        if made is not None:
            return made
    if kind == "7z-password":
        import py7zr

        buffer = io.BytesIO()
        try:
            with py7zr.SevenZipFile(buffer, "w", password="x") as archive:
                for name, data in entries:
                    archive.writestr(data, name)
            return buffer.getvalue()
        except Exception:  # noqa: BLE001 - zipfile refuses some names: that layout is skipped
            pass
    if kind == "rar":
        return archives.rar5(entries, method=draw(st.sampled_from([0, 0, 3])))
    if kind == "zipcrypto":
        return archives.zipcrypto_zip(entries, b"x")
    encoding = draw(st.sampled_from(["gbk", "utf-8-noflag", "utf-8-flag"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of duplicate names, which are meant
        return _zip(entries, encoding, zipfile.ZIP_STORED if kind == "zip-stored" else zipfile.ZIP_DEFLATED)


def nested_archive():
    """An archive whose entries may be archives in turn, a few levels deep."""
    return st.recursive(
        FILE_DATA,
        lambda inner: st.lists(st.tuples(ENTRY_NAME, inner), max_size=5).flatmap(pack),
        max_leaves=10,
    ).filter(lambda data: isinstance(data, bytes))


# a place in the archive, drawn from a range that does not depend on its length: an encrypted
# archive carries a random salt, so the same draw packs to a byte more or less, and a range that
# followed the length made hypothesis see two different strategies (FlakyStrategyDefinition)
_PLACE = st.integers(0, 1 << 20)


@st.composite
def damaged(draw, data: bytes) -> bytes:
    how = draw(st.sampled_from(["none", "none", "truncate", "flip", "prefix", "suffix", "zero-tail"]))
    if how == "truncate" and data:
        return data[: draw(_PLACE) % len(data)]
    if how == "flip" and data:
        buffer = bytearray(data)
        for at in draw(st.lists(_PLACE, min_size=1, max_size=6)):
            buffer[at % len(data)] ^= draw(st.integers(1, 255))
        return bytes(buffer)
    if how == "prefix":  # a self-extractor's stub before the archive
        return b"MZ" + bytes(draw(st.integers(0, 2000))) + data
    if how == "suffix":
        return data + draw(st.binary(max_size=200))
    if how == "zero-tail" and data:
        return data[: len(data) // 2] + bytes(len(data) - len(data) // 2)
    return data


# --- hand-made records that no archiver writes ------------------------------------------------


def _raw(records) -> bytes:
    return archives._raw_zip(records)


@st.composite
def lying_sizes(draw) -> bytes:
    """Entries whose headers claim sizes, CRCs or methods they do not have."""
    records = []
    for index in range(draw(st.integers(1, 4))):
        data = draw(FILE_DATA)
        method = draw(st.sampled_from([0, 8, 12, 14, 99]))
        packed = zlib.compress(data)[2:-4] if method == 8 else data
        size = draw(st.sampled_from([len(data), 0, 0xFFFFFFFF, 2**31, len(data) * 1000, 1]))
        crc = draw(st.sampled_from([zlib.crc32(data), 0, 0xDEADBEEF]))
        records.append((f"张三/{index}.docx".encode("gbk"), 0, method, crc, packed, size))
    return _raw(records)


@st.composite
def overlapping(draw) -> bytes:
    """The "better zip bomb": many central-directory records pointing at one packed stream."""
    unpacked = draw(st.integers(10_000, 200_000))
    stream = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = stream.compress(bytes(unpacked)) + stream.flush()
    crc = zlib.crc32(bytes(unpacked))
    name = b"0.txt"
    header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x4A8A, crc, len(packed), unpacked, len(name), 0)
    local = header + name + packed
    copies = draw(st.integers(2, 60))
    central = b""
    for index in range(copies):
        entry = f"{index}.txt".encode()
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x4A8A, crc, len(packed), unpacked,
                               len(entry), 0, 0, 0, 0, 0, 0) + entry
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, copies, copies, len(central), len(local), 0)
    return local + central + end


@st.composite
def declared_flood(draw) -> bytes:
    """An end record claiming far more entries than are there, or than we ever read."""
    declared = draw(st.sampled_from([0, 1, 26, 1000, 65535]))
    body = _zip([("a.txt", b"x")], "utf-8-flag", zipfile.ZIP_DEFLATED)
    end = body.rfind(b"PK\x05\x06")
    return body[:end + 8] + struct.pack("<HH", declared, declared) + body[end + 12:]


@st.composite
def symlinks(draw) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for index in range(draw(st.integers(1, 3))):
            info = zipfile.ZipInfo(draw(st.sampled_from(["link", f"张三/link{index}", "推荐表.docx", "../up"])))
            info.external_attr = (0o120777 << 16)
            package.writestr(info, draw(st.sampled_from(["/etc/passwd", "../../../../etc/shadow", "/work/main/README.md", "."])))
        if draw(st.booleans()):
            package.writestr("张三/推荐表.docx", eml.docx())
    return buffer.getvalue()


@st.composite
def unicode_path_field(draw) -> bytes:
    """A harmless raw name whose Info-ZIP Unicode path field (0x7075) says something else."""
    raw_name = draw(st.sampled_from(["a.txt", "推荐表.docx"])).encode("gbk")
    claimed = draw(st.one_of(HOSTILE_NAME, SAFE_NAME)).encode("utf-8", "surrogatepass")
    crc = draw(st.sampled_from([zlib.crc32(raw_name), 0]))
    body = b"\x01" + struct.pack("<I", crc) + claimed
    extra = struct.pack("<HH", 0x7075, min(len(body), 0xFFFF)) + body[:0xFFFF]
    info = archives._RawNameInfo(raw_name.decode("cp437"), date_time=(2017, 4, 10, 9, 30, 0))
    info.extra = extra if len(extra) < 0xFFFF else b""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(info, FILES["docx"])
    return buffer.getvalue()


@st.composite
def duplicates(draw) -> bytes:
    name = draw(ENTRY_NAME)
    entries = [(name, draw(FILE_DATA)) for _ in range(draw(st.integers(2, 5)))]
    return draw(pack(entries))


EMPTY = st.sampled_from([
    b"PK\x05\x06" + bytes(18),  # a zip with no entries
    archives.seven_zip([]),
    archives.rar5([]),
    b"PK\x03\x04",  # a zip cut after its first signature
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07\x01\x00",
    b"Rar!\x1a\x07\x00" + bytes(20),  # RAR 4 header, nothing after
])


# --- how an archive reaches us ----------------------------------------------------------------

ARCHIVE_NAME = st.sampled_from(["推荐材料.zip", "材料.7z", "材料.rar", "附件", "推荐表.docx", "../x.zip", "照片.jpg"])


@st.composite
def mail_with(draw, archive: bytes) -> bytes:
    """A mail carrying the archive, itself sometimes inside one or two forwarded mails."""
    name = draw(ARCHIVE_NAME)
    params = f'name="{eml.b_words(name, "gb18030")}"'
    body = eml.multipart("mixed", eml.text("请查收附件。"), eml.attachment(archive, params))
    for level in range(draw(st.sampled_from([0, 0, 1, 2]))):
        body = eml.multipart("mixed", eml.text("转发"), eml.forwarded(eml.message(body, message_id=f"<fw{level}@x>")))
    if draw(st.integers(0, 4)) == 0:  # a second copy of the same archive beside it
        body = eml.multipart("mixed", body, eml.attachment(archive, 'name="again.zip"'))
    return eml.message(body)


def _judge(guard, strategy: str, raw: bytes, tight: bool) -> None:
    guard.judge(raw, strategy + (" (tight limits)" if tight else ""), TIGHT if tight else None)


# --- the properties ----------------------------------------------------------------------------


@HOSTILE
@given(data=st.data(), archive=nested_archive().flatmap(damaged), tight=st.booleans())
def test_nested_and_damaged_archives_are_judged_cleanly(guard, data, archive, tight):
    _judge(guard, "nested/damaged", data.draw(mail_with(archive)), tight)


@HOSTILE
@given(data=st.data(), entries=st.lists(st.tuples(ENTRY_NAME, FILE_DATA), min_size=1, max_size=6), tight=st.booleans())
def test_hostile_entry_names_are_judged_cleanly(guard, data, entries, tight):
    _judge(guard, "entry names", data.draw(mail_with(data.draw(pack(entries)))), tight)


@HOSTILE
@given(data=st.data(), archive=st.one_of(lying_sizes(), overlapping(), declared_flood(), symlinks(), unicode_path_field(),
                                         duplicates(), EMPTY), tight=st.booleans())
def test_hand_made_zip_records_are_judged_cleanly(guard, data, archive, tight):
    _judge(guard, "hand-made records", data.draw(mail_with(archive)), tight)


@HOSTILE
@given(data=st.data(), unpacked=st.integers(100_000, 3_000_000), levels=st.integers(1, 5), tight=st.booleans())
def test_ratio_bombs_at_any_depth_are_judged_cleanly(guard, data, unpacked, levels, tight):
    archive = archives.zeros_bomb("推荐表.docx", unpacked - unpacked % (1 << 20) or (1 << 20))
    for level in range(levels - 1):
        archive = data.draw(pack([(f"第{level}层.zip", archive), ("张三/推荐表.docx", FILES["docx"])]))
    _judge(guard, "ratio bombs", data.draw(mail_with(archive)), tight)


@HOSTILE
@given(data=st.data(), count=st.integers(1, 80), tight=st.just(True))
def test_many_entries_are_judged_cleanly(guard, data, count, tight):
    entries = [(f"张三/{index}.txt", b"x") for index in range(count)]
    _judge(guard, "many entries", data.draw(mail_with(data.draw(pack(entries)))), tight)


# --- minimal inputs found by the strategies (kept as plain examples) --------------------------
