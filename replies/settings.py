"""The replies' sections of the config file: how replies leave (`[smtp]`) and when they may (`[replies]`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from core.settings import Secret, Strict, anchored


class SmtpConfig(Secret):
    kind: Literal["folder", "smtp"] = "folder"
    # folder: replies are written as .eml files (the embedded default)
    outbox_path: Path = Path("data/outbox")
    # smtp
    host: str = ""
    port: int = 465
    security: Literal["ssl", "starttls", "plain"] = "ssl"  # plain is refused except on loopback
    username: str = ""
    timeout_seconds: float = 60.0
    ca_file: Path | None = None
    helo_name: str = ""  # the EHLO name, where the provider checks it; default: this host's name

    def anchored(self, base: Path) -> "SmtpConfig":
        return self.model_copy(update={"outbox_path": anchored(self.outbox_path, base),
                                       "password_file": anchored(self.password_file, base),
                                       "ca_file": anchored(self.ca_file, base)})


class RepliesConfig(Strict):
    from_addr: str = "intake@localhost"  # the address replies come from (usually the campaign mailbox)
    # hold replies for staff where the receiving server saw SPF/DKIM fail (forged senders)
    hold_on_failed_authentication: bool = True
    # the authserv-id of our own receiving server's Authentication-Results (RFC 8601); empty:
    # trust the topmost header, which our server adds last
    authserv_ids: tuple[str, ...] = ()
    # caps on automatic replies (a reply over one waits for staff, never dropped): the campaign's
    # own address must not be turned on others; the per-address cap is the profile's
    max_per_hour: int = Field(200, ge=1)
    max_per_day: int = Field(2000, ge=1)
    max_per_domain_per_day: int = Field(300, ge=1)
    # mails answering our replies from one sender in a day before what we say goes to staff first
    max_answers_per_day: int = Field(3, ge=1)
    max_attempts: int = Field(8, ge=1)  # 4xx answers are retried this many times, with backoff
    first_retry_seconds: float = Field(60.0, gt=0)
