"""The service's commands: run, poll, status, log, doctor."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import click

from cli.common import campaign_option, config_option, runtime_from

# the running service holds whole messages, megabytes each, in its threads: from this size on
# their buffers get pages of their own, returned when freed, where glibc's own threshold (raised
# to the size of a large block freed, up to 32 MB) kept them in its heaps
# (bench.intake_speed: its peak 236 → 193 MB at N=100 and 262–264 → 226 MB at N=500, same CPU)
SERVICE_MMAP_BYTES = 1 << 20


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


def _runtimes(config_file: Path | None) -> list:
    """--campaign's runtime, else every mailbox of the config (one, or a city and its districts)."""
    import campaigns
    from core.settings import ConfigError
    from service import logs
    from service.config_words import unknown_campaign
    from service.runtime import config_path, keep_temporary_files_inside, open_installation
    from storage.db import DatabaseUnusable

    context = click.get_current_context()
    if context.meta.get("intake.campaign") or os.environ.get("INTAKE_CAMPAIGN"):
        return [runtime_from(config_file)]
    try:
        runtimes = open_installation(config_path(config_file))
    except (ConfigError, DatabaseUnusable) as exc:
        raise click.ClickException(str(exc)) from None
    except campaigns.ProfileError as exc:
        raise click.ClickException(unknown_campaign(exc)) from None
    logs.setup_from(runtimes[0].config, service=False)
    keep_temporary_files_inside(runtimes[0])
    return runtimes


@click.command()
@config_option
@campaign_option
@click.option("--once", is_flag=True, required=True, help="take what is there now, then stop")
def poll(config_file: Path | None, once: bool) -> None:
    """Take new mail once (every mailbox of the config, or --campaign's): file it, send the replies."""
    runtimes = _runtimes(config_file)
    failed = []
    for runtime in runtimes:
        if len(runtimes) > 1:
            click.echo(f"== {runtime.profile.id}（{runtime.profile.title}）")
        try:
            _poll_one(runtime)
        except click.ClickException as exc:
            if len(runtimes) == 1:
                raise
            click.echo(f"错误：{exc.message}", err=True)  # one mailbox failing never stops the others
            failed.append(runtime.profile.id)
    if failed:
        raise click.ClickException(f"未能收取：{'、'.join(failed)}")


def _poll_one(runtime) -> None:
    from ingest.sources.errors import SourceError
    from service.lock import Busy
    from service.sending import poll_and_send
    from storage.blobs import BlobStoreFull
    from storage.db import DatabaseFull

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
    """Run the service in the foreground until SIGTERM/SIGINT (a second one: at once); the web
    console too, when [web] with_service."""
    import logging

    import campaigns
    from core.children import large_blocks_apart
    from core.settings import ConfigError
    from scheduler import Service
    from service import forkserver, logs
    from service.config_words import unknown_campaign
    from service.runtime import config_path, keep_temporary_files_inside, open_installation
    from storage.db import DatabaseUnusable

    logs.setup("INFO")  # before the config is read: what stops the start is said in the journal's form too
    try:
        runtimes = open_installation(config_path(config_file))
    except (ConfigError, DatabaseUnusable, campaigns.ProfileError) as exc:
        text = unknown_campaign(exc) if isinstance(exc, campaigns.ProfileError) else str(exc)
        logging.getLogger("intake").error("无法启动：%s", text)
        raise SystemExit(1) from None
    logs.setup_from(runtimes[0].config, service=True)
    keep_temporary_files_inside(runtimes[0])
    large_blocks_apart(SERVICE_MMAP_BYTES)
    forkserver.start()  # judging workers come from it: started from this thread, before the scheduler's
    Service(runtimes, _companions(runtimes)).run()


def _companions(runtimes) -> list:
    """The web console beside the jobs, for each mailbox whose [web] says with_service, each
    campaign's records on its own port; where two would share a port, the first mailbox's is
    served and the log says how to give the other its own."""
    import logging

    from core.settings import ConfigError
    from web.server import Companion

    by_port: dict[tuple[str, int], object] = {}
    for runtime in (r for r in runtimes if r.config.web.with_service):
        address = (runtime.config.web.host, runtime.config.web.port)
        if address in by_port:
            logging.getLogger("intake").warning(
                "评选活动 %s 的工作台与 %s 用了同一端口 %s，未启动；请在 [mailboxes.名称.web] 中为它设置 port",
                runtime.profile.id, by_port[address].profile.id, address[1])
            continue
        by_port[address] = runtime
    try:
        return [Companion(runtime) for runtime in by_port.values()]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@config_option
@campaign_option
@click.option("--all", "everything", is_flag=True, help="every campaign in the database, not only the config's")
def status(config_file: Path | None, everything: bool) -> None:
    """What is filed, what replies are pending, when the last poll was, what failed: per campaign."""
    from service.status import campaigns_to_show, status_lines

    runtimes = _runtimes(config_file)
    shown = campaigns_to_show(runtimes, everything)
    for number, runtime in enumerate(shown):
        if number:
            click.echo("")
        for line in status_lines(runtime):
            click.echo(line)


@click.command("log")
@config_option
@campaign_option
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="the day (default: today in Beijing)")
def show_log(config_file: Path | None, day: datetime | None) -> None:
    """Print the intake log of a day (Beijing time)."""
    from core.times import today
    from service.daylog import render_day

    runtime = runtime_from(config_file)
    click.echo(render_day(runtime.engine, runtime.profile.id, day.date() if day else today()))


@click.command()
@config_option
@campaign_option
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
