"""Disks that fill up, for the fault tests: a small real tmpfs, and where mounting is not allowed,
an `intake` whose blob store sees a disk of a given size; and an `intake` killed halfway through
making its database."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass
class Tmpfs:
    path: Path
    mounted: bool
    why_not: str = ""

    def resize(self, size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True, capture_output=True)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Tmpfs]:
    """A tmpfs of `size` on `path` (made if missing), always unmounted at the end; `mounted` is
    False, with the reason, where this process may not mount."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        yield Tmpfs(path, False, (done.stderr or done.stdout).strip() or f"mount exited {done.returncode}")
        return
    try:
        yield Tmpfs(path, True)
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


FREE_BYTES_ENV = "FAULTS_BLOB_FREE_BYTES"
# `python -c FULL_DISK_LAUNCHER ARGS…` is `intake ARGS…` whose blob store sees a disk with
# $FAULTS_BLOB_FREE_BYTES free: writes beyond it get ENOSPC, as the kernel would answer
FULL_DISK_LAUNCHER = "from testing.disks import blob_disk_of_env; blob_disk_of_env(); from cli.main import main; main()"


def blob_disk_of_env() -> None:
    import storage.blobs

    capacity = int(os.environ[FREE_BYTES_ENV])
    real = storage.blobs.os

    class Limited:
        """A file whose writes stop where the pretend disk is full, having written what fitted."""

        def __init__(self, handle, root: Path):
            self.handle, self.root = handle, root

        def write(self, data: bytes) -> int:
            used = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
            room = max(0, capacity - used)
            if len(data) > room:
                self.handle.write(data[:room])
                self.handle.flush()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.handle.write(data)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    class DiskOfLimitedSize:
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def fdopen(descriptor, *args, **kwargs):
            path = Path(real.readlink(f"/proc/self/fd/{descriptor}"))
            return Limited(real.fdopen(descriptor, *args, **kwargs), path.parent.parent)

    storage.blobs.os = DiskOfLimitedSize()


# `python -c MIGRATION_KILL_LAUNCHER ARGS…` is `intake ARGS…` killed by SIGKILL right after the
# $FAULTS_DIE_AFTER_TABLES-th CREATE TABLE of its first migration, halfway through making the database
DIE_AFTER_TABLES_ENV = "FAULTS_DIE_AFTER_TABLES"
MIGRATION_KILL_LAUNCHER = "from testing.disks import die_in_migration; die_in_migration(); from cli.main import main; main()"


def die_in_migration() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    created = Counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _die(_connection, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created["tables"] += 1
            if created["tables"] == int(os.environ[DIE_AFTER_TABLES_ENV]):
                os.kill(os.getpid(), signal.SIGKILL)
