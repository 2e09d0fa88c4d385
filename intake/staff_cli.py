"""Staff commands: review, paper, template, export, report, rank.

Imports are taken inside each command, as in service_cli, so that `intake check` stays quick.
Command output masks ID and phone numbers (CONTRACT §5); the files that `review show` writes
out and the exports hold them in full, in folders only the service's user may open.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from intake.service_cli import config_option, runtime_from
from intake.times import instant_option

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATUS_WORDS = {"accepted": "受理", "rejected": "退回", "needs_review": "待人工核对", "ignored": "不处理"}
REPLY_WORDS = {"pending": "待发送", "sent": "已发送", "failed": "发送失败", "held": "已暂扣", "superseded": "已作废"}
ROLE_WORDS = {"form": "推荐表", "form_scan": "推荐表扫描件", "photo": "照片", "video": "视频", "writeup": "事迹材料",
              "other": "其他材料"}

actor_option = click.option("--by", "actor", default=lambda: os.environ.get("USER", "staff"),
                            show_default="$USER", help="who does this, for the audit trail")


def _when(moment: datetime | None) -> str:
    from intake.times import aware

    return aware(moment).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _campaign_runtime(config_file: Path | None, campaign_id: str | None):
    """The runtime, with the profile of --campaign when it names another campaign of this database."""
    import campaigns

    runtime = runtime_from(config_file)
    if campaign_id and campaign_id != runtime.profile.id:
        from dataclasses import replace

        try:
            profile = campaigns.load(campaign_id, runtime.config.profile_path)
        except campaigns.ProfileError as exc:
            raise click.ClickException(str(exc)) from None
        runtime = replace(runtime, profile=profile)
    return runtime


def _send_now(runtime) -> str:
    """Send the outbox at once, as the service's send job would; the service sends it otherwise."""
    from intake.lock import Busy, exclusive
    from intake.outbox import send_due, utcnow

    try:
        with exclusive(runtime.config.data_path, runtime.engine, "send"):
            report = send_due(runtime.engine, runtime.transport(), runtime.config.replies, utcnow)
    except Busy:
        return "服务正在发送，回复将随之发出"
    except Exception as exc:  # noqa: BLE001 - the reply is queued and safe; the service retries
        return f"暂未发出（{exc}），服务将重试"
    if report.configuration_error:
        return f"暂未发出：发送配置有误（{report.configuration_error}），请运行 intake doctor"
    return f"已发送 {len(report.sent)} 封，待重试 {len(report.retrying)} 封，失败 {len(report.failed)} 封"


def _outcome_lines(outcome) -> list[str]:
    row = outcome.nominee
    number = f"，{'受理' if row.status == 'accepted' else '登记'}编号 {row.intake_number}" if row.intake_number else ""
    lines = [f"#{row.id} {row.name or '（姓名未识别）'}：{STATUS_WORDS.get(outcome.before, outcome.before)} → "
             f"{STATUS_WORDS.get(row.status, row.status)}{number}（{row.decided_by or ''} {_when(row.decided_at)}）"]
    lines.append(f"邮件 #{outcome.message.id} 的结论：{STATUS_WORDS.get(outcome.message.status, outcome.message.status)}")
    if outcome.superseded_replies:
        lines.append("未发出的回复已作废：" + "、".join(f"#{r}" for r in outcome.superseded_replies))
    if outcome.reply is None:
        lines.append("回复：不回复")
    else:
        held = f"（{outcome.reply.held_reason}）" if outcome.reply.held_reason else ""
        lines.append(f"回复 #{outcome.reply.id} → {outcome.reply.to_addr}：{REPLY_WORDS.get(outcome.reply.state)}{held}")
    return lines


def _finding_lines(findings, indent: str = "  ") -> list[str]:
    from nominees.masking import mask_numbers_in

    return [f"{indent}- [{f.code}]（{f.severity}）{mask_numbers_in(f.text)}" for f in findings]


def _review_error(exc) -> click.ClickException:
    return click.ClickException(str(exc))


