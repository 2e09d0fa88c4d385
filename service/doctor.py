"""`intake doctor`: one line per thing the service needs, saying what is wrong and how to fix it."""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import campaigns
from service.config import Config, ConfigError, load_config
from storage.db import DatabaseUnusable, open_database


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
        return Check("数据目录", True, f"{path} 尚不存在，首次运行时创建（权限700）")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("数据目录", False, f"{path} 权限为{mode:o}，其他用户可读；请执行 chmod 700 {path}")
    return Check("数据目录", True, f"{path}（仅本用户可读）")


def _database(config: Config) -> Check:
    try:
        open_database(config.database)
    except DatabaseUnusable as exc:
        return Check("数据库", False, str(exc))
    return Check("数据库", True, config.database.split("@")[-1])


def _program(name: str, label: str, purpose: str, optional: bool) -> Check:
    found = shutil.which(name)
    if found:
        return Check(label, True, found, optional)
    return Check(label, False, f"未找到 {name}（{purpose}）；Debian 上请安装：apt-get install {_PACKAGES[name]}",
                 optional)


_PACKAGES = {"ffprobe": "ffmpeg", "soffice": "libreoffice-writer-nogui", "bsdtar": "libarchive-tools"}


def _mailbox(config: Config) -> Check:
    from ingest.sources import open_source

    try:
        source = open_source(config.mailbox)
        try:
            found = source.poll_check()
        finally:
            source.close()
    except ConfigError as exc:
        return Check("收件邮箱", False, str(exc))
    except Exception as exc:  # noqa: BLE001 - each failure becomes one plain line
        return Check("收件邮箱", False, f"{type(exc).__name__}: {exc}")
    return Check("收件邮箱", True, found)


def _sender(config: Config) -> Check:
    from replies.transport import open_transport

    try:
        open_transport(config.smtp).check()
    except ConfigError as exc:
        return Check("回复发送", False, str(exc))
    except Exception as exc:  # noqa: BLE001
        return Check("回复发送", False, f"{type(exc).__name__}: {exc}")
    where = config.smtp.outbox_path if config.smtp.kind == "folder" else f"{config.smtp.host}:{config.smtp.port}"
    return Check("回复发送", True, f"{config.smtp.kind} {where}")


def run_checks(config_file: Path) -> list[Check]:
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        return [Check("配置文件", False, str(exc))]
    checks = [Check("配置文件", True, str(config_file))]
    try:
        profile = campaigns.load(config.campaign, config.profile_path)
        checks.append(Check("评选活动", True, f"{profile.id}（{profile.title}）"))
    except campaigns.ProfileError as exc:
        checks.append(Check("评选活动", False, str(exc)))
    steps: list[Callable[[], Check]] = [
        lambda: _data_folder(config),
        lambda: _database(config),
        lambda: _program("ffprobe", "ffprobe", "判断视频格式和时长", optional=False),
        lambda: _program("bsdtar", "rar解压", "读取.rar压缩包", optional=True),
        lambda: _program("soffice", "LibreOffice", "读取.doc/.wps旧版文档", optional=True),
        lambda: _mailbox(config),
        lambda: _sender(config),
    ]
    return checks + [step() for step in steps]

