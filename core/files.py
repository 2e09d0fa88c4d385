"""Files written for staff (review copies, exports, forwards): private, inside their folder, never clobbered.

They hold personal data in full (CONTRACT §5), so folders are 0700 and files 0600, and a name
that came in a mail can neither climb out of its folder nor overwrite a sibling. Names are cut
to a byte budget: file systems allow 255 bytes, and a 200-character Chinese name is 600.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from core import inert

# bytes of UTF-8 for one file or folder name: below the 255 of ext4, XFS and NTFS, with room for
# what copying tools add (" (2)", ".part") and for a zip tool that writes names in GB18030
NAME_BYTES = 200
_EXTENSION_BYTES = 16  # a longer "extension" is part of the name, cut with it


def fit(stem: str, tail: str = "", budget: int = NAME_BYTES) -> str:
    """`stem` cut so that stem + tail fits in `budget` bytes; the tail (an extension, "-照片1.jpg") whole."""
    room = budget - len(tail.encode("utf-8"))
    return inert.cut_bytes(stem, room).rstrip(" .") + tail


def safe_name(name: str, taken: set[str]) -> str:
    """A file name that stays inside its folder, does not overwrite a sibling, and fits the budget
    with its extension kept."""
    clean = re.sub(r"[\\/]", "_", inert.one_line(name)).lstrip(".") or "file"
    stem, dot, suffix = clean.rpartition(".")
    if not (dot and stem and len(suffix.encode("utf-8")) <= _EXTENSION_BYTES):
        stem, suffix = clean, ""
    extension = f".{suffix}" if suffix else ""
    candidate, number = fit(stem, extension), 2
    while candidate in taken:
        candidate = fit(stem, f"-{number}{extension}")
        number += 1
    taken.add(candidate)
    return candidate


def private_folder(path: Path) -> Path:
    """A folder only the service's user may enter (CONTRACT §5), its parents created the same way."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def clean_name(text: str, tail: str = "") -> str:
    """A name from a mail or a form made fit for a file or folder name on any system staff use:
    one line, no control or bidi character, no separator, cut to NAME_BYTES from the end (put
    what must stay, the intake number, first), with `tail` ("-照片1.jpg") kept whole."""
    clean = re.sub(r'[\\/:*?"<>|]', "_", inert.one_line(text)).strip(" .") or "未命名"
    return fit(clean, tail)
