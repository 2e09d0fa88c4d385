"""Looking after stored mail: judge it again (reprocess), and remove a finished campaign's raw mail (purge)."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import actor_option, campaign_option, config_option, runtime_from
from core import words


@click.command()
@config_option
@campaign_option
@click.argument("message_keys", nargs=-1, required=True)
@click.option("--apply", "apply_it", is_flag=True, help="file the new verdict (the reply is held)")
@click.option("--send", is_flag=True, help="with --apply: queue the new reply for sending")
@click.option("--replace-decisions", is_flag=True,
              help="with --apply: file the new verdict even over staff review decisions")
@actor_option
def reprocess(config_file: Path | None, message_keys: tuple[str, ...], apply_it: bool, send: bool,
              replace_decisions: bool, actor: str) -> None:
    """Judge stored messages (M8, or 8) again and show what changed; change nothing unless --apply."""
    from core.times import utcnow
    from staff.reprocess import NotFound, apply, compare

    runtime = runtime_from(config_file)
    for key in message_keys:
        bare = key.strip().upper().removeprefix("M")
        if not bare.isdigit():
            raise click.BadParameter(f"{key!r} is no mail number (M8, or 8)")
        message_id = int(bare)
        try:
            comparison = compare(runtime, message_id)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
        change = "有变化" if comparison.changed else "无变化"
        state = words.word(words.MESSAGE_STATE, comparison.state)
        old, new = words.word(words.STATUS, comparison.old_status), words.word(words.STATUS, comparison.new_status)
        click.echo(f"M{message_id}（{state}）：{old} → {new}，{change}")
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


@click.command()
@config_option
@click.option("--campaign", "campaign_id", required=True)
@click.option("--yes", is_flag=True, help="really remove (otherwise only say what would go)")
@click.option("--imap-delete", is_flag=True,
              help="also expunge the campaign's mail from the IMAP server (its inbox and processed folder)")
@actor_option
def purge(config_file: Path | None, campaign_id: str, yes: bool, imap_delete: bool, actor: str) -> None:
    """After a campaign: remove its raw mail (also from the mailbox), staff copies and exports, and
    mask the ID and phone numbers in the database; the records stay."""
    from staff.purge import purge_campaign

    runtime = runtime_from(config_file, campaign_id)
    if not yes:
        click.echo(f"将删除评选活动 {campaign_id} 的原始邮件和附件（含邮箱中的原件"
                   f"{'，IMAP 服务器上的原件需另加 --imap-delete' if runtime.config.mailbox.kind == 'imap' else ''}）、"
                   "为工作人员写出的核对副本和导出文件、报送上级的邮件，并将数据库中的身份证号和电话号码改为遮盖形式"
                   "（记录保留）。确认请加 --yes")
        return
    purged = purge_campaign(runtime, campaign_id, actor, imap_delete=imap_delete)
    click.echo(f"已删除 {campaign_id} 的原始邮件 {purged.blobs_removed} 份（{purged.bytes_removed:,} 字节），"
               f"涉及邮件 {purged.messages} 封；与其他活动共用而保留 {purged.kept_shared} 份。记录保留。")
    click.echo(f"已删除的文件、文件夹和邮箱原件：{len(purged.removed)} 处")
    for path in purged.removed:
        click.echo(f"  已删除 {path}")
    masked = "，".join(f"{kind} {count} 条" for kind, count in sorted(purged.masked.items()))
    click.echo(f"数据库中的身份证号和电话号码已改为遮盖形式：{masked or '无需改动'}")
    if purged.not_removed:
        click.echo(f"未能删除：{len(purged.not_removed)} 处")
        for line in purged.not_removed:
            click.echo(f"  {line}")


COMMANDS = (reprocess, purge)
