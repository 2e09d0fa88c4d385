"""Jobs never overlap, even across processes and machines: a lock file in the data folder, and on
PostgreSQL an advisory lock too, so that two machines sharing one database (failover) cannot
file the same mail or send the same reply.

One lock per mailbox and job (`poll:<account>/<folder>`, `send:<campaign>`), never one for the
whole database: a Wuhan poll must not stop a Chongqing poll on another mailbox. The advisory lock
is a session lock held on a connection in autocommit, so no transaction stays open while it is
held (`idle_in_transaction_session_timeout` killed the old one's connection mid-poll: the poll
filed everything, then died on `pg_advisory_unlock` and left the replies unsent). The connection
asks the server to notice a dead peer within about a minute (TCP keepalives, `tcp_user_timeout`),
so when a machine dies its locks go with it and the other machine takes over.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import time
from pathlib import Path
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("intake")

# the server drops a silent client after ~20 s idle + 4 probes 5 s apart; unacknowledged data after 30 s
_SESSION_SETTINGS = ("SET tcp_keepalives_idle = 20", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 4",
                     "SET tcp_user_timeout = 30000", "SET idle_session_timeout = 0",
                     "SET idle_in_transaction_session_timeout = 0")
CHECK_EVERY_SECONDS = 5.0


class Busy(Exception):
    """Another process holds the lock; this run is skipped, nothing is lost."""


class Held:
    """A lock in hand. `lost()` says whether the database dropped it (its connection died): the
    work in hand then stops between two messages, since another machine may take over."""

    def __init__(self, connection: Connection | None = None):
        self._connection = connection
        self._checked = time.monotonic()
        self._lost = False

    def lost(self) -> bool:
        if self._connection is None or self._lost:
            return self._lost
        if time.monotonic() - self._checked < CHECK_EVERY_SECONDS:
            return False
        self._checked = time.monotonic()
        try:
            self._connection.execute(text("SELECT 1"))
        except DBAPIError:
            self._lost = True
            log.error("与数据库的连接断开，锁已失去：本次工作在当前邮件后停止，另一台机器可能接手")
        return self._lost


def lock_name(job: str, *parts: str) -> str:
    return ":".join((job, *parts)) if parts else job


@contextlib.contextmanager
def exclusive(data_path: Path, engine: Engine, name: str) -> Iterator[Held]:
    data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(data_path / _file_name(name), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"另一个 intake 进程正在执行 {name}") from None
        with _database_lock(engine, name) as held:
            yield held
    finally:
        os.close(descriptor)  # closing releases the flock


def _file_name(name: str) -> str:
    if re.fullmatch(r"[a-z_]+", name):
        return f"{name}.lock"  # poll.lock, send.lock, forward.lock: as before
    readable = re.sub(r"[^A-Za-z0-9_.@-]+", "_", name)[:60]
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}.lock"


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"intake:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def _database_lock(engine: Engine, name: str) -> Iterator[Held]:
    if engine.dialect.name != "postgresql":
        yield Held()
        return
    key = _key(name)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        for setting in _SESSION_SETTINGS:
            with contextlib.suppress(DBAPIError):  # an older server without one of them
                connection.execute(text(setting))
        if not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            raise Busy(f"另一台机器（或另一个进程）上的 intake 正在执行 {name}")
        try:
            yield Held(connection)
        finally:
            _unlock(connection, key, name)
    finally:
        with contextlib.suppress(DBAPIError):
            connection.close()


def _unlock(connection: Connection, key: int, name: str) -> None:
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    except DBAPIError as exc:
        # the connection is gone, and the server released the lock with it: nothing to undo
        log.warning("释放 %s 的锁时数据库连接已断开（锁已随连接释放）：%s", name, str(exc.orig).strip()[:200])
        with contextlib.suppress(DBAPIError):
            connection.invalidate()


def poll_lock(config, account: str) -> str:
    """One poll of a mailbox folder at a time, whichever machine: named by the account and folder."""
    return lock_name("poll", f"{account}/{config.mailbox.folder}")


def send_scope(runtime) -> tuple[str | None, ...] | None:
    """Whose replies this runtime sends: all (one mailbox), or its campaign's (several; the first
    mailbox also takes the replies queued before replies knew their campaign)."""
    if len(runtime.served) <= 1:
        return None
    first = runtime.served[0] == runtime.profile.id
    return (runtime.profile.id, None) if first else (runtime.profile.id,)


def send_lock(runtime) -> str:
    return "send" if send_scope(runtime) is None else lock_name("send", runtime.profile.id)
