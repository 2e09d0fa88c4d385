"""The service's log: one line per event on stderr (journald and `docker logs` take it from there),
optionally also a rotated file; each line with Beijing time and its zone, the level, the campaign
it concerns, and the mail (M8) and nominee (#12) numbers the message names.

    2017-04-20 10:00:03+08:00 INFO [chongqing-bayu-2017] 已登记邮件 M8（unit8@example.cn，…）：受理，被推荐人 #12 BYGJ-2017-0007

No ID or phone number is ever written in full (nominees/masking.py): every line is masked as it
is formatted, whatever a library put in it. A line break inside a message (a server's answer, a
traceback) is written as ' ⏎ ' so that one event stays one line for journalctl and grep.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import logging.handlers
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Iterator

from core import inert
from core.times import SHANGHAI
from nominees.masking import mask_numbers_in

LOGGER = "intake"
_campaign: contextvars.ContextVar[str] = contextvars.ContextVar("intake_campaign", default="")
_MARK = "_intake_handler"


class BeijingFormatter(logging.Formatter):
    """`2017-04-20 10:00:03+08:00 LEVEL [campaign] message`, masked, on one line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(campaign_tag)s%(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, SHANGHAI).isoformat(sep=" ", timespec="seconds")

    def format(self, record: logging.LogRecord) -> str:
        campaign = getattr(record, "campaign", "") or _campaign.get()
        record.campaign_tag = f"[{campaign}] " if campaign else ""
        text = inert.text(super().format(record))  # no terminal escape from a subject reaches a console
        return mask_numbers_in(text).replace("\n", " ⏎ ")


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Each file, the first and every one after a rotation, made with mode 0600 whatever the umask."""

    def _open(self):
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(descriptor, "a", encoding=self.encoding, errors=self.errors)


@contextlib.contextmanager
def about(campaign: str) -> Iterator[None]:
    """Lines logged inside (by this thread) name this campaign."""
    token = _campaign.set(campaign)
    try:
        yield
    finally:
        _campaign.reset(token)


def setup(level: str = "INFO", file: Path | None = None, max_bytes: int = 10_000_000, backups: int = 5,
          stderr_level: str | None = None) -> None:
    """The `intake` logger to stderr (at `stderr_level`, default `level`) and, with `file`, to a file
    rotated at `max_bytes` (mode 0600: it names senders). Called again, it replaces what it set."""
    # on the root logger: a library's warning (a driver, the scheduler) is one line in the same form
    logger = logging.getLogger()
    for handler in [h for h in logger.handlers if getattr(h, _MARK, False)]:
        logger.removeHandler(handler)
        handler.close()
    formatter = BeijingFormatter()
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(stderr_level or level)
    handlers: list[logging.Handler] = [err]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        rotating = _PrivateRotatingFile(file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        rotating.setLevel(level)
        handlers.append(rotating)
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        logger.addHandler(handler)
    lowest = min(logging.getLevelName(level), logging.getLevelName(stderr_level or level))
    logging.getLogger(LOGGER).setLevel(lowest)
    logger.setLevel(max(lowest, logging.WARNING))  # other libraries: their warnings and errors only
    # "skipped: maximum number of running instances reached" is a long poll doing its work, not news
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def setup_from(config, service: bool) -> None:
    """As the config's `[log]` says; a command other than `intake run` shows only warnings on the terminal."""
    settings = config.log
    setup(settings.level, settings.file, settings.max_bytes, settings.backups,
          stderr_level=None if service else "WARNING")
