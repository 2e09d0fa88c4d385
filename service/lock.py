"""Polls never overlap, even across processes: a lock file in the data folder, and on PostgreSQL
an advisory lock too, so that two machines sharing one database cannot file the same mail."""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from pathlib import Path
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Engine


class Busy(Exception):
    """Another process holds the lock; this poll is skipped, nothing is lost."""


@contextlib.contextmanager
def exclusive(data_path: Path, engine: Engine, name: str) -> Iterator[None]:
    data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(data_path / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"另一个 intake 进程正在执行 {name}") from None
        with _database_lock(engine, name):
            yield
    finally:
        os.close(descriptor)  # closing releases the flock


@contextlib.contextmanager
def _database_lock(engine: Engine, name: str) -> Iterator[None]:
    if engine.dialect.name != "postgresql":
        yield
        return
    key = zlib.crc32(f"intake:{name}".encode())
    with engine.connect() as connection:
        if not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            raise Busy(f"另一台机器上的 intake 正在执行 {name}")
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
