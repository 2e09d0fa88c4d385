"""File names out of MIME parameters and archive entries, decoded however they were written."""

from __future__ import annotations

import re
import unicodedata
import zipfile
import zlib
from email.message import Message as MimePart

from ingest import charsets
from ingest.headers import decode_words

# C0/C1 controls and the bidi overrides that make "gpj.exe" read as "exe.jpg"
_UNWANTED = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_JUNK_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
_JUNK_FOLDERS = {"__macosx"}


def clean(name: str) -> str:
    """A name fit to show and store: NFC, no control characters, no surrounding blanks."""
    return unicodedata.normalize("NFC", _UNWANTED.sub("", name)).strip()


def base_name(name: str) -> str:
    """The last real path component of a name; MIME names keep no folders ("..\\..\\x.doc" → "x.doc")."""
    components = [c for c in re.split(r"[\\/]", clean(name)) if c.strip() not in ("", ".", "..")]
    return components[-1].strip() if components else ""


def _param_text(value: str | tuple, hint: str | None) -> str:
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded latin-1 text)
        charset, _language, text = value
        raw = text.encode("latin-1", "surrogateescape") if _latin1(text) else charsets.to_bytes(text)
        return charsets.decode(raw, charset or hint)[0]
    # Not allowed in a parameter, sent by every Chinese mailer anyway: RFC 2047 words, raw 8-bit
    return decode_words(value, hint)


def _latin1(text: str) -> bool:
    return all(ord(char) < 256 or "\udc80" <= char <= "\udcff" for char in text)


def _params(part: MimePart, header: str) -> list[tuple[str, str | tuple]]:
    try:
        return part.get_params(header=header, failobj=[]) or []
    except Exception:  # noqa: BLE001 - a parameter list broken beyond what the email package tolerates
        return []


def part_filename(part: MimePart, hint: str | None = None) -> str:
    """A MIME part's file name: Content-Disposition filename, else Content-Type name; "" if none.

    RFC 2231 values win over plain ones when both are given, as the RFC intends.
    """
    for header, key in (("content-disposition", "filename"), ("content-type", "name")):
        values = [value for name, value in _params(part, header)[1:] if name.lower() == key]
        values.sort(key=lambda value: not isinstance(value, tuple))
        for value in values:
            name = base_name(_param_text(value, hint))
            if name:
                return name
    return ""


def zip_entry_name(info: zipfile.ZipInfo) -> str:
    """A zip entry's name as the sender saw it.

    Without the UTF-8 flag (bit 11), Python reads the bytes as cp437, but Chinese Windows
    zips them as GBK, and some tools write UTF-8 without setting the flag. The Info-ZIP
    Unicode Path field (0x7075), when its checksum matches, is the most reliable of all.
    """
    if info.flag_bits & 0x800:
        return clean(info.filename)
    raw = info.filename.encode("cp437", "replace")
    from_extra = _unicode_path_field(info.extra, info.orig_filename.encode("cp437", "replace"))
    if from_extra is not None:
        return clean(from_extra)
    if raw.isascii():
        return clean(info.filename)
    return clean(charsets.decode(raw, None)[0])


def _unicode_path_field(extra: bytes, raw_name: bytes) -> str | None:
    position = 0
    while position + 4 <= len(extra):
        tag = int.from_bytes(extra[position : position + 2], "little")
        size = int.from_bytes(extra[position + 2 : position + 4], "little")
        body = extra[position + 4 : position + 4 + size]
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            if int.from_bytes(body[1:5], "little") == zlib.crc32(raw_name):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
        position += 4 + size
    return None


def entry_problem(name: str) -> str | None:
    """"path_traversal" or "absolute_path" when an archive entry's name would leave its folder."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute_path"
    if any(component.strip() == ".." for component in re.split(r"[\\/]", name)):
        return "path_traversal"
    return None


def split_entry(name: str) -> tuple[tuple[str, ...], str]:
    """(folders, file name) of a safe archive entry name; both separators count."""
    components = [clean(c) for c in re.split(r"[\\/]", name)]
    components = [c for c in components if c and c != "."]
    if not components:
        return (), ""
    return tuple(components[:-1]), components[-1]


def is_junk(folders: tuple[str, ...], filename: str) -> bool:
    """macOS resource forks and Finder/Explorer droppings that nobody meant to send."""
    if any(folder.lower() in _JUNK_FOLDERS for folder in folders):
        return True
    return filename.startswith("._") or filename.lower() in _JUNK_FILES


def is_directory_entry(name: str) -> bool:
    return name.endswith(("/", "\\"))


def synthetic(number: int, extension: str) -> str:
    """The name given to a file that came without one: 未命名附件1.jpg."""
    return f"未命名附件{number}{extension}"
