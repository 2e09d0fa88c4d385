"""`intake backup DIR` and `intake restore BACKUP`: the records and the raw mail, together.

A backup is one folder, `DIR/craftsman-intake-<Beijing time>/` (mode 0700, files 0600: it holds
every nominee's material):

- the database: SQLite through its online backup API (`intake.sqlite3`, consistent while the
  service writes), PostgreSQL through `pg_dump --format=custom` (`database.dump`; the raw mail
  is in it, in the `blob` table);
- `blobs/`: the raw mail on disk (SQLite installations, and what a PostgreSQL one kept on disk
  from before), copied after the database, so that every mail the records name is there (the
  service writes a mail's bytes before the record that names it, and never removes one but by
  `purge`);
- `manifest.json`: when, which schema revision, which database, and each file with its sha256,
  checked again by `restore` before anything is replaced.

`restore` puts both back into the config's data folder and database, refusing a database that
already has records unless `--replace` is given, then brings the schema up to this program's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url

from core.files import private_folder, write_private
from core.times import SHANGHAI, utcnow
from storage.schema import schema_state, upgrade

MANIFEST = "manifest.json"
SQLITE_FILE = "intake.sqlite3"
PG_DUMP_FILE = "database.dump"


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    database: str
    blobs: int
    bytes: int


def backup(data_path: Path, engine: Engine, into: Path) -> BackupReport:
    stamp = utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    folder = private_folder(Path(into) / f"craftsman-intake-{stamp}")
    state = schema_state(engine)
    if engine.dialect.name == "sqlite":
        _sqlite_copy(Path(engine.url.database), folder / SQLITE_FILE)
        database = SQLITE_FILE
    else:
        _pg_dump(engine, folder / PG_DUMP_FILE)
        database = PG_DUMP_FILE
    blobs = _copy_tree(Path(data_path) / "blobs", folder / "blobs")
    files = {name: _sha256(folder / name) for name in [database, *blobs]}
    manifest = {"made_at": datetime.now(SHANGHAI).isoformat(timespec="seconds"), "schema": state.current,
                "dialect": engine.dialect.name, "database": database, "files": files}
    write_private(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    return BackupReport(folder, database, len(blobs), sum((folder / name).stat().st_size for name in files))


def checked_backup(source: Path) -> dict:
    """The backup's manifest, every file checked against it: called before the database is even
    opened, so that a damaged backup leaves nothing behind (opening SQLite makes its file)."""
    return _checked_manifest(Path(source))


def restore(data_path: Path, engine: Engine, source: Path, replace: bool,
            manifest: dict | None = None) -> tuple[str | None, str]:
    """Put the backup back; (the backup's schema revision, the revision now)."""
    manifest = manifest or _checked_manifest(Path(source))
    if manifest["dialect"] != engine.dialect.name:
        raise BackupError(f"这份备份来自 {manifest['dialect']} 数据库，而配置的数据库是 {engine.dialect.name}："
                          "请用同一种数据库恢复")
    if _has_records(engine) and not replace:
        raise BackupError("配置的数据库中已有记录：恢复会整体替换它们。确认请加 --replace（建议先再做一次备份）")
    if engine.dialect.name == "sqlite":
        engine.dispose()
        _sqlite_restore(Path(source) / SQLITE_FILE, Path(engine.url.database))
    else:
        _pg_restore(engine, Path(source) / PG_DUMP_FILE)
    blobs = Path(data_path) / "blobs"
    for name in manifest["files"]:
        if name.startswith("blobs/"):
            target = Path(data_path) / name
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copyfile(Path(source) / name, target)
            os.chmod(target, 0o600)
    if blobs.exists():
        os.chmod(blobs, 0o700)
    _before, now = upgrade(engine)
    return manifest["schema"], now


# --- SQLite ------------------------------------------------------------------------------------


def _sqlite_restore(backup_file: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for leftover in (database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        leftover.unlink(missing_ok=True)
    _sqlite_copy(backup_file, database)


def _sqlite_copy(source_file: Path, target: Path) -> None:
    """SQLite's online backup API: consistent while another process writes the source."""
    source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination)
    finally:
        destination.close()
        source.close()
    os.chmod(target, 0o600)


# --- PostgreSQL --------------------------------------------------------------------------------


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as pg_dump takes it, the password in the environment (never on the command line)."""
    url = make_url(engine.url)
    environment = {**os.environ}
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, environment


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"没有找到 {name}：PostgreSQL 的备份和恢复要用它，Debian 上请安装 postgresql-client")
    return found


def _pg_dump(engine: Engine, target: Path) -> None:
    url, environment = _libpq(engine)
    command = [_program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", url]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=6 * 3600)
    if done.returncode != 0:
        raise BackupError(f"pg_dump 失败：{done.stderr.strip()[-1000:]}")
    os.chmod(target, 0o600)


def _pg_restore(engine: Engine, dump: Path) -> None:
    url, environment = _libpq(engine)
    engine.dispose()
    command = [_program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
               "--single-transaction", f"--dbname={url}", str(dump)]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=6 * 3600)
    if done.returncode != 0:
        raise BackupError(f"pg_restore 失败（数据库未改动）：{done.stderr.strip()[-1000:]}")


# --- files -------------------------------------------------------------------------------------


def _copy_tree(source: Path, target: Path) -> list[str]:
    """The files under `source`, copied (0600); their names relative to the backup folder."""
    copied = []
    if not source.is_dir():
        return copied
    for path in sorted(source.rglob("*")):
        if not path.is_file() or ".tmp" in path.suffix:
            continue  # a blob being written (its .tmp<pid>): not yet named by any record
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(path, destination)
        os.chmod(destination, 0o600)
        copied.append(str(destination.relative_to(target.parent)))
    return copied


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _checked_manifest(source: Path) -> dict:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} 不是 intake backup 做的备份（没有 {MANIFEST}）") from None
    damaged = [name for name, digest in manifest["files"].items()
               if not (source / name).is_file() or _sha256(source / name) != digest]
    if damaged:
        raise BackupError(f"备份已损坏或不完整，未做任何改动：{'、'.join(damaged[:5])}"
                          f"{'…' if len(damaged) > 5 else ''}")
    return manifest


def _has_records(engine: Engine) -> bool:
    if "message" not in set(inspect(engine).get_table_names()):
        return False
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT 1 FROM message LIMIT 1").first() is not None
