"""What every section of the config file shares: strict keys, and secrets kept out of the file.

A password is read from the environment variable or the file that the config names; a
config file can then be shown to anyone.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class ConfigError(Exception):
    """The config file is missing, malformed, or names a secret that is not there."""


class Strict(BaseModel):
    """A config section: unknown keys are refused (a typo must not be ignored), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(Strict):
    """Where a password comes from: an environment variable or a file (first one set wins)."""

    password_env: str | None = None
    password_file: Path | None = None

    def password(self) -> str:
        if self.password_env and os.environ.get(self.password_env):
            return os.environ[self.password_env]
        if self.password_file:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"读不到密码文件 {self.password_file}（{exc.strerror}）：请检查 password_file 的路径，"
                                  "并让运行 intake 的用户可读") from None
        if self.password_env:
            raise ConfigError(f"没有密码：环境变量 {self.password_env} 未设置（password_env）；"
                              "在 systemd 下请写入 EnvironmentFile，或改用 password_file")
        raise ConfigError("没有密码：请在配置中写 password_env（环境变量名）或 password_file（密码文件路径）")


def anchored(path: Path | None, base: Path) -> Path | None:
    """A path from the config, taken from the config file's folder when relative."""
    return path if path is None or path.is_absolute() else Path(os.path.normpath(base / path))
