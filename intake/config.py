"""The service's one config file (TOML): where mail comes from, where records and replies go.

Secrets never live in the file: a password is read from the environment variable or the
file that the config names. Every key is documented in README.md (a test checks).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(Exception):
    """The config file is missing, malformed, or names a secret that is not there."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Strict):
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


class MailboxConfig(Secret):
    kind: Literal["maildir", "imap"] = "maildir"
    # maildir: a local Maildir folder (the embedded default)
    path: Path = Path("samples/mailbox")
    # imap
    host: str = ""
    port: int = 993
    security: Literal["ssl", "starttls", "plain"] = "ssl"  # plain is refused except on loopback
    username: str = ""
    folder: str = "INBOX"
    processed_folder: str = "已处理"  # filed mail is moved here (MOVE, else COPY+EXPUNGE) ...
    processed_action: Literal["move", "flag"] = "move"  # ... or only flagged; never deleted
    idle: bool = True  # take new mail within seconds where the server offers IDLE
    timeout_seconds: float = 60.0
    ca_file: Path | None = None  # a private CA for the IMAP server's certificate


class SmtpConfig(Secret):
    kind: Literal["folder", "smtp"] = "folder"
    # folder: replies are written as .eml files (the embedded default)
    outbox_path: Path = Path("data/outbox")
    # smtp
    host: str = ""
    port: int = 465
    security: Literal["ssl", "starttls", "plain"] = "ssl"
    username: str = ""
    timeout_seconds: float = 60.0
    ca_file: Path | None = None
    helo_name: str = ""  # the EHLO name, where the provider checks it; default: this host's name


class RepliesConfig(_Strict):
    from_addr: str = "intake@localhost"  # the address replies come from (usually the campaign mailbox)
    # hold replies for staff where the receiving server saw SPF/DKIM fail (forged senders)
    hold_on_failed_authentication: bool = True
    # the authserv-id of our own receiving server's Authentication-Results (RFC 8601); empty:
    # trust the topmost header, which our server adds last
    authserv_ids: tuple[str, ...] = ()
    max_attempts: int = Field(8, ge=1)  # 4xx answers are retried this many times, with backoff
    first_retry_seconds: float = Field(60.0, gt=0)


class ScheduleConfig(_Strict):
    poll_seconds: float = Field(60.0, gt=0)  # how often to poll when IDLE is not used
    send_seconds: float = Field(30.0, gt=0)  # how often the outbox is sent
    daily_log_time: str = "23:55"  # when the day's intake log is written (Asia/Shanghai)
    max_attempts: int = Field(5, ge=1)  # a message that fails this often is quarantined for staff
    first_retry_seconds: float = Field(60.0, gt=0)


class ForwardConfig(_Strict):
    # a district's batch for the city is split into e-mails of at most this many bytes (as sent)
    max_message_bytes: int = Field(20_000_000, ge=10_000)
    # the 推荐单位 the summary sheet and covering letter name; default: the profile's office.name
    # up to and including its last 总工会 (沙坪坝区总工会组宣科 → 沙坪坝区总工会)
    recommending_unit: str = ""


class Config(_Strict):
    campaign: str  # the campaign profile id this mailbox serves
    data_path: Path = Path("data")  # raw mail, files, logs: readable by the service's user only
    database_url: str = ""  # default: sqlite:///<data_path>/intake.sqlite3; or postgresql+psycopg://…
    profile_path: tuple[Path, ...] = ()  # extra folders of campaign profiles
    mailbox: MailboxConfig = MailboxConfig()
    smtp: SmtpConfig = SmtpConfig()
    replies: RepliesConfig = RepliesConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    forward: ForwardConfig = ForwardConfig()

    @model_validator(mode="after")
    def _imap_is_complete(self) -> "Config":
        if self.mailbox.kind == "imap" and not (self.mailbox.host and self.mailbox.username):
            raise ValueError("mailbox.kind = imap needs mailbox.host and mailbox.username")
        if self.smtp.kind == "smtp" and not self.smtp.host:
            raise ValueError("smtp.kind = smtp needs smtp.host")
        return self

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path / 'intake.sqlite3'}"


def load_config(path: Path) -> Config:
    """Read and check the config; relative paths are taken from the config file's folder."""
    try:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"no config file at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None
    return _anchored(config, Path(path).resolve().parent)


def _anchored(config: Config, base: Path) -> Config:
    def at(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else Path(os.path.normpath(base / p))

    return config.model_copy(
        update={
            "data_path": at(config.data_path),
            "profile_path": tuple(at(p) for p in config.profile_path),
            "mailbox": config.mailbox.model_copy(
                update={"path": at(config.mailbox.path), "password_file": at(config.mailbox.password_file),
                        "ca_file": at(config.mailbox.ca_file)}),
            "smtp": config.smtp.model_copy(
                update={"outbox_path": at(config.smtp.outbox_path), "password_file": at(config.smtp.password_file),
                        "ca_file": at(config.smtp.ca_file)}),
        }
    )
