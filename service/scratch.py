"""Temporary files under the data folder, never in /tmp: nominees' material stays where `purge` reaches.

Parsers write pieces of what they read to temporary files: a video for ffprobe, a .doc and its
LibreOffice profile for the conversion, OCR's pages, the spawned child's scratch folder. They use
Python's `tempfile` and hand TMPDIR to the programs they start, so the runtime points both at a
folder of this process's own, `<data_path>/tmp/<pid>-<random>/` (mode 0700), for itself and
every child, without the parsers knowing the data folder (they are layers below the service).

A process killed with SIGKILL removes nothing. Each folder holds a lock file its process keeps
locked (flock, released by the kernel when the process dies, also by SIGKILL); at every start the
folders whose lock is free are removed, so nothing outlives the next start.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

OWNER_FILE = ".owner"
_mine: Path | None = None
_held: int | None = None  # the descriptor whose flock says the folder is in use


def use_private_tmp(data_path: Path) -> Path:
    """This process's temporary folder under `data_path/tmp` (made once), after sweeping dead ones."""
    global _mine, _held
    root = Path(data_path) / "tmp"
    if _mine is not None and _mine.parent == root and _mine.is_dir():
        return _mine
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)
    sweep(root)
    folder = root / f"{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir(mode=0o700)
    descriptor = os.open(folder / OWNER_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    _mine, _held = folder, descriptor
    for name in ("TMPDIR", "TEMP", "TMP"):
        os.environ[name] = str(folder)
    tempfile.tempdir = str(folder)
    atexit.register(_remove_mine, folder)
    return folder


def sweep(root: Path, grace_seconds: float = 60.0) -> list[Path]:
    """Remove the folders of processes that are gone (their lock is free); what was removed."""
    removed = []
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        if entry == _mine:
            continue
        if entry.is_dir() and _abandoned(entry, grace_seconds):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        elif entry.is_file() and time.time() - entry.stat().st_mtime > grace_seconds:
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _abandoned(folder: Path, grace_seconds: float) -> bool:
    try:
        descriptor = os.open(folder / OWNER_FILE, os.O_RDWR)
    except FileNotFoundError:
        # made by a process killed before it locked it: gone after a grace period
        return time.time() - folder.stat().st_mtime > grace_seconds
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)  # closing drops the lock taken just now
    return True


def _remove_mine(folder: Path) -> None:
    if os.getpid() != int(folder.name.split("-", 1)[0]):
        return  # a forked child exiting: the folder is its parent's
    shutil.rmtree(folder, ignore_errors=True)
