"""One installation, several mailboxes: a city union and its districts, each with its campaign.

The config either names one campaign and one `[mailbox]` (the form every existing config has),
or lists mailboxes:

    [mailboxes.city]
    campaign = "chongqing-bayu-2017"
    [mailboxes.city.mailbox]
    kind = "imap"
    …
    [mailboxes.shapingba]
    campaign = "shapingba-bayu-2017"
    [mailboxes.shapingba.mailbox]
    …
    [mailboxes.shapingba.replies]
    from_addr = "spbgh@example.cn"

Each entry becomes a complete single-mailbox `Config`: the top level's `[smtp]`, `[replies]`,
`[notify]`, `[forward]` and `[web]` with the entry's tables laid over them key by key, and the top
level's data folder, database, schedule and log, which the mailboxes share. Everything that
works on one mailbox (the poll, the outbox, the daily log, the staff tools) then works on each
unchanged; the scheduler runs each mailbox's jobs on its own (scheduler.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from core.settings import ConfigError
from service.config import Config, _anchored, load_config, read_toml

# the tables an entry may lay over the top level's; the rest is the installation's, shared
OVERLAID = ("smtp", "replies", "notify", "forward", "web")  # web: each campaign's console on its own port


@dataclass(frozen=True)
class Served:
    """One mailbox of the installation: its name in the config ('' for the single form) and its config."""

    name: str
    config: Config

    @property
    def campaign(self) -> str:
        return self.config.campaign


def served(path: Path) -> list[Served]:
    """Every mailbox the config file names, each as a complete config; raises ConfigError."""
    top = load_config(path)
    if not top.mailboxes:
        return [Served("", top)]
    raw = read_toml(path)
    shared = {key: value for key, value in raw.items() if key != "mailboxes"}
    found = [Served(name, _entry_config(path, name, shared, entry)) for name, entry in raw["mailboxes"].items()]
    campaigns = [s.campaign for s in found]
    twice = sorted({c for c in campaigns if campaigns.count(c) > 1})
    if twice:
        raise ConfigError(f"{path}：评选活动 {'、'.join(twice)} 出现在多个邮箱中：每个评选活动只能有一个收件邮箱")
    return found


def _entry_config(path: Path, name: str, shared: dict, entry: dict) -> Config:
    from service.config_words import explain

    merged = dict(shared)
    merged["campaign"] = entry.get("campaign", "")
    if "mailbox" in entry:
        merged["mailbox"] = entry["mailbox"]
    for table in OVERLAID:
        merged[table] = {**shared.get(table, {}), **entry.get(table, {})}
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(explain(path, exc, prefix="") + f"（[mailboxes.{name}] 与顶层设置合并后）") from None
    return _anchored(config, Path(path).resolve().parent)


def choose(found: list[Served], campaign: str | None, path: Path) -> Served | None:
    """The mailbox serving `campaign`; with none given, the only one. None: a campaign this config does
    not serve (the staff tools may still read it from the shared database)."""
    if campaign:
        return next((s for s in found if s.campaign == campaign), None)
    if len(found) == 1:
        return found[0]
    names = "、".join(s.campaign for s in found)
    raise ConfigError(f"{path} 服务多个评选活动（{names}）：请用 --campaign 指定其中一个"
                      "（或设置环境变量 INTAKE_CAMPAIGN）")
