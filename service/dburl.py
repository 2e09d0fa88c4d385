"""The database URL as SQLAlchemy needs it, from what the config says.

Hosting panels and `psql` give `postgres://user@host/db` or `postgresql://…`; SQLAlchemy knows
neither as our driver (the first not at all: it crashed `doctor` and `status`), so both are read
as psycopg 3's. The password is kept out of the file like the mailbox's: `database_password_env`
or `database_password_file`, put into the URL here and never logged (`shown_url`).
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.settings import ConfigError, Secret

_SPELLINGS = ("postgres://", "postgresql://", "postgres+psycopg://")


def database_url(config) -> str:
    url = config.database_url or f"sqlite:///{config.data_path / 'intake.sqlite3'}"
    for spelling in _SPELLINGS:
        if url.startswith(spelling):
            url = "postgresql+psycopg://" + url[len(spelling):]
    if not (config.database_password_env or config.database_password_file):
        return url
    secret = Secret(password_env=config.database_password_env, password_file=config.database_password_file)
    try:
        password = secret.password()
        parsed = make_url(url)
    except ConfigError as exc:
        raise ConfigError(f"数据库密码：{exc}（database_password_env / database_password_file）") from None
    except ArgumentError as exc:
        raise ConfigError(f"database_url 的写法不对：{exc}") from None
    return parsed.set(password=password).render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """The URL for logs and `doctor`: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]
