"""The database: an engine for SQLite (the embedded default) or PostgreSQL, migrated to head."""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 7_130_417  # any fixed number: PostgreSQL's advisory lock key for migrations


class DatabaseUnusable(Exception):
    """The database cannot be opened or is damaged; the message says which file and what to do."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets staff read while intake writes; FULL makes a commit survive a power cut, which
    # matters because the mailbox is touched only after the commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


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
        raise DatabaseUnusable(f"数据库文件已损坏或不是数据库（{engine.url.database}）：{exc.orig}。"
                               "请从备份恢复，或移走该文件后重新启动（将重新建库）。") from None
    if result != "ok":
        raise DatabaseUnusable(f"数据库文件已损坏（{engine.url.database}）：{result}。请从备份恢复。")


@contextlib.contextmanager
def _one_migration_at_a_time(engine: Engine) -> Iterator[None]:
    """Two processes starting together (the service and `intake status`) must not both create tables."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
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
    try:
        with _one_migration_at_a_time(engine):
            command.upgrade(_alembic(engine), "head")
    except OperationalError as exc:
        raise DatabaseUnusable(f"无法打开数据库 {engine.url.render_as_string(hide_password=True)}：{exc.orig}") from None


def open_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
