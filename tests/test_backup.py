"""Backup, restore and schema upgrades as the IT person does them: `intake backup DIR` on one machine,
`intake restore` on a fresh one, and the same records and the same raw mail come back (SQLite, and
PostgreSQL through pg_dump); a damaged backup or a database with records is refused; `intake db
upgrade` and the upgrade a started program makes where that is safe."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

from alembic import command
from sqlalchemy import text

from storage.db import _alembic, make_engine
from storage.schema import head_revision
from testing.programs import missing
from testing.service import intake, nomination, records

_databases = itertools.count(1)
HEAD = head_revision()  # the newest migration: 0005 is two or more behind it


def _config(folder: Path, mail: Path, database_url: str = "", campaign: str = "chongqing-bayu-2017") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "intake.toml"
    config.write_text(f'campaign = "{campaign}"\ndata_path = "{folder / "data"}"\ndatabase_url = "{database_url}"\n'
                      f'[mailbox]\npath = "{mail}"\n', encoding="utf-8")
    return config


def _mail(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"{n}.eml").write_bytes(nomination(n))
    return folder


def _new_database(postgres_url: str) -> str:
    name = f"restore{next(_databases)}"
    engine = make_engine(postgres_url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


def _rows(config: Path) -> list:
    """The records as plain values (ids included), to compare machine with machine."""
    messages, nominees, replies = records(config)
    return [[row.model_dump() for row in table] for table in (messages, nominees, replies)]


def _blob_files(data: Path) -> dict[str, bytes]:
    root = data / "blobs"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _only_folder(path: Path) -> Path:
    [made] = list(path.iterdir())
    return made


def test_sqlite_backup_restored_on_a_fresh_machine_has_the_same_records_and_files(tmp_path):
    mail = _mail(tmp_path / "mail", 3)
    first = _config(tmp_path / "first", mail)
    intake(first, "poll", "--once")
    assert [m.state for m in records(first)[0]] == ["filed"] * 3
    said = intake(first, "backup", str(tmp_path / "backups")).stdout
    assert "已备份到" in said and "原始邮件 3 份" in said
    backup = _only_folder(tmp_path / "backups")
    assert backup.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in backup.rglob("*") if p.is_file())

    second = _config(tmp_path / "second", _mail(tmp_path / "mail2", 0))
    assert "已从" in intake(second, "restore", str(backup)).stdout
    assert _rows(second) == _rows(first)
    assert _blob_files(tmp_path / "second" / "data") == _blob_files(tmp_path / "first" / "data")
    shown = intake(second, "review", "show", "1").stdout  # the restored records find the restored mail
    assert "张三" in shown and "推荐表.docx" in shown

    # a second restore over records is refused unless asked for
    again = intake(second, "restore", str(backup), check=False)
    assert again.returncode == 1 and "已有记录" in again.stderr and "--replace" in again.stderr
    intake(second, "restore", str(backup), "--replace")
    assert _rows(second) == _rows(first)


def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path):
    mail = _mail(tmp_path / "mail", 1)
    first = _config(tmp_path / "first", mail)
    intake(first, "poll", "--once")
    intake(first, "backup", str(tmp_path / "backups"))
    backup = _only_folder(tmp_path / "backups")
    blob = next(p for p in (backup / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(blob.read_bytes()[:-10])
    second = _config(tmp_path / "second", _mail(tmp_path / "mail2", 0))
    refused = intake(second, "restore", str(backup), check=False)
    assert refused.returncode == 1 and "备份已损坏或不完整，未做任何改动" in refused.stderr
    assert not (tmp_path / "second" / "data" / "intake.sqlite3").exists()


def test_postgresql_backup_restored_into_another_database_has_the_same_records_and_mail(tmp_path, postgres_url):
    if shutil.which("pg_dump") is None:
        missing("pg_dump is not installed (Debian package postgresql-client; ./dev test installs it)")
    mail = _mail(tmp_path / "mail", 2)
    source = _new_database(postgres_url).replace("postgresql+psycopg://", "postgres://")  # as hosting panels write it
    first = _config(tmp_path / "first", mail, source)
    intake(first, "poll", "--once")
    assert [m.state for m in records(first)[0]] == ["filed", "filed"]  # judged here and in a forked worker
    assert _blob_files(tmp_path / "first" / "data") == {}  # on PostgreSQL the raw mail is in the database
    intake(first, "backup", str(tmp_path / "backups"))
    backup = _only_folder(tmp_path / "backups")
    assert json.loads((backup / "manifest.json").read_text())["database"] == "database.dump"

    second = _config(tmp_path / "second", _mail(tmp_path / "mail2", 0), _new_database(postgres_url))
    intake(second, "restore", str(backup))
    assert _rows(second) == _rows(first)
    shown = intake(second, "review", "show", "李四").stdout
    assert "李四" in shown and "推荐表.docx" in shown


def test_sqlite_behind_is_upgraded_by_the_program_that_starts(tmp_path):
    config = _config(tmp_path / "site", _mail(tmp_path / "mail", 1))
    database = tmp_path / "site" / "data" / "intake.sqlite3"
    command.upgrade(_alembic(make_engine(f"sqlite:///{database}")), "0005")
    assert f"结构版本 0005，本程序需要 {HEAD}" in intake(config, "db", "status").stdout
    intake(config, "poll", "--once")  # one machine: safe to upgrade at start
    assert f"结构版本 {HEAD}（最新）" in intake(config, "db", "status").stdout


def test_postgresql_behind_waits_for_db_upgrade(tmp_path, postgres_url):
    url = _new_database(postgres_url)
    config = _config(tmp_path / "site", _mail(tmp_path / "mail", 1), url)
    intake(config, "poll", "--once")
    engine = make_engine(url)
    command.downgrade(_alembic(engine), "0005")  # as an installation of the older program left it
    engine.dispose()
    refused = intake(config, "status", check=False)
    assert refused.returncode == 1
    assert f"结构版本 0005，本程序需要 {HEAD}：请运行 intake db upgrade" in refused.stderr
    assert "PostgreSQL 上不自动升级" in refused.stderr
    assert f"数据库结构已升级：0005 → {HEAD}" in intake(config, "db", "upgrade").stdout
    assert "邮件：已登记 1" in intake(config, "status").stdout
    assert "无需升级" in intake(config, "db", "upgrade").stdout
