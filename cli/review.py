"""`intake review`: settle what the machine was unsure of: list, show, accept, reject, correct, choose, release.

Command output masks ID and phone numbers (CONTRACT §5); the files that `review show` writes
out hold them in full, in folders only the service's user may open.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import actor_option, campaign_option, config_option, runtime_from, send_now
from core import words
from core.inert import line as inert_line
from core.inert import one_line
from core.times import minute


def plain(value: str | None, width: int | None = None) -> str:
    """A value from mail as a terminal line shows it (nominees/masking.py masked_line)."""
    from nominees.masking import masked_line

    return masked_line(value, width)


def echo_lines(lines: list[str]) -> None:
    """Each line as one line, whatever slipped into it: a terminal acts on ESC and BEL."""
    for line in lines:
        click.echo(inert_line(line))


def outcome_lines(outcome) -> list[str]:
    row = outcome.nominee
    number = f"，{'受理' if row.status == 'accepted' else '登记'}编号 {row.intake_number}" if row.intake_number else ""
    lines = [f"#{row.id} {plain(row.name) or '（姓名未识别）'}：{words.word(words.STATUS, outcome.before)} → "
             f"{words.word(words.STATUS, row.status)}{number}（{row.decided_by or ''} {minute(row.decided_at)}）"]
    lines.append(f"邮件 M{outcome.message.id} 的结论：{words.word(words.STATUS, outcome.message.status)}")
    if outcome.superseded_replies:
        lines.append("未发出的回复已作废：" + "、".join(f"回复 {r}" for r in outcome.superseded_replies))
    if outcome.reply is None:
        lines.append("回复：不回复")
    else:
        held = f"（{words.word(words.HOLD_REASON, outcome.reply.held_reason)}）" if outcome.reply.held_reason else ""
        lines.append(f"回复 {outcome.reply.id} → {one_line(outcome.reply.to_addr)}："
                     f"{words.word(words.REPLY_STATE, outcome.reply.state)}{held}")
    return lines


def finding_lines(findings, indent: str = "  ") -> list[str]:
    return [f"{indent}- [{f.code}]（{f.severity}）{plain(f.text)}" for f in findings]


yes_option = click.option("--yes", is_flag=True, help="send the reply without showing it and asking (for scripts)")
no_reply_option = click.option("--no-reply", is_flag=True, help="record the decision without answering the sender")


def reply_preview(reply) -> str:
    """The reply as the sender will read it: to whom, the subject, the text."""
    import email as email_package
    from email import policy

    message = email_package.message_from_bytes(reply.raw, policy=policy.default)
    held = f"（将暂扣：{words.word(words.HOLD_REASON, reply.held_reason)}）" if reply.held_reason else ""
    return (f"—— 回复 → {reply.to_addr}{held}\n主题：{message['Subject']}\n\n"
            f"{message.get_body(('plain',)).get_content().rstrip()}\n——")


def asking(yes: bool):
    """Show the reply and ask before it is kept and sent; nothing when --yes."""
    if yes:
        return None

    def confirm(reply) -> bool:
        click.echo(reply_preview(reply))
        return click.confirm("发送这封回复吗？", default=False)

    return confirm


def answering(yes: bool, no_reply: bool):
    from staff.answer import Answering

    return Answering(send=not no_reply, confirm=asking(yes))


def _echo_outcome(runtime, outcome) -> None:
    for line in outcome_lines(outcome):
        click.echo(line)
    if outcome.reply is not None and outcome.reply.state == "pending":
        click.echo(f"发送：{send_now(runtime)}")


@click.group()
def review() -> None:
    """Settle what the machine was unsure of: list, show, accept, reject, correct, choose, release."""


@review.command("list")
@config_option
@campaign_option
def review_list(config_file: Path | None) -> None:
    """Everything waiting for staff: nominees to settle, questions to answer, held replies, mail to place."""
    from service.waiting import queue, waiting_lines

    echo_lines(waiting_lines(queue(runtime_from(config_file))))


def first_lines(text: str, count: int = 3, width: int = 120) -> str:
    lines = [one_line(line) for line in (text or "").splitlines() if line.strip()]
    shown = " / ".join(lines[:count])
    return shown[:width] + ("…" if len(shown) > width or len(lines) > count else "")


@review.command("answer")
@config_option
@campaign_option
@click.argument("key")
@click.option("--text", help="the answer, in plain words; it goes to the sender in the thread of the mail")
@click.option("--done", is_flag=True, help="close it without answering (read, nothing to say)")
@actor_option
@yes_option
def review_answer(config_file: Path | None, key: str, text: str | None, done: bool, actor: str, yes: bool) -> None:
    """Answer a question (M5) the machine set aside for staff, or close it with --done."""
    from core.times import utcnow
    from staff.lookup import ReviewError
    from staff.questions import answer, close

    runtime = runtime_from(config_file)
    if done == bool(text):
        raise click.UsageError("give --text to answer, or --done to close without answering")
    try:
        if done:
            row = close(runtime, key, actor)
            click.echo(f"M{row.id} 已标记为已处理")
            return
        reply = answer(runtime, key, text, actor, utcnow(), asking(yes) or (lambda reply: True))
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"答复 {reply.id} → {reply.to_addr}：{words.word(words.REPLY_STATE, reply.state)}")
    if reply.state == "pending":
        click.echo(f"发送：{send_now(runtime)}")


def _record_lines(shown) -> list[str]:
    from staff.corrections import masked_value
    from staff.form_template import FORM_LABELS

    row, message = shown.nominee, shown.message
    current = f"，已被 #{row.superseded_by} 替代" if row.superseded_by else ""
    lines = [f"被推荐人 #{row.id}：{plain(row.name) or '（姓名未识别）'} — {words.word(words.STATUS, row.status)}"
             f"（{row.status}），编号 {row.intake_number or '无'}{current}"]
    if row.decision:
        reason = f"：{plain(row.decision_reason)}" if row.decision_reason else ""
        lines.append(f"工作人员决定：{words.word(words.DECISION, row.decision)}（{row.decided_by}，"
                     f"{minute(row.decided_at)}）{reason}")
    lines.append(f"邮件 M{message.id}：{minute(message.received_at)} 收到，发件人 {plain(message.from_addr)}，"
                 f"主题《{plain(message.subject)}》，邮件结论 {words.word(words.STATUS, message.status)}")
    lines.append(f"纸质件：{minute(row.paper_copy_received_at) + ' 收到' if row.paper_copy_received_at else '未收到'}")
    lines.append("推荐表内容：" + ("" if row.fields else "（未能读取，请打开下列文件核对）"))
    inferred = row.field_sources or {}
    for name, label in FORM_LABELS.items():
        if value := (row.fields or {}).get(name):
            note = f"（{words.INFERRED_NOTE}）" if name in inferred else ""
            lines.append(f"  {label}：{one_line(masked_value(name, value))[:200]}{note}")
    lines.append("问题：" + ("无" if not (shown.findings or shown.message_findings) else ""))
    lines += finding_lines(shown.findings) + finding_lines(shown.message_findings, "  邮件 ")
    for found in shown.findings:
        if found.code == "LINK_ATTACHMENT":
            code = f"，提取码 {one_line(found.detail['code'])}" if found.detail.get("code") else ""
            lines.append(f"  下载链接（{one_line(found.detail.get('provider', ''))}）："
                         f"{one_line(found.detail.get('url', ''))}{code}")
    if shown.body.strip():
        lines.append(f"邮件正文：{first_lines(shown.body, count=6, width=400)}")
    return lines


def _file_lines(shown) -> list[str]:
    from staff.corrections import masked_value
    from staff.form_template import FORM_LABELS

    row, lines = shown.nominee, []
    if shown.earlier is not None:
        lines.append(f"此前已受理的材料：#{shown.earlier.id} {shown.earlier.intake_number}"
                     f"（{minute(shown.earlier.created_at)} 登记）；请选择：intake review choose {row.id} --keep earlier|later")
    where = f"（已取出到 {shown.folder}，仅本用户可读）" if shown.folder else "（原始邮件已删除，无法取出）"
    lines.append(f"文件{where}：")
    for item in (*shown.files, *shown.loose_files):
        loose = "，不属于任何被推荐人" if item.row.nominee_id is None else ""
        lines.append(f"  - {plain(item.row.path, 300)}（{words.word(words.ROLE, item.row.role)}{loose}，{item.row.size:,} 字节）"
                     f"→ {item.path or '—'}")
    for reply in shown.replies:
        held = f"（{words.word(words.HOLD_REASON, reply.held_reason)}）" if reply.held_reason else ""
        lines.append(f"回复 {reply.id}：{words.word(words.REPLY_STATE, reply.state)}{held} → {one_line(reply.to_addr)}")
    for fix in shown.corrections:
        lines.append(f"更正：{FORM_LABELS.get(fix.field_name, fix.field_name)} {masked_value(fix.field_name, fix.old_value)}"
                     f" → {masked_value(fix.field_name, fix.new_value)}（{fix.actor}，{minute(fix.at)}）")
    for entry in shown.history:
        moved = f" {words.audit_state(entry.entity, entry.before)}→{words.audit_state(entry.entity, entry.after)}" \
            if entry.before or entry.after else ""
        lines.append(f"记录：{minute(entry.at)} {entry.actor} {words.audit_action(entry.action)}{moved}"
                     f" {plain(entry.note)}".rstrip())
    return lines


@review.command("show")
@config_option
@campaign_option
@click.argument("key")
@actor_option
def review_show(config_file: Path | None, key: str, actor: str) -> None:
    """One nominee: the form as read, the findings, the files (written out to open), the history."""
    from staff.lookup import ReviewError
    from staff.show import show

    runtime = runtime_from(config_file)
    try:
        shown = show(runtime, key, actor)
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    echo_lines(_record_lines(shown) + _file_lines(shown))


def _decision(config_file, key, decision, actor, reason, yes, no_reply) -> None:
    from core.times import utcnow
    from staff.decisions import decide
    from staff.lookup import ReviewError

    runtime = runtime_from(config_file)
    try:
        outcome = decide(runtime, key, decision, actor, reason, utcnow(), answering(yes, no_reply))
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    _echo_outcome(runtime, outcome)


@review.command("accept")
@config_option
@campaign_option
@click.argument("key")
@click.option("--reason", help="why, e.g. 延期 (an extension granted) or 迟到数分钟; goes into the reply")
@actor_option
@yes_option
@no_reply_option
def review_accept(config_file: Path | None, key: str, reason: str | None, actor: str, yes: bool, no_reply: bool) -> None:
    """Accept a nominee (also over a rejection) and answer the sender."""
    _decision(config_file, key, "accepted", actor, reason, yes, no_reply)


@review.command("reject")
@config_option
@campaign_option
@click.argument("key")
@click.option("--reason", required=True, help="why; goes into the reply to the sender")
@actor_option
@yes_option
@no_reply_option
def review_reject(config_file: Path | None, key: str, reason: str, actor: str, yes: bool, no_reply: bool) -> None:
    """Reject a nominee and answer the sender with the reason."""
    _decision(config_file, key, "rejected", actor, reason, yes, no_reply)


@review.command("correct")
@config_option
@campaign_option
@click.argument("key")
@click.option("--field", "field_name", required=True, help="the field's name, e.g. phone, id_number, channel")
@click.option("--value", required=True, help="the right value (\"\" to empty it)")
@no_reply_option
@yes_option
@actor_option
def review_correct(config_file: Path | None, key: str, field_name: str, value: str, no_reply: bool, yes: bool,
                   actor: str) -> None:
    """Correct a misread field, run the rules for that nominee again and show the new verdict."""
    from core.times import utcnow
    from staff.corrections import correct, masked_value
    from staff.lookup import ReviewError

    runtime = runtime_from(config_file)
    try:
        outcome = correct(runtime, key, field_name, value, actor, utcnow(), answering(yes, no_reply))
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    row = outcome.nominee
    click.echo(f"#{row.id} {plain(row.name)}：{field_name} 已更正为 {plain(masked_value(field_name, value))}")
    kept = f"；工作人员此前的决定（{words.word(words.DECISION, row.decision)}）不变" \
        if row.decision in ("accepted", "rejected") else ""
    click.echo(f"重新审核：{words.word(words.STATUS, outcome.rules_status)}（{outcome.rules_status}）{kept}")
    for line in finding_lines([f for f in outcome.findings if f.severity != "info"]) or ["  - 无问题"]:
        click.echo(line)
    if row.status != outcome.before:
        _echo_outcome(runtime, outcome)


@review.command("choose")
@config_option
@campaign_option
@click.argument("key")
@click.option("--keep", type=click.Choice(["earlier", "later"]), required=True,
              help="earlier: the accepted filing stays; later: the new filing replaces it")
@click.option("--reason", help="why; goes into the reply")
@actor_option
@yes_option
@no_reply_option
def review_choose(config_file: Path | None, key: str, keep: str, reason: str | None, actor: str, yes: bool,
                  no_reply: bool) -> None:
    """Choose between an accepted nominee and a later, worse filing of the same person."""
    from core.times import utcnow
    from staff.decisions import choose
    from staff.lookup import ReviewError

    runtime = runtime_from(config_file)
    try:
        outcome = choose(runtime, key, keep, actor, reason, utcnow(), answering(yes, no_reply))
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    other, row = outcome.other, outcome.nominee
    click.echo(f"保留{'此前' if keep == 'earlier' else '本次'}的材料：此前 #{other.id}，本次 #{row.id}")
    if keep == "earlier":
        click.echo(f"#{row.id} {plain(row.name)} 的本次材料不予采用，此人仍以 #{other.id}（{other.intake_number}）受理")
    else:
        click.echo(f"#{other.id} 已被 #{row.id} 替代；按规则审核本次材料的结论："
                   f"{words.word(words.STATUS, row.status)}（如需受理请用 intake review accept {row.id}）")
    _echo_outcome(runtime, outcome)


@review.command("release")
@config_option
@campaign_option
@click.argument("reply_id", type=int)
@actor_option
@yes_option
def review_release(config_file: Path | None, reply_id: int, actor: str, yes: bool) -> None:
    """Let a held reply go out."""
    from staff.decisions import release
    from staff.lookup import ReviewError

    runtime = runtime_from(config_file)
    try:
        reply = release(runtime, reply_id, actor, asking(yes))
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"回复 {reply.id} → {reply.to_addr} 已放行；发送：{send_now(runtime)}")


COMMANDS = (review,)
