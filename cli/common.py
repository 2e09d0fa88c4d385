"""What every command shares: the config option, the runtime, who acts, times as typed by people.

Commands take their heavier imports inside their bodies, so that `intake check` starts
without loading the database, the mail sources and the scheduler.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import click

from core.times import parse_instant

config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
    help="the service's config file (default: $INTAKE_CONFIG, else ./intake.toml)")

actor_option = click.option("--by", "actor", default=lambda: os.environ.get("USER", "staff"),
                            show_default="$USER", help="who does this, for the audit trail")


def instant(value: str | None) -> datetime | None:
    """A time typed on the command line: ISO-8601, Beijing time when it carries no offset."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time, e.g. 2017-04-30T23:59:00+08:00") from None


def _remember_campaign(context: click.Context, _parameter, value: str | None) -> str | None:
    if value:
        context.meta["intake.campaign"] = value
    return value


# for a config that serves several campaigns (a city and its districts): which one a command works on
campaign_option = click.option("--campaign", "campaign_choice", expose_value=False, callback=_remember_campaign,
                               help="the campaign to work on, where the config serves several "
                                    "(default: $INTAKE_CAMPAIGN, else the config's only one)")


def runtime_from(config_file: Path | None, campaign: str | None = None, service: bool = False):
    """The runtime of the config's campaign (or --campaign's), logging set up as the config says."""
    import campaigns
    from core.settings import ConfigError
    from service import logs
    from service.config_words import unknown_campaign
    from service.runtime import config_path, keep_temporary_files_inside, open_runtime
    from storage.db import DatabaseUnusable

    context = click.get_current_context(silent=True)
    campaign = campaign or (context.meta.get("intake.campaign") if context else None)
    try:
        runtime = open_runtime(config_path(config_file), campaign)
    except campaigns.ProfileError as exc:
        raise click.ClickException(unknown_campaign(exc)) from None
    except (ConfigError, DatabaseUnusable) as exc:
        raise click.ClickException(str(exc)) from None
    logs.setup_from(runtime.config, service=service)
    keep_temporary_files_inside(runtime)
    return runtime


def database_runtime(config_file: Path | None):
    """The runtime of the config's first mailbox, for what belongs to the installation's one
    database rather than to a campaign (the console's accounts): no --campaign asked."""
    from core.settings import ConfigError
    from service.mailboxes import served
    from service.runtime import config_path

    try:
        first = served(config_path(config_file))[0].campaign
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return runtime_from(config_file, first or None)


def campaign_runtime(config_file: Path | None, campaign_id: str | None):
    """The runtime, with the profile of --campaign when it names another campaign of this database."""
    return runtime_from(config_file, campaign_id)


def send_now(runtime) -> str:
    """Send the outbox at once, as the service's send job would; the service sends it otherwise."""
    from service.lock import Busy
    from service.sending import send_outbox

    try:
        report = send_outbox(runtime)
    except Busy:
        return "服务正在发送，回复将随之发出"
    except Exception as exc:  # noqa: BLE001 - the reply is queued and safe; the service retries
        return f"暂未发出（{exc}），服务将重试"
    if report.configuration_error:
        return f"暂未发出：发送配置有误（{report.configuration_error}），请运行 intake doctor"
    return f"已发送 {len(report.sent)} 封，待重试 {len(report.retrying)} 封，失败 {len(report.failed)} 封"
