"""The service's commands: run, poll, status, log, doctor."""

from __future__ import annotations

from datetime import datetime
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
    """Run the service in the foreground until SIGTERM/SIGINT (and the web console, when [web] with_service)."""
    from scheduler import Service

    runtime = runtime_from(config_file)
    companions = []
    if runtime.config.web.with_service:
        from core.settings import ConfigError
        from web.server import Companion

        try:
            companions.append(Companion(runtime))
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    Service(runtime, companions).run()


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
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="the day (default: today in Beijing)")
def show_log(config_file: Path | None, day: datetime | None) -> None:
    """Print the intake log of a day (Beijing time)."""
    from core.times import today
    from service.daylog import render_day

    runtime = runtime_from(config_file)
    click.echo(render_day(runtime.engine, runtime.profile.id, day.date() if day else today()))


@click.command()
@config_option
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="the day (default: yesterday in Beijing)")
@click.option("--send", is_flag=True, help="mail it to [notify] addresses now (otherwise it is only printed)")
def digest(config_file: Path | None, day: datetime | None, send: bool) -> None:
    """The office's digest of a day: the intake and what waits for staff; printed, or mailed with --send."""
    from datetime import timedelta

    from cli.common import send_now
    from core.times import today, utcnow
    from service.digest import body_of, queue_digest, subject_of

    runtime = runtime_from(config_file)
    chosen = day.date() if day else today() - timedelta(days=1)
    if not send:
        click.echo(subject_of(runtime, chosen) + "\n")
        click.echo(body_of(runtime, chosen, utcnow()))
        return
    if not runtime.config.notify.addresses:
        raise click.ClickException("配置中没有 [notify] addresses：收件日报发往评选办公室自己的邮箱，请先填写")
    queued = queue_digest(runtime, chosen, utcnow())
    click.echo(f"收件日报 {chosen.isoformat()}：" + ("、".join(r.to_addr for r in queued) or "此前已发出，不再重复"))
    click.echo(f"发送：{send_now(runtime)}")


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


COMMANDS = (poll, run, status, show_log, digest, doctor)
