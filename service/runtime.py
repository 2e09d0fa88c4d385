"""Everything the service needs, built once from the config file."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

import campaigns
from campaigns.schema import Profile
from core.times import SHANGHAI
from service.config import Config, load_config
from storage.blobs import BlobStore
from storage.db import open_database

CONFIG_ENV = "INTAKE_CONFIG"
DEFAULT_CONFIG = Path("intake.toml")


@dataclass
class Runtime:
    config: Config
    profile: Profile
    engine: Engine

    @property
    def blobs(self) -> BlobStore:
        """The raw mail and forwarded batches, by sha256, under the data folder."""
        return BlobStore(self.config.data_path / "blobs")

    def source(self):
        from ingest.sources import open_source

        return open_source(self.config.mailbox)

    def transport(self):
        from replies.transport import open_transport

        return open_transport(self.config.smtp)


def config_path(given: Path | None) -> Path:
    return given or Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG))


def open_runtime(path: Path) -> Runtime:
    """Config, campaign profile and migrated database; raises ConfigError, ProfileError, DatabaseUnusable."""
    config = load_config(path)
    profile = campaigns.load(config.campaign, config.profile_path)
    config.data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(config.data_path, 0o700)
    _log_to_file(config.data_path / "logs" / "intake.log")
    return Runtime(config, profile, open_database(config.database))


def _log_to_file(path: Path) -> None:
    logger = logging.getLogger("intake")
    if any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # the log names senders and nominees: for the service's user only, as the database is
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(BeijingFormatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


class BeijingFormatter(logging.Formatter):
    """Log lines stamped in Beijing time with its offset, whatever zone the server keeps."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, SHANGHAI).isoformat(sep=" ", timespec="seconds")
