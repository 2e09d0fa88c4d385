"""Files written for staff (review copies, exports, forwards): private, inside their folder, never clobbered.

They hold personal data in full (CONTRACT §5), so folders are 0700 and files 0600, and a name
that came in a mail can neither climb out of its folder nor overwrite a sibling.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def safe_name(name: str, taken: set[str]) -> str:
    """A file name that stays inside its folder and does not overwrite a sibling."""
    clean = re.sub(r"[\\/\x00-\x1f]", "_", name).lstrip(".") or "file"
    candidate, number = clean, 2
    while candidate in taken:
        stem, dot, suffix = clean.rpartition(".")
        candidate = f"{stem}-{number}.{suffix}" if dot and stem else f"{clean}-{number}"
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


def clean_name(text: str) -> str:
    """A name from a mail or a form made fit for a file or folder name on any system staff use."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", text).strip(" .") or "未命名"
