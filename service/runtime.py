"""Everything the service needs, built once from the config file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

import campaigns
from campaigns.schema import Profile
from core.settings import ConfigError
from service.config import Config
from service.mailboxes import Served, choose, served
from service.scratch import use_private_tmp
from storage.blobs import BlobStore, open_blobs
from storage.schema import open_upgraded_where_safe

CONFIG_ENV = "INTAKE_CONFIG"
CAMPAIGN_ENV = "INTAKE_CAMPAIGN"
DEFAULT_CONFIG = Path("intake.toml")


@dataclass
class Runtime:
    config: Config
    profile: Profile
    engine: Engine
    # the campaigns every mailbox of this config serves (one for the single-mailbox form)
    served: tuple[str, ...] = field(default=())
    path: Path | None = None  # the config file, to open the installation's other mailboxes

    @property
    def blobs(self) -> BlobStore:
        """The raw mail and forwarded batches, by sha256: under the data folder, or in PostgreSQL
        where two machines share the database (storage/blobs.py)."""
        return open_blobs(self.config.data_path, self.engine)

    def source(self):
        from ingest.sources import open_source

        return open_source(self.config.mailbox)

    def transport(self):
        from replies.transport import open_transport

        return open_transport(self.config.smtp)


def config_path(given: Path | None) -> Path:
    return given or Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG))


def open_runtime(path: Path, campaign: str | None = None) -> Runtime:
    """Config, campaign profile and migrated database for one campaign of the config (the only one,
    or `campaign`, else $INTAKE_CAMPAIGN); raises ConfigError, ProfileError, DatabaseUnusable.

    A campaign the config does not serve is opened with the first mailbox's settings: the staff
    tools read a district's records from the city's shared database that way."""
    found = served(path)
    campaign = campaign or os.environ.get(CAMPAIGN_ENV) or None
    chosen = choose(found, campaign, path)
    config = chosen.config if chosen is not None else found[0].config.model_copy(update={"campaign": campaign})
    engine = _engine(config)
    profile = campaigns.load(config.campaign, config.profile_path)
    return Runtime(config, profile, engine, tuple(s.campaign for s in found), Path(path))


def open_installation(path: Path) -> list[Runtime]:
    """One runtime per mailbox of the config, sharing one database engine."""
    found: list[Served] = served(path)
    engine = _engine(found[0].config)
    names = tuple(s.campaign for s in found)
    return [Runtime(s.config, campaigns.load(s.campaign, s.config.profile_path), engine, names, Path(path))
            for s in found]


def sibling(runtime: Runtime, campaign: str) -> Runtime | None:
    """The runtime of another mailbox of the same installation (the city of a district), sharing the
    database engine; None when this config does not serve that campaign."""
    if campaign not in runtime.served or runtime.path is None:
        return None
    chosen = choose(served(runtime.path), campaign, runtime.path)
    return Runtime(chosen.config, campaigns.load(campaign, chosen.config.profile_path), runtime.engine,
                   runtime.served, runtime.path)


def _engine(config: Config) -> Engine:
    data = config.data_path
    try:
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(data, 0o700)
    except OSError as exc:
        raise ConfigError(f"无法建立数据目录 {data}（{exc.strerror}）：请检查 data_path，并让运行 intake 的用户可写") from None
    return open_upgraded_where_safe(config.database)


def keep_temporary_files_inside(runtime: Runtime) -> None:
    """This process and its children write temporary files under the data folder (service/scratch.py).
    Called by the command line, for the process it is: a library user's own temp folder stays its own."""
    use_private_tmp(runtime.config.data_path)
