"""`[mailbox]` with kind = "imap": the account, how to reach it, and what is refused before connecting."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator

from core.net import is_loopback
from core.settings import ConfigError, Secret, anchored
from ingest.sources.errors import SourceMisconfigured


class ImapConfig(Secret):
    """`[mailbox]` with kind = "imap": one account and folder on an IMAP server."""

    kind: Literal["imap"] = "imap"
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

    @model_validator(mode="after")
    def _complete(self) -> "ImapConfig":
        if not (self.host and self.username):
            raise ValueError("mailbox.kind = imap 时必须写 mailbox.host（收信服务器，如 imap.qq.com）"
                             "和 mailbox.username（邮箱地址）")
        return self

    def anchored(self, base: Path) -> "ImapConfig":
        return self.model_copy(update={"password_file": anchored(self.password_file, base),
                                       "ca_file": anchored(self.ca_file, base)})


def check_config(config: ImapConfig) -> None:
    if config.security == "plain" and not is_loopback(config.host):
        raise SourceMisconfigured(
            f'mailbox.security = "plain" 会把密码不加密地发给 {config.host}：不加密只允许连本机（localhost、'
            '127.0.0.1、::1）。请改为 security = "ssl"（端口 993）或 "starttls"（端口 143）')
    if config.processed_action == "move" and config.processed_folder == config.folder:
        raise SourceMisconfigured("mailbox.processed_folder 不能与 mailbox.folder 相同（已登记的邮件要移到另一个文件夹）")


def password_of(config: ImapConfig) -> str:
    try:
        return config.password()
    except ConfigError as exc:
        raise SourceMisconfigured(f"收件邮箱（mailbox）：{exc}") from None


