"""The database: an engine for SQLite (the embedded default) or PostgreSQL, migrated to head."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, inspect, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 7_130_417  # any fixed number: PostgreSQL's advisory lock key for migrations


class DatabaseUnusable(Exception):
    """The database cannot be opened or is damaged; the message says which file and what to do."""


class DatabaseFull(OperationalError):
    """SQLite could not write for want of disk space: the transaction was rolled back whole.

    Said in words staff can act on, and without the statement's parameters (personal data)."""

    def __init__(self, database: str, orig: BaseException):
        super().__init__(None, None, orig)
        self.text = (f"数据库 {database} 所在磁盘已满，本次未写入任何记录（已整体撤回），"
                     "邮件留在收件箱，释放空间后自动重试")

    def __str__(self) -> str:
        return self.text


def _primary_code(error: BaseException | None) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _disk_full_in_words(context) -> DatabaseFull | None:
    if _primary_code(context.original_exception) == sqlite3.SQLITE_FULL:
        return DatabaseFull(context.engine.url.database, context.original_exception)
    return None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets staff read while intake writes; FULL makes a commit survive a power cut, which
    # matters because the mailbox is touched only after the commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _private_database(database: Path) -> None:
    """The database file and its -wal/-shm for the service's user only: they hold every ID number.
    SQLite gives the -wal and -shm files the database file's mode, so that is made first."""
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}.migrate-lock")):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_database(Path(database))
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _disk_full_in_words)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _transactional_ddl(engine: Engine) -> Engine:
    """An engine whose transactions are SQLite's own, for the migration alone.

    pysqlite issues no BEGIN before CREATE/ALTER, so each DDL statement commits by itself: a
    process killed halfway through the first migration left tables without their alembic
    stamp, and every later start failed on "table … already exists". SQLite can roll DDL back;
    it only needs the BEGIN said out loud (the SQLAlchemy pysqlite recipe). IMMEDIATE takes the
    write lock first, so a process writing meanwhile is waited for (busy_timeout) rather than
    failing the migration when its read turns into a write.
    """
    if engine.dialect.name != "sqlite":
        return engine
    migrating = create_engine(engine.url, connect_args={"check_same_thread": False})
    event.listen(migrating, "connect", _sqlite_pragmas)

    @event.listens_for(migrating, "connect")
    def _no_driver_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(migrating, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return migrating


def _alembic(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def check_integrity(engine: Engine) -> None:
    """Refuse to start on a damaged SQLite file, before anything is written to it."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as connection:
            result = connection.exec_driver_sql("PRAGMA quick_check").scalar()
    except DatabaseError as exc:
        if _primary_code(exc.orig) not in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            # a full disk (no room for the -wal/-shm files) or a permission problem: telling staff to
            # move a sound file away here would throw their records out
            folder = Path(engine.url.database).parent
            why = "所在磁盘已满" if folder.exists() and shutil.disk_usage(folder).free < 1 << 20 else "无法读写"
            raise DatabaseUnusable(f"数据库 {engine.url.database} {why}（{exc.orig}）。文件本身未必损坏，请勿删除："
                                   "释放磁盘空间或修正权限后重新启动。") from None
        raise DatabaseUnusable(f"数据库文件已损坏或不是数据库（{engine.url.database}）：{exc.orig}。"
                               "请从备份恢复，或移走该文件后重新启动（将重新建库）。") from None
    if result != "ok":
        raise DatabaseUnusable(f"数据库文件已损坏（{engine.url.database}）：{result}。请从备份恢复。")


@contextlib.contextmanager
def _one_migration_at_a_time(engine: Engine) -> Iterator[None]:
    """Two processes starting together (the service and `intake status`) must not both create tables."""
    if engine.dialect.name == "postgresql":
        # autocommit: no transaction stays open on this connection while another one migrates, which
        # idle_in_transaction_session_timeout would cut off (and the unlock with it)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already."""
    check_integrity(engine)
    migrating = _transactional_ddl(engine)
    try:
        with _one_migration_at_a_time(engine):
            command.upgrade(_alembic(migrating), "head")
    except OperationalError as exc:
        raise DatabaseUnusable(f"无法打开数据库 {engine.url.render_as_string(hide_password=True)}：{exc.orig}") from None
    finally:
        if migrating is not engine:
            migrating.dispose()


def open_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
