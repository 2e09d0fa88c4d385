"""The service's commands: run, poll, status, log, doctor."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from cli.common import config_option, runtime_from


def _print_filed(runtime, ids: list[int]) -> None:
    from service.daylog import message_entry
    from storage.db import session as new_session
    from storage.models import MessageRow

    with new_session(runtime.engine) as session:
        for row_id in ids:
            click.echo("\n".join(message_entry(session, session.get(MessageRow, row_id))) + "\n")


def _show_progress(report) -> None:
    """A running count on the terminal when there is much to take (the entries follow at the end)."""
    if report.fetched % 10 == 0 and click.get_text_stream("stderr").isatty():
        click.echo(f"\r已收取 {report.fetched} 封，登记 {len(report.filed)} 封…", err=True, nl=False)


@click.command()
@config_option
@click.option("--once", is_flag=True, required=True, help="take what is there now, then stop")
def poll(config_file: Path | None, once: bool) -> None:
    """Take new mail once: file it, queue and send the replies, print what was done."""
    from ingest.sources.errors import SourceError
    from service.intake import poll_and_send
    from service.lock import Busy
    from storage.blobs import BlobStoreFull
    from storage.db import DatabaseFull

    runtime = runtime_from(config_file)
    try:
        report, sent = poll_and_send(runtime, progress=_show_progress)
    except (Busy, SourceError, BlobStoreFull, DatabaseFull) as exc:  # a full disk: nothing half-filed, mail waits
        raise click.ClickException(f"本次未能收取邮件：{exc}") from None
    _print_filed(runtime, report.filed + report.quarantined)
    click.echo(f"收取 {report.fetched} 封，登记 {len(report.filed)} 封，失败待重试 {len(report.failed)} 封，"
               f"隔离 {len(report.quarantined)} 封；回复已发送 {len(sent.sent)} 封，"
               f"待重试 {len(sent.retrying)} 封，失败 {len(sent.failed)} 封")


@click.command()
@config_option
def run(config_file: Path | None) -> None:
    """Run the service in the foreground until SIGTERM/SIGINT."""
    from scheduler import Service

    Service(runtime_from(config_file)).run()


@click.command()
@config_option
def status(config_file: Path | None) -> None:
    """What is filed, what replies are pending, when the last poll was, what failed."""
    from service.status import status_lines

    runtime = runtime_from(config_file)
    for line in status_lines(runtime):
        click.echo(line)


@click.command("log")
@config_option
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="the day (default: today)")
def show_log(config_file: Path | None, day: datetime | None) -> None:
    """Print the intake log of a day (Asia/Shanghai)."""
    from service.daylog import render_day

    runtime = runtime_from(config_file)
    click.echo(render_day(runtime.engine, runtime.profile.id, day.date() if day else date.today()))


@click.command()
@config_option
def doctor(config_file: Path | None) -> None:
    """Check the config, database, mailbox, SMTP and helper programs; one line each."""
    from service.doctor import run_checks
    from service.runtime import config_path

    checks = run_checks(config_path(config_file))
    for check in checks:
        click.echo(check.line())
    if any(not c.ok and not c.optional for c in checks):
        raise SystemExit(1)


COMMANDS = (poll, run, status, show_log, doctor)