def register(main: click.Group) -> None:
    @main.group()
    def review() -> None:
        """Settle what the machine was unsure of: list, show, accept, reject, correct, choose, release."""

    @review.command("list")
    @config_option
    def review_list(config_file: Path | None) -> None:
        """Nominees waiting for staff (needs_review) and replies held back."""
        from intake.review import queue

        runtime = runtime_from(config_file)
        nominees, held = queue(runtime)
        click.echo(f"待人工核对的被推荐人：{len(nominees)}")
        for row, codes, earlier in nominees:
            choice = f"；与已受理的 #{earlier.id}（{earlier.intake_number}）二选一" if earlier else ""
            click.echo(f"  #{row.id} {row.intake_number or '无编号'} {row.name or '（姓名未识别）'}"
                       f"（{row.employer or '单位未识别'}）邮件 #{row.message_id}：{', '.join(dict.fromkeys(codes))}{choice}")
        click.echo(f"暂扣的回复：{len(held)}")
        for reply, message in held:
            click.echo(f"  回复 #{reply.id} 邮件 #{message.id} → {reply.to_addr}：{reply.held_reason}"
                       f"（{_when(reply.created_at)}）《{reply.subject}》")

    @review.command("show")
    @config_option
    @click.argument("key")
    @actor_option
    def review_show(config_file: Path | None, key: str, actor: str) -> None:
        """One nominee: the form as read, the findings, the files (written out to open), the history."""
        from intake.form_template import FORM_LABELS
        from intake.review import ReviewError, masked_value, show

        runtime = runtime_from(config_file)
        try:
            shown = show(runtime, key, actor)
        except ReviewError as exc:
            raise _review_error(exc) from None
        row, message = shown.nominee, shown.message
        current = f"，已被 #{row.superseded_by} 替代" if row.superseded_by else ""
        click.echo(f"被推荐人 #{row.id}：{row.name or '（姓名未识别）'} — {STATUS_WORDS.get(row.status, row.status)}"
                   f"（{row.status}），编号 {row.intake_number or '无'}{current}")
        if row.decision:
            reason = f"：{row.decision_reason}" if row.decision_reason else ""
            click.echo(f"工作人员决定：{row.decision}（{row.decided_by}，{_when(row.decided_at)}）{reason}")
        click.echo(f"邮件 #{message.id}：{_when(message.received_at)} 收到，发件人 {message.from_addr}，"
                   f"主题《{message.subject}》，邮件结论 {STATUS_WORDS.get(message.status or '', message.status)}")
        click.echo(f"纸质件：{_when(row.paper_copy_received_at) + ' 收到' if row.paper_copy_received_at else '未收到'}")
        click.echo("推荐表内容：" + ("" if row.fields else "（未能读取，请打开下列文件核对）"))
        for name, label in FORM_LABELS.items():
            value = (row.fields or {}).get(name)
            if value:
                click.echo(f"  {label}：{masked_value(name, value)[:200]}")
        click.echo("问题：" + ("无" if not (shown.findings or shown.message_findings) else ""))
        for line in _finding_lines(shown.findings) + _finding_lines(shown.message_findings, "  邮件 "):
            click.echo(line)
        if shown.earlier is not None:
            earlier = shown.earlier
            click.echo(f"此前已受理的材料：#{earlier.id} {earlier.intake_number}（{_when(earlier.created_at)} 登记）；"
                       f"请选择：intake review choose {row.id} --keep earlier|later")
        where = f"（已取出到 {shown.folder}，仅本用户可读）" if shown.folder else "（原始邮件已删除，无法取出）"
        click.echo(f"文件{where}：")
        for item in (*shown.files, *shown.loose_files):
            role = ROLE_WORDS.get(item.row.role, item.row.role)
            loose = "，不属于任何被推荐人" if item.row.nominee_id is None else ""
            click.echo(f"  - {item.row.path}（{role}{loose}，{item.row.size:,} 字节）→ {item.path or '—'}")
        for reply in shown.replies:
            click.echo(f"回复 #{reply.id}：{REPLY_WORDS.get(reply.state, reply.state)}"
                       f"{'（' + reply.held_reason + '）' if reply.held_reason else ''} → {reply.to_addr}")
        for correction in shown.corrections:
            click.echo(f"更正：{FORM_LABELS.get(correction.field_name, correction.field_name)} "
                       f"{masked_value(correction.field_name, correction.old_value)} → "
                       f"{masked_value(correction.field_name, correction.new_value)}"
                       f"（{correction.actor}，{_when(correction.at)}）")
        for entry in shown.history:
            click.echo(f"记录：{_when(entry.at)} {entry.actor} {entry.action} {entry.before or ''}→{entry.after or ''}"
                       f" {entry.note}".rstrip())

    def _decision(config_file, key, decision, actor, reason) -> None:
        from intake.outbox import utcnow
        from intake.review import ReviewError, decide

        runtime = runtime_from(config_file)
        try:
            outcome = decide(runtime, key, decision, actor, reason, utcnow())
        except ReviewError as exc:
            raise _review_error(exc) from None
        for line in _outcome_lines(outcome):
            click.echo(line)
        if outcome.reply is not None and outcome.reply.state == "pending":
            click.echo(f"发送：{_send_now(runtime)}")

    @review.command("accept")
    @config_option
    @click.argument("key")
    @click.option("--reason", help="why, e.g. 延期 (an extension granted) or 迟到数分钟; goes into the reply")
    @actor_option
    def review_accept(config_file: Path | None, key: str, reason: str | None, actor: str) -> None:
        """Accept a nominee (also over a rejection) and answer the sender."""
        _decision(config_file, key, "accepted", actor, reason)

    @review.command("reject")
    @config_option
    @click.argument("key")
    @click.option("--reason", required=True, help="why; goes into the reply to the sender")
    @actor_option
    def review_reject(config_file: Path | None, key: str, reason: str, actor: str) -> None:
        """Reject a nominee and answer the sender with the reason."""
        _decision(config_file, key, "rejected", actor, reason)

    @review.command("correct")
    @config_option
    @click.argument("key")
    @click.option("--field", "field_name", required=True, help="the field's name, e.g. phone, id_number, channel")
    @click.option("--value", required=True, help="the right value (\"\" to empty it)")
    @click.option("--no-reply", is_flag=True, help="do not answer the sender even if the status changes")
    @actor_option
    def review_correct(config_file: Path | None, key: str, field_name: str, value: str, no_reply: bool,
                       actor: str) -> None:
        """Correct a misread field, run the rules for that nominee again and show the new verdict."""
        from intake.outbox import utcnow
        from intake.review import ReviewError, correct, masked_value

        runtime = runtime_from(config_file)
        try:
            outcome = correct(runtime, key, field_name, value, actor, utcnow(), send_reply=not no_reply)
        except ReviewError as exc:
            raise _review_error(exc) from None
        row = outcome.nominee
        click.echo(f"#{row.id} {row.name}：{field_name} 已更正为 {masked_value(field_name, value)}")
        click.echo(f"重新审核：{STATUS_WORDS.get(outcome.rules_status, outcome.rules_status)}"
                   f"（{outcome.rules_status}）" + (f"；工作人员此前的决定（{row.decision}）不变" if row.decision in
                                                   ("accepted", "rejected") else ""))
        for line in _finding_lines([f for f in outcome.findings if f.severity != "info"]) or ["  - 无问题"]:
            click.echo(line)
        if row.status != outcome.before:
            for line in _outcome_lines(outcome):
                click.echo(line)
            if outcome.reply is not None and outcome.reply.state == "pending":
                click.echo(f"发送：{_send_now(runtime)}")

    @review.command("choose")
    @config_option
    @click.argument("key")
    @click.option("--keep", type=click.Choice(["earlier", "later"]), required=True,
                  help="earlier: the accepted filing stays; later: the new filing replaces it")
    @click.option("--reason", help="why; goes into the reply")
    @actor_option
    def review_choose(config_file: Path | None, key: str, keep: str, reason: str | None, actor: str) -> None:
        """Choose between an accepted nominee and a later, worse filing of the same person."""
        from intake.outbox import utcnow
        from intake.review import ReviewError, choose

        runtime = runtime_from(config_file)
        try:
            outcome = choose(runtime, key, keep, actor, reason, utcnow())
        except ReviewError as exc:
            raise _review_error(exc) from None
        other, row = outcome.other, outcome.nominee
        click.echo(f"保留{'此前' if keep == 'earlier' else '本次'}的材料：此前 #{other.id}，本次 #{row.id}")
        if keep == "earlier":
            click.echo(f"#{row.id} {row.name} 的本次材料不予采用，此人仍以 #{other.id}（{other.intake_number}）受理")
        else:
            click.echo(f"#{other.id} 已被 #{row.id} 替代；按规则审核本次材料的结论："
                       f"{STATUS_WORDS.get(row.status, row.status)}（如需受理请用 intake review accept {row.id}）")
        for line in _outcome_lines(outcome):
            click.echo(line)
        if outcome.reply is not None and outcome.reply.state == "pending":
            click.echo(f"发送：{_send_now(runtime)}")

    @review.command("release")
    @config_option
    @click.argument("reply_id", type=int)
    @actor_option
    def review_release(config_file: Path | None, reply_id: int, actor: str) -> None:
        """Let a held reply go out."""
        from intake.review import ReviewError, release

        runtime = runtime_from(config_file)
        try:
            reply = release(runtime, reply_id, actor)
        except ReviewError as exc:
            raise _review_error(exc) from None
        click.echo(f"回复 #{reply.id} → {reply.to_addr} 已放行；发送：{_send_now(runtime)}")

    @main.command()
    @config_option
    @click.argument("keys", nargs=-1, required=True)
    @click.option("--at", "at", help="when it arrived (ISO-8601, Asia/Shanghai when no offset); default: now")
    @click.option("--undo", is_flag=True, help="it was marked by mistake")
    @actor_option
    def paper(config_file: Path | None, keys: tuple[str, ...], at: str | None, undo: bool, actor: str) -> None:
        """Mark nominees' paper copies as arrived (record numbers or intake numbers)."""
        from intake.outbox import utcnow
        from intake.review import ReviewError, mark_paper

        runtime = runtime_from(config_file)
        try:
            marks = mark_paper(runtime, list(keys), actor, instant_option(at), utcnow(), undo=undo)
        except ReviewError as exc:
            raise _review_error(exc) from None
        for mark in marks:
            row = mark.nominee
            state = "已撤销纸质件记录" if undo else f"纸质件 {_when(row.paper_copy_received_at)} 收到"
            click.echo(f"#{row.id} {row.intake_number or '无编号'} {row.name}：{state}")

    @main.command()
    @click.option("--campaign", "campaign_id", required=True, help="campaign profile id")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="where to write the .docx (default: <campaign>-推荐表.docx here)")
    def template(campaign_id: str, output: Path | None) -> None:
        """Write the campaign's blank 推荐表/申报表 as .docx, as the form reader reads best."""
        import campaigns
        from intake.form_template import blank_form, default_filename

        try:
            profile = campaigns.load(campaign_id)
        except campaigns.ProfileError as exc:
            raise click.UsageError(str(exc)) from None
        target = output or Path(default_filename(profile))
        target.write_bytes(blank_form(profile))
        click.echo(f"已写出 {profile.form.title}：{target}")

    @main.command()
    @config_option
    @click.option("--campaign", "campaign_id", help="campaign profile id (default: the config's)")
    @click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
                  help="the folder to write (default: <data_path>/exports/<campaign>-<time>)")
    @actor_option
    def export(config_file: Path | None, campaign_id: str | None, output: Path | None, actor: str) -> None:
        """Write the nominee list (.xlsx, ID and phone in full) and a folder of files per accepted nominee."""
        from intake.export import export_campaign
        from intake.outbox import utcnow

        runtime = _campaign_runtime(config_file, campaign_id)
        now = utcnow()
        folder = output or (runtime.config.data_path / "exports"
                            / f"{runtime.profile.id}-{now.astimezone(SHANGHAI):%Y%m%d-%H%M%S}")
        result = export_campaign(runtime, folder, now, actor)
        click.echo(f"名单：{result.workbook}（{result.rows} 人，含身份证号和电话，请妥善保管）")
        click.echo(f"已受理者材料：{result.folder}（{result.accepted} 人，{result.files} 个文件）")
        for problem in result.missing:
            click.echo(f"  注意：{problem}")

    @main.command()
    @config_option
    @click.option("--campaign", "campaign_id", help="campaign profile id (default: the config's)")
    @click.option("--html", "html", type=click.Path(dir_okay=False, path_type=Path),
                  help="also write a self-contained HTML page with charts")
    def report(config_file: Path | None, campaign_id: str | None, html: Path | None) -> None:
        """The campaign so far: totals by day, status, channel and unit; quotas; front-line share; paper copies."""
        from intake.campaign_report import build_report, render_html, render_markdown
        from intake.outbox import utcnow

        runtime = _campaign_runtime(config_file, campaign_id)
        figures = build_report(runtime.engine, runtime.profile, utcnow())
        click.echo(render_markdown(figures))
        if html:
            html.write_text(render_html(figures), encoding="utf-8")
            click.echo(f"HTML：{html}")

    @main.command()
    @config_option
    @click.option("--campaign", "campaign_id", help="campaign profile id (default: the config's)")
    @click.option("--experts", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
                  help="expert scores (.csv or .xlsx): 受理编号 and 专家评分 columns")
    @click.option("--votes", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
                  help="online votes (.csv or .xlsx): 受理编号 and 票数 columns")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="the ranking as .xlsx (default: <data_path>/exports/<campaign>-排名.xlsx)")
    def rank(config_file: Path | None, campaign_id: str | None, experts: Path, votes: Path,
             output: Path | None) -> None:
        """Combine expert scores and votes (the profile's weights), rank, and check the front-line share."""
        from intake.ranking import RankingError, rank_campaign

        runtime = _campaign_runtime(config_file, campaign_id)
        if runtime.profile.selection.ranking is None:
            raise click.ClickException(f"评选活动 {runtime.profile.id} 的配置没有 selection.ranking，无需综合排名")
        target = output or runtime.config.data_path / "exports" / f"{runtime.profile.id}-排名.xlsx"
        try:
            result = rank_campaign(runtime, experts, votes, target)
        except RankingError as exc:
            raise click.ClickException(str(exc)) from None
        for line in result.summary_lines():
            click.echo(line)
        click.echo(f"排名表：{target}")
