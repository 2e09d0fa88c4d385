"""The database and the stored mail as a whole: `intake db upgrade`, `intake db status`, `intake backup`,
`intake restore`. They work on the config's database as it is (no automatic upgrade first)."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import config_option


def _engine(config_file: Path | None):
    from core.settings import ConfigError
    from service.mailboxes import served
    from service.runtime import config_path
    from storage.db import make_engine

    try:
        config = served(config_path(config_file))[0].config
        return config, make_engine(config.database)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("db")
def db() -> None:
    """The database's schema: where it stands, and bringing it to this program's."""


@db.command("status")
@config_option
def db_status(config_file: Path | None) -> None:
    """The schema revision of the database against this program's."""
    from service.dburl import shown_url
    from storage.db import DatabaseUnusable
    from storage.schema import schema_state

    config, engine = _engine(config_file)
    try:
        click.echo(f"{shown_url(config.database)}：{schema_state(engine).said()}")
    except DatabaseUnusable as exc:
        raise click.ClickException(str(exc)) from None


@db.command("upgrade")
@config_option
def db_upgrade(config_file: Path | None) -> None:
    """Bring the schema to this program's (Alembic); with two machines, stop both first (README)."""
    from storage.db import DatabaseUnusable
    from storage.schema import upgrade

    _config, engine = _engine(config_file)
    try:
        before, after = upgrade(engine)
    except DatabaseUnusable as exc:
        raise click.ClickException(str(exc)) from None
    if before == after:
        click.echo(f"数据库结构已是最新（{after}），无需升级")
    else:
        click.echo(f"数据库结构已升级：{before or '空库'} → {after}")


@click.command("backup")
@config_option
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(config_file: Path | None, folder: Path) -> None:
    """Back up the records and the raw mail into a new folder inside FOLDER (the service may run on)."""
    from service.backup import BackupError, backup
    from storage.db import DatabaseUnusable

    config, engine = _engine(config_file)
    try:
        report = backup(config.data_path, engine, folder)
    except (BackupError, DatabaseUnusable) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已备份到 {report.folder}：数据库（{report.database}）和原始邮件 {report.blobs} 份，"
               f"共 {report.bytes:,} 字节。文件含被推荐人的全部材料：请存放在只有管理员可读的地方。")


@click.command("restore")
@config_option
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="replace a database that already has records")
def restore_command(config_file: Path | None, source: Path, replace: bool) -> None:
    """Put a backup back into the config's database and data folder (stop `intake run` first)."""
    from service.backup import BackupError, checked_backup, restore
    from storage.db import DatabaseUnusable

    try:
        manifest = checked_backup(source)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    config, engine = _engine(config_file)
    try:
        was, now = restore(config.data_path, engine, source, replace, manifest)
    except (BackupError, DatabaseUnusable) as exc:
        raise click.ClickException(str(exc)) from None
    upgraded = f"，结构已从 {was} 升级到 {now}" if was != now else ""
    click.echo(f"已从 {source} 恢复数据库和原始邮件{upgraded}。可以启动 intake run。")


COMMANDS = (db, backup_command, restore_command)
