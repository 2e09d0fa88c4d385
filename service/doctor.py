"""`intake doctor`: one line per thing the service needs, saying what is wrong and what to change.

Read-only: it creates nothing (no database, no data folder, no outbox folder, no temporary
folder); a SQLite database is opened read-only, a PostgreSQL one only read. Each mailbox of the
installation is checked on its own (log in, open the folder), and so is its SMTP server; what
went wrong is said by service/diagnose.py, which names the case and the key to change. Where
the running service recorded why one of its jobs keeps failing, that is shown too.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import campaigns
from service.config import Config, ConfigError
from service.dburl import shown_url


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    says: str
    optional: bool = False

    def line(self) -> str:
        mark = "✓" if self.ok else ("!" if self.optional else "✗")
        return f"{mark} {self.name}：{self.says}"


def _data_folder(config: Config) -> Check:
    path = config.data_path
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), Path("/"))
        if not os.access(parent, os.W_OK):
            return Check("数据目录", False, f"{path} 尚不存在，且 {parent} 不可写：请建立该目录并交给运行 intake 的用户"
                                          f"（chown），或修改 data_path")
        return Check("数据目录", True, f"{path} 尚不存在，首次运行时创建（权限700）")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("数据目录", False, f"{path} 权限为{mode:o}，其他用户可读；请执行 chmod 700 {path}")
    return Check("数据目录", True, f"{path}（仅本用户可读）")


def _read_only_engine(config: Config):
    """An engine that cannot create the database: SQLite opened read-only, else the URL as it is."""
    from sqlalchemy import create_engine

    url = config.database
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if not Path(database).exists():
            return None
        return create_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _database(config: Config) -> tuple[Check, object]:
    from storage.db import DatabaseUnusable
    from storage.schema import head_revision, schema_state

    try:
        url = config.database
    except ConfigError as exc:
        return Check("数据库", False, str(exc)), None
    try:
        engine = _read_only_engine(config)
    except Exception as exc:  # noqa: BLE001 - a URL SQLAlchemy cannot read
        return Check("数据库", False, f"database_url 写法不对（{exc}）：例如 postgresql://intake@db.example/intake"), None
    if engine is None:
        return Check("数据库", True, f"{url.split('///', 1)[-1]} 尚未建立，首次运行时创建"
                                   f"（结构版本 {head_revision()}）"), None
    try:
        state = schema_state(engine)
    except DatabaseUnusable as exc:
        engine.dispose()
        return Check("数据库", False, f"{shown_url(url)}：{_database_words(exc)}"), None
    return Check("数据库", not state.behind, f"{shown_url(url)}，{state.said()}"), engine


def _database_words(exc: Exception) -> str:
    text = str(exc)
    if "password authentication failed" in text:
        return "数据库拒绝了密码：请检查 database_password_file / database_password_env（或 URL 中的用户名）"
    if "Connection refused" in text or "connection refused" in text:
        return "无法连接数据库服务器（拒绝连接）：请检查 database_url 的主机和端口，以及 PostgreSQL 是否在运行"
    if "does not exist" in text:
        return f"{text}：请先建立该数据库（createdb）"
    return text


def _program(name: str, label: str, purpose: str, optional: bool) -> Check:
    found = shutil.which(name)
    if found:
        return Check(label, True, found, optional)
    return Check(label, False, f"未找到 {name}（{purpose}）；Debian 上请安装：apt-get install {_PACKAGES[name]}",
                 optional)


_PACKAGES = {"ffprobe": "ffmpeg", "soffice": "libreoffice-writer-nogui", "bsdtar": "libarchive-tools",
             "pg_dump": "postgresql-client"}


def _mailbox(config: Config, label: str) -> Check:
    from ingest.sources import open_source
    from service.diagnose import explain

    try:
        source = open_source(config.mailbox)
        try:
            found = source.poll_check()
        finally:
            source.close()
    except Exception as exc:  # noqa: BLE001 - each failure becomes one plain line
        return Check(label, False, explain(exc, "poll", config, probe=True))
    return Check(label, True, found)


def _sender(config: Config, label: str) -> Check:
    from replies.transport import open_transport
    from service.diagnose import explain

    smtp = config.smtp
    if smtp.kind == "folder" and not smtp.outbox_path.exists():
        return Check(label, True, f"folder {smtp.outbox_path}（尚不存在，首次发送时创建）")
    try:
        open_transport(smtp).check()
    except Exception as exc:  # noqa: BLE001 - each failure becomes one plain line
        return Check(label, False, explain(exc, "send", config, probe=True))
    where = smtp.outbox_path if smtp.kind == "folder" else f"{smtp.host}:{smtp.port}"
    return Check(label, True, f"{smtp.kind} {where}")


def _campaign(config: Config, label: str) -> Check:
    from service.config_words import unknown_campaign

    try:
        profile = campaigns.load(config.campaign, config.profile_path)
    except campaigns.ProfileError as exc:
        return Check(label, False, unknown_campaign(exc))
    return Check(label, True, f"{profile.id}（{profile.title}）")


def _service_said(engine, campaign: str) -> list[Check]:
    """Why the running service's jobs fail, as it recorded it (a wrong password it keeps retrying)."""
    from service.jobs import last_states, state_line

    if engine is None:
        return []
    try:
        rows = last_states(engine, (campaign,))
    except Exception:  # noqa: BLE001 - an older schema without job_state: nothing recorded
        return []
    return [Check("运行中的服务", False, state_line(row)) for row in rows]


def run_checks(config_file: Path) -> list[Check]:
    from service.mailboxes import served

    try:
        found = served(config_file)
    except ConfigError as exc:
        return [Check("配置文件", False, str(exc))]
    config = found[0].config
    checks = [Check("配置文件", True, f"{config_file}（{len(found)} 个邮箱）" if len(found) > 1 else str(config_file))]
    database, engine = _database(config)
    steps: list[Callable[[], Check]] = [
        lambda: _data_folder(config),
        lambda: database,
        lambda: _program("ffprobe", "ffprobe", "判断视频格式和时长", optional=False),
        lambda: _program("bsdtar", "rar解压", "读取.rar压缩包", optional=True),
        lambda: _program("soffice", "LibreOffice", "读取.doc/.wps旧版文档", optional=True),
    ]
    if config.database_url.startswith("postgresql"):  # the scheme alone: reading the URL needs the password
        steps.append(lambda: _program("pg_dump", "pg_dump", "intake backup 备份 PostgreSQL", optional=True))
    checks += [step() for step in steps]
    for each in found:
        suffix = f"（{each.campaign}）" if len(found) > 1 else ""
        checks.append(_campaign(each.config, f"评选活动{suffix}"))
        checks.append(_mailbox(each.config, f"收件邮箱{suffix}"))
        checks.append(_sender(each.config, f"回复发送{suffix}"))
        checks += _service_said(engine, each.campaign)
    if engine is not None:
        engine.dispose()
    return checks
