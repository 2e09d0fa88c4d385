"""Where the database's schema stands against this program's migrations, and bringing it there.

`intake db upgrade` upgrades explicitly. Started programs upgrade by themselves only where that
is safe: a SQLite database (one machine; the migration lock orders its processes) or a database
without tables yet. A PostgreSQL database with records that is behind is left for `intake db
upgrade`: a second machine on it (failover) may still run the older program, and the upgrade
is said to be done once, with every machine stopped (README, "Upgrading").
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from storage.db import DatabaseUnusable, _alembic, check_integrity, make_engine, migrate


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: no tables yet
    head: str
    known: bool  # the current revision is one of this program's

    @property
    def behind(self) -> bool:
        return self.current != self.head

    def said(self) -> str:
        if self.current is None:
            return f"尚未建表（本程序的结构版本 {self.head}）"
        if not self.known:
            return f"结构版本 {self.current} 比本程序新（本程序为 {self.head}）：请把本程序升级到同一版本"
        if self.behind:
            return f"结构版本 {self.current}，本程序需要 {self.head}：请运行 intake db upgrade"
        return f"结构版本 {self.head}（最新）"


def head_revision() -> str:
    return ScriptDirectory.from_config(_alembic(None)).get_current_head()


def schema_state(engine: Engine) -> SchemaState:
    """Read-only: the revision the database is at (no table is made)."""
    script = ScriptDirectory.from_config(_alembic(None))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnusable(f"无法打开数据库：{exc.orig}") from None
    known = current is None or any(rev.revision == current for rev in script.walk_revisions())
    return SchemaState(current, script.get_current_head(), known)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to head (explicitly asked for); (from, to)."""
    before = schema_state(engine)
    if not before.known:
        raise DatabaseUnusable(f"数据库{before.said()}")
    migrate(engine)
    return before.current, before.head


def open_upgraded_where_safe(url: str) -> Engine:
    """The engine for a started program: migrated when that is safe (module docstring), else
    refused with what to do, so no program works on a schema it does not know."""
    engine = make_engine(url)
    check_integrity(engine)  # a damaged SQLite file, or one on a full disk, said as such before anything else
    state = schema_state(engine)
    if not state.known:
        raise DatabaseUnusable(f"数据库{state.said()}")
    if state.behind and state.current is not None and engine.dialect.name != "sqlite":
        raise DatabaseUnusable(f"数据库{state.said()}（PostgreSQL 上不自动升级：先停止所有机器上的 intake，"
                               "升级程序后在一台机器上运行 intake db upgrade，再启动）")
    migrate(engine)  # a no-op at head; on SQLite it also checks the file is sound
    return engine
