"""The service's one config file (TOML): which campaign, where mail comes from, where records and replies go.

Each section is defined by the part that uses it: `[mailbox]` by the mail sources
(ingest/sources), `[smtp]` and `[replies]` by replies/settings.py; this module adds the
service's own (`[schedule]`, `[forward]`) and reads the file. Secrets never live in the file
(core/settings.py). Every key is documented in README.md (a test checks).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from core.settings import ConfigError, Strict, anchored
from ingest.sources import MailboxConfig, MaildirConfig
from replies.settings import RepliesConfig, SmtpConfig

__all__ = ["Config", "ConfigError", "ForwardConfig", "LogConfig", "MailboxEntry", "NotifyConfig", "ScheduleConfig",
           "WebConfig", "load_config"]


class ScheduleConfig(Strict):
    poll_seconds: float = Field(60.0, gt=0)  # how often to poll when IDLE is not used
    send_seconds: float = Field(30.0, gt=0)  # how often the outbox is sent
    # when the intake log of the day just ended is written (Beijing time): after 24:00, so that the
    # last minutes before a 24:00 deadline, the busiest of a campaign, are in it
    daily_log_time: str = Field("00:05", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    max_attempts: int = Field(5, ge=1)  # a message that fails this often is quarantined for staff
    first_retry_seconds: float = Field(60.0, gt=0)


class NotifyConfig(Strict):
    # the office's own addresses: the daily digest goes there, never to a sender
    addresses: tuple[str, ...] = ()
    # when the digest of the day before is sent (Beijing time)
    digest_time: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # also a digest of the deadline day right after its 24:00
    after_deadline: bool = True


class ForwardConfig(Strict):
    # a district's batch for the city is split into e-mails of at most this many bytes (as sent)
    max_message_bytes: int = Field(20_000_000, ge=10_000)
    # the 推荐单位 the summary sheet and covering letter name; default: the profile's office.name
    # up to and including its last 总工会 (沙坪坝区总工会组宣科 → 沙坪坝区总工会)
    recommending_unit: str = ""


class WebConfig(Strict):
    """The office's web console (`intake web`, web/): where it listens and how its sessions are signed."""

    host: str = "127.0.0.1"  # loopback: nginx (TLS) in front is the way in from the office's network
    port: int = Field(8080, ge=1, le=65535)
    with_service: bool = False  # `intake run` serves the console too, beside its jobs
    # the key that signs session cookies: an environment variable or a file, never this config;
    # neither set: a random key kept in <data_path>/web/session-secret (mode 0600)
    session_secret_env: str | None = None
    session_secret_file: Path | None = None
    session_hours: float = Field(8.0, gt=0, le=168)  # a login lasts this long, then asks again
    # cookies only over HTTPS (and http://127.0.0.1, which browsers treat as secure)
    secure_cookies: bool = True
    # the proxy whose X-Forwarded-For names the client (login limits per address): nginx on this host
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)


class LogConfig(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"  # `intake run`'s lines on stderr (and the file)
    # also to this file (relative: from the config file's folder), rotated at max_bytes, `backups` kept
    file: Path | None = None
    max_bytes: int = Field(10_000_000, ge=10_000)
    backups: int = Field(5, ge=0)


class MailboxEntry(Strict):
    """`[mailboxes.<name>]`: one mailbox of an installation that serves several (a city and its
    districts), each with its campaign; its `smtp`, `replies`, `notify`, `forward` and `web`
    tables are laid key by key over the top-level ones (service/mailboxes.py)."""

    campaign: str
    mailbox: MailboxConfig = MaildirConfig()
    smtp: dict = {}
    replies: dict = {}
    notify: dict = {}
    forward: dict = {}
    web: dict = {}  # its console's own port, where each campaign has one


class Config(Strict):
    campaign: str = ""  # the campaign profile id this mailbox serves (or one per [mailboxes.<name>])
    data_path: Path = Path("data")  # raw mail, files, logs: readable by the service's user only
    database_url: str = ""  # default: sqlite:///<data_path>/intake.sqlite3; or postgresql+psycopg://…
    # the database's password, kept out of the file as the mailbox's is (a URL's own password also works)
    database_password_env: str | None = None
    database_password_file: Path | None = None
    profile_path: tuple[Path, ...] = ()  # extra folders of campaign profiles
    mailbox: MailboxConfig = MaildirConfig()
    smtp: SmtpConfig = SmtpConfig()
    replies: RepliesConfig = RepliesConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    forward: ForwardConfig = ForwardConfig()
    notify: NotifyConfig = NotifyConfig()
    web: WebConfig = WebConfig()
    log: LogConfig = LogConfig()
    mailboxes: dict[str, MailboxEntry] = {}

    @model_validator(mode="after")
    def _smtp_is_complete(self) -> "Config":
        if self.smtp.kind == "smtp" and not self.smtp.host:
            raise ValueError("smtp.kind = smtp 时必须写 smtp.host（发信服务器，如 smtp.qq.com）")
        return self

    @property
    def database(self) -> str:
        from service.dburl import database_url

        return database_url(self)

    # the folders under data_path that hold copies of nominees' files; purge empties them too
    @property
    def exports_path(self) -> Path:
        return self.data_path / "exports"

    @property
    def web_exports_path(self) -> Path:
        return self.exports_path / "web"

    @property
    def previews_path(self) -> Path:
        return self.data_path / "web" / "previews"


def load_config(path: Path) -> Config:
    """Read and check the config; relative paths are taken from the config file's folder.

    A config with `[mailboxes.<name>]` comes back as its top level (no campaign of its own):
    service/mailboxes.py makes one Config per mailbox of it."""
    from service.config_words import explain

    data = read_toml(path)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain(path, exc)) from None
    if not config.mailboxes and not config.campaign:
        raise ConfigError(f"{path}：没有写评选活动：请写 campaign = \"活动编号\"（intake campaigns 列出可用的），"
                          "或为每个邮箱写一节 [mailboxes.<名称>]，其中写 campaign")
    if config.mailboxes and (config.campaign or "mailbox" in data):
        raise ConfigError(f"{path}：已有 [mailboxes.*] 时，顶层的 campaign 和 [mailbox] 不再使用："
                          "请把它们移到某个 [mailboxes.<名称>] 中")
    return _anchored(config, Path(path).resolve().parent)


def read_toml(path: Path) -> dict:
    try:
        with Path(path).open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}（用 --config 指定，或设置环境变量 INTAKE_CONFIG）") from None
    except PermissionError:
        raise ConfigError(f"无权读取配置文件 {path}：请让运行 intake 的用户可读（chmod 640，属组为该用户）") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}：不是有效的 TOML（{exc}）：请检查引号、等号和方括号") from None


def _anchored(config: Config, base: Path) -> Config:
    return config.model_copy(update={
        "data_path": anchored(config.data_path, base),
        "profile_path": tuple(anchored(p, base) for p in config.profile_path),
        "mailbox": config.mailbox.anchored(base),
        "smtp": config.smtp.anchored(base),
        "web": config.web.model_copy(update={"session_secret_file": anchored(config.web.session_secret_file, base)}),
        "database_password_file": anchored(config.database_password_file, base),
        "log": config.log.model_copy(update={"file": anchored(config.log.file, base)}),
    })
