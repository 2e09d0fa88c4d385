"""The service's commands: run, poll, status, log, doctor, reprocess, purge.

Their imports are taken inside each command, so that `intake check` starts without
loading the database, the mail sources and the scheduler.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import click

SHANGHAI = timezone(timedelta(hours=8))
STATE_WORDS = {"filed": "已登记", "fetched": "待处理", "failed": "失败待重试", "quarantined": "已隔离"}

config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
    help="the service's config file (default: $INTAKE_CONFIG, else ./intake.toml)")


def runtime_from(config_file: Path | None):
    import campaigns
    from intake.config import ConfigError
    from intake.runtime import config_path, open_runtime
    from storage.db import DatabaseUnusable

    try:
        return open_runtime(config_path(config_file))
    except (ConfigError, campaigns.ProfileError, DatabaseUnusable) as exc:
        raise click.ClickException(str(exc)) from None


def _print_filed(runtime, ids: list[int]) -> None:
    from intake.daylog import message_entry
    from storage.db import session as new_session
    from storage.models import MessageRow

    with new_session(runtime.engine) as session:
        for row_id in ids:
            click.echo("\n".join(message_entry(session, session.get(MessageRow, row_id))) + "\n")


def _show_progress(report) -> None:
    """A running count on the terminal when there is much to take (the entries follow at the end)."""
    if report.fetched % 10 == 0 and click.get_text_stream("stderr").isatty():
        click.echo(f"\r已收取 {report.fetched} 封，登记 {len(report.filed)} 封…", err=True, nl=False)


def poll_and_send(runtime):
    from intake import stagetimes
    from intake.lock import exclusive
    from intake.outbox import send_due, utcnow
    from intake.service import Intake

    with exclusive(runtime.config.data_path, runtime.engine, "poll"):
        source = runtime.source()
        try:
            report = Intake(runtime.config, runtime.profile, runtime.engine, source).poll_once(
                progress=_show_progress)
        finally:
            source.close()
    with exclusive(runtime.config.data_path, runtime.engine, "send"), stagetimes.stage("send"):
        sent = send_due(runtime.engine, runtime.transport(), runtime.config.replies, utcnow)
    stagetimes.write()
    return report, sent


def register(main: click.Group) -> None:
    @main.command()
    @config_option
    @click.option("--once", is_flag=True, required=True, help="take what is there now, then stop")
    def poll(config_file: Path | None, once: bool) -> None:
        """Take new mail once: file it, queue and send the replies, print what was done."""
        from ingest.sources.errors import SourceError
        from intake.lock import Busy
        from storage.blobs import BlobStoreFull
        from storage.db import DatabaseFull

        runtime = runtime_from(config_file)
        try:
            report, sent = poll_and_send(runtime)
        except (Busy, SourceError, BlobStoreFull, DatabaseFull) as exc:  # a full disk: nothing half-filed, mail waits
            raise click.ClickException(f"本次未能收取邮件：{exc}") from None
        _print_filed(runtime, report.filed + report.quarantined)
        click.echo(f"收取 {report.fetched} 封，登记 {len(report.filed)} 封，失败待重试 {len(report.failed)} 封，"
                   f"隔离 {len(report.quarantined)} 封；回复已发送 {len(sent.sent)} 封，"
                   f"待重试 {len(sent.retrying)} 封，失败 {len(sent.failed)} 封")

    @main.command()
    @config_option
    def run(config_file: Path | None) -> None:
        """Run the service in the foreground until SIGTERM/SIGINT."""
        from scheduler import Service

        Service(runtime_from(config_file)).run()

    @main.command()
    @config_option
    def status(config_file: Path | None) -> None:
        """What is filed, what replies are pending, when the last poll was, what failed."""
        runtime = runtime_from(config_file)
        for line in status_lines(runtime):
            click.echo(line)

    @main.command("log")
    @config_option
    @click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="the day (default: today)")
    def show_log(config_file: Path | None, day: datetime | None) -> None:
        """Print the intake log of a day (Asia/Shanghai)."""
        from intake.daylog import render_day

        runtime = runtime_from(config_file)
        click.echo(render_day(runtime.engine, runtime.profile.id, day.date() if day else date.today()))


    @main.command()
    @config_option
    def doctor(config_file: Path | None) -> None:
        """Check the config, database, mailbox, SMTP and helper programs; one line each."""
        from intake.doctor import run_checks
        from intake.runtime import config_path

        checks = run_checks(config_path(config_file))
        for check in checks:
            click.echo(check.line())
        if any(not c.ok and not c.optional for c in checks):
            raise SystemExit(1)

    @main.command()
    @config_option
    @click.argument("message_ids", nargs=-1, type=int, required=True)
    @click.option("--apply", "apply_it", is_flag=True, help="file the new verdict (the reply is held)")
    @click.option("--send", is_flag=True, help="with --apply: queue the new reply for sending")
    @click.option("--replace-decisions", is_flag=True,
                  help="with --apply: file the new verdict even over staff review decisions")
    @click.option("--by", "actor", default=lambda: os.environ.get("USER", "staff"), show_default="$USER",
                  help="who does this, for the audit trail")
    def reprocess(config_file: Path | None, message_ids: tuple[int, ...], apply_it: bool, send: bool,
                  replace_decisions: bool, actor: str) -> None:
        """Judge stored messages again and show what changed; change nothing unless --apply."""
        from intake.outbox import utcnow
        from intake.reprocess import NotFound, apply, compare

        runtime = runtime_from(config_file)
        for message_id in message_ids:
            try:
                comparison = compare(runtime, message_id)
            except NotFound as exc:
                raise click.ClickException(str(exc)) from None
            change = "有变化" if comparison.changed else "无变化"
            click.echo(f"#{message_id}（{comparison.state}）：{comparison.old_status} → {comparison.new_status}，{change}")
            click.echo(f"  原结论：{', '.join(sorted(comparison.old_codes)) or '无问题'}")
            click.echo(f"  新结论：{', '.join(sorted(comparison.new_codes)) or '无问题'}")
            for decision in comparison.decisions:
                click.echo(f"  工作人员复核决定：{decision}")
            if apply_it and comparison.decisions and not replace_decisions:
                click.echo("  未登记：按新结论登记会取代上述复核决定；确需取代请加 --replace-decisions")
                continue
            if apply_it:
                reply = apply(runtime, comparison, send=send, actor=actor, now=utcnow())
                state = reply.state if reply else "不回复"
                click.echo(f"  已按新结论登记；回复：{state}")

    @main.command()
    @config_option
    @click.option("--campaign", "campaign_id", required=True)
    @click.option("--yes", is_flag=True, help="really remove (otherwise only say what would go)")
    @click.option("--by", "actor", default=lambda: os.environ.get("USER", "staff"), show_default="$USER")
    def purge(config_file: Path | None, campaign_id: str, yes: bool, actor: str) -> None:
        """After a campaign: remove its raw mail and files, keep the records."""
        from intake.purge import purge_campaign

        runtime = runtime_from(config_file)
        if not yes:
            click.echo(f"将删除评选活动 {campaign_id} 的原始邮件和附件（记录保留）。确认请加 --yes")
            return
        purged = purge_campaign(runtime, campaign_id, actor)
        click.echo(f"已删除 {campaign_id} 的原始邮件 {purged.blobs_removed} 份（{purged.bytes_removed:,} 字节），"
                   f"涉及邮件 {purged.messages} 封；与其他活动共用而保留 {purged.kept_shared} 份；"
                   f"删除工作人员导出和核对副本 {len(purged.folders_removed)} 处。记录保留。")
        for path in purged.folders_removed:
            click.echo(f"  已删除 {path}")


def status_lines(runtime) -> list[str]:
    from sqlmodel import func, select

    from storage.db import session as new_session
    from storage.models import MailboxState, MessageRow, ReplyRow

    with new_session(runtime.engine) as session:
        by_state = dict(session.exec(select(MessageRow.state, func.count()).group_by(MessageRow.state)).all())
        by_status = dict(session.exec(select(MessageRow.status, func.count())
                                      .where(MessageRow.state == "filed").group_by(MessageRow.status)).all())
        replies = dict(session.exec(select(ReplyRow.state, func.count()).group_by(ReplyRow.state)).all())
        polls = session.exec(select(MailboxState)).all()
        problems = session.exec(select(MessageRow).where(MessageRow.state.in_(("failed", "quarantined")))
                                .order_by(MessageRow.id)).all()
    from intake.daylog import REPLY_WORDS
    from intake.summary import STATUS_WORDS

    def words(counts: dict, names: dict) -> str:
        return "，".join(f"{names.get(key, key)} {count}" for key, count in sorted(counts.items(), key=str)) or "无"

    lines = [f"评选活动：{runtime.profile.id}（{runtime.profile.title}）",
             f"邮件：{words(by_state, STATE_WORDS)}",
             f"已登记邮件的结果：{words(by_status, STATUS_WORDS)}",
             f"回复：{words(replies, REPLY_WORDS)}"]
    for state in polls:
        last = state.last_poll_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if state.last_poll_at else "从未"
        lines.append(f"邮箱 {state.account} {state.folder}：上次收取 {last}，UID {state.last_uid}")
        if state.last_error:
            lines.append(f"  上次收取中断：{state.last_error}")
    lines += forward_lines(runtime)
    for row in problems:
        lines.append(f"问题邮件 #{row.id}（{STATE_WORDS[row.state]}，已试{row.attempts}次）：{row.last_error}")
    return lines


FORWARD_WORDS = {"written": "已写出待人工发送", "pending": "待发送", "sent": "已发送", "failed": "发送失败"}


def forward_lines(runtime) -> list[str]:
    """A district's forwards upward: how many went, how many accepted nominees still wait."""
    if not runtime.profile.forwards_to:
        return []
    from sqlmodel import func, select

    from intake.forward import forwarded_ids, waiting
    from storage.db import session as new_session
    from storage.models import ForwardMessageRow, ForwardRow

    with new_session(runtime.engine) as session:
        mails = dict(session.exec(select(ForwardMessageRow.state, func.count())
                                  .join(ForwardRow, ForwardRow.id == ForwardMessageRow.forward_id)
                                  .where(ForwardRow.campaign_id == runtime.profile.id)
                                  .group_by(ForwardMessageRow.state)).all())
        carried, left = len(forwarded_ids(session, runtime.profile.id)), len(waiting(session, runtime.profile.id))
    states = "，".join(f"{words} {mails[state]}" for state, words in FORWARD_WORDS.items() if state in mails) or "尚未报送"
    return [f"报送上级（{runtime.profile.forwards_to}）：邮件 {states}；已报送 {carried} 人，受理待报送 {left} 人"]
