"""Archives as senders make them: GBK zips from Chinese Windows, password zips, bombs, 7z, rar."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Iterable

Entry = tuple[str, bytes]


class _RawNameInfo(zipfile.ZipInfo):
    """A ZipInfo whose name goes to disk as given bytes, without the UTF-8 flag (bit 11).

    `filename` holds the bytes read as cp437, which is how zipfile itself reads them back.
    """

    __slots__ = ()

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits


def zip_bytes(entries: Iterable[Entry], *, name_encoding: str = "utf-8-flag", method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, data) entries; names ending in "/" are folder entries.

    name_encoding: "utf-8-flag" (what zipfile and modern tools do), "gbk" (Windows' built-in
    zip and WinRAR on a Chinese system: GBK bytes, no flag) or "utf-8-noflag" (some Linux
    and Java tools: UTF-8 bytes, no flag).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries:
            archive.writestr(_info(name, name_encoding, method), data)
    return buffer.getvalue()


def _info(name: str, name_encoding: str, method: int) -> zipfile.ZipInfo:
    if name_encoding == "utf-8-flag":
        info = zipfile.ZipInfo(name, date_time=(2017, 4, 10, 9, 30, 0))
    else:
        raw = name.encode("gbk" if name_encoding == "gbk" else "utf-8")
        info = _RawNameInfo(raw.decode("cp437"), date_time=(2017, 4, 10, 9, 30, 0))
    info.compress_type = method
    if name.endswith("/"):
        info.external_attr = 0o40775 << 16 | 0x10
    return info


def zipcrypto_zip(entries: Iterable[Entry], password: bytes) -> bytes:
    """A zip protected with traditional PKWARE encryption, as WinRAR's "set password" makes."""
    records = []
    for name, data in entries:
        crc = zlib.crc32(data)
        header = bytes(11) + bytes([crc >> 24 & 0xFF])  # the last byte lets readers check the password
        records.append((name.encode("utf-8"), 0x1 | 0x800, 0, crc, _ZipCrypto(password).encrypt(header + data), len(data)))
    return _raw_zip(records)


def _raw_zip(records: list[tuple[bytes, int, int, int, bytes, int]]) -> bytes:
    """A zip written record by record: (raw name, flags, method, crc, packed bytes, unpacked size)."""
    local, central = b"", b""
    for raw_name, flags, method, crc, packed, size in records:
        offset = len(local)
        local += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 0x4A8A, crc, len(packed), size,
                             len(raw_name), 0)
        local += raw_name + packed
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, method, 0, 0x4A8A, crc, len(packed), size,
            len(raw_name), 0, 0, 0, 0, 0, offset,
        ) + raw_name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(records), len(records), len(central), len(local), 0)
    return local + central + end


class _ZipCrypto:
    def __init__(self, password: bytes):
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    def _crc(self, crc: int, byte: int) -> int:
        return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def _update(self, byte: int) -> None:
        self.keys[0] = self._crc(self.keys[0], byte)
        self.keys[1] = (self.keys[1] + (self.keys[0] & 0xFF)) & 0xFFFFFFFF
        self.keys[1] = (self.keys[1] * 134775813 + 1) & 0xFFFFFFFF
        self.keys[2] = self._crc(self.keys[2], self.keys[1] >> 24)

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (self.keys[2] | 2) & 0xFFFF
            out.append(byte ^ ((temp * (temp ^ 1)) >> 8) & 0xFF)
            self._update(byte)
        return bytes(out)


def zeros_bomb(name: str, unpacked_bytes: int) -> bytes:
    """A zip with one entry of `unpacked_bytes` zeros, deflated in a stream: 200 MB takes
    about a second to build and a few hundred KB to hold."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 20)
    packed = []
    crc = 0
    for _ in range(unpacked_bytes // len(block)):
        packed.append(compressor.compress(block))
        crc = zlib.crc32(block, crc)
    packed.append(compressor.flush())
    return _raw_zip([(name.encode("utf-8"), 0, 8, crc, b"".join(packed), unpacked_bytes)])


def seven_zip(entries: Iterable[Entry]) -> bytes:
    import py7zr

    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w") as archive:
        for name, data in entries:
            archive.writestr(data, name)
    return buffer.getvalue()


def _vint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _rar5_block(kind: int, fields: bytes, data: bytes = b"") -> bytes:
    flags = 0x2 if data else 0
    body = _vint(kind) + _vint(flags) + (_vint(len(data)) if data else b"") + fields
    sized = _vint(len(body)) + body
    return struct.pack("<I", zlib.crc32(sized)) + sized + data


def rar5(entries: Iterable[Entry], *, method: int = 0) -> bytes:
    """A RAR 5 archive of stored members (method 0), which rarfile reads without any tool.

    With another method the data are not really compressed: enough to make a reader
    reach for its external tool.
    """
    out = b"Rar!\x1a\x07\x01\x00" + _rar5_block(1, _vint(0))
    for name, data in entries:
        raw_name = name.encode("utf-8")
        file_flags = 0x4  # CRC32 present
        fields = (
            _vint(file_flags) + _vint(len(data)) + _vint(0x20) + struct.pack("<I", zlib.crc32(data))
            + _vint(method << 7) + _vint(1) + _vint(len(raw_name)) + raw_name
        )
        out += _rar5_block(2, fields, data)
    return out + _rar5_block(5, _vint(0))


def nested_zip(depth: int, innermost: Iterable[Entry]) -> bytes:
    """A zip inside a zip … `depth` levels in all; level n is named 第n层.zip inside its parent."""
    data = zip_bytes(innermost)
    for level in range(depth - 1, 0, -1):
        data = zip_bytes([(f"第{level + 1}层.zip", data)])
    return data
