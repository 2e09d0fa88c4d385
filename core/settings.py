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
                raise ConfigError(f"cannot read the password file {self.password_file}: {exc.strerror}") from None
        where = self.password_env or self.password_file or "nothing"
        raise ConfigError(f"no password: set the environment variable or file named in the config ({where})")


def anchored(path: Path | None, base: Path) -> Path | None:
    """A path from the config, taken from the config file's folder when relative."""
    return path if path is None or path.is_absolute() else Path(os.path.normpath(base / path))
