"""The intake log for staff: one Markdown page a day, an entry per message, and the day's totals.

Numbers are the ones staff type: `M8` is a mail, `#12` a nominee (intake review show 12).
Times are Beijing time, with the day. Text from mail is made inert (core/inert.py): a subject
cannot forge a log entry or send escape sequences to a terminal.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from core import inert, words
from core.files import private_folder, write_private
from core.times import day_bounds, minute
from nominees.masking import masked_line
from storage.db import session as new_session
from storage.models import FindingRow, MessageRow, NomineeRow, ReplyRow

shown = masked_line  # a value from mail as a log line may show it


def _status(row: MessageRow) -> str:
    if row.state == "quarantined":
        return "处理失败，已隔离"
    status = words.STATUS.get(row.status or "", words.word(words.MESSAGE_STATE, row.state))
    if row.staff_state == "open":
        status += "（来信待工作人员阅处）"
    return status


def _reply_line(reply: ReplyRow | None) -> str:
    if reply is None:
        return "- 回复：不回复"
    reason = f"（{words.word(words.HOLD_REASON, reply.held_reason)}）" if reply.held_reason else ""
    return f"- 回复：{words.word(words.REPLY_STATE, reply.state)}{reason} → {reply.to_addr}"


def message_entry(session, row: MessageRow) -> list[str]:
    """One message as staff read it in the log: who, what, verdict, why, and the reply."""
    completes = f"（补充 M{row.completes}）" if row.completes else ""
    # an address is shown whole (staff write back to it), only made inert
    sender = inert.one_line(row.from_addr) or "（无发件人）"
    lines = [f"### M{row.id} {minute(row.received_at)} {sender}：{_status(row)}{completes}",
             f"- 主题：{shown(row.subject) or '（无主题）'}"]
    for nominee in session.exec(select(NomineeRow).where(NomineeRow.message_id == row.id)
                                .order_by(NomineeRow.position, NomineeRow.id)).all():
        number = f"（受理编号 {nominee.intake_number}）" if nominee.intake_number else ""
        if nominee.superseded_by:
            number += f"（已被 #{nominee.superseded_by} 取代）"
        lines.append(f"- #{nominee.id} {shown(nominee.name) or '（姓名未识别）'} {shown(nominee.employer)} — "
                     f"{words.word(words.STATUS, nominee.status)}{number}")
    for finding in session.exec(select(FindingRow).where(FindingRow.message_id == row.id)
                                .order_by(FindingRow.id)).all():
        if finding.severity != "info":
            lines.append(f"  - [{finding.code}] {shown(finding.text)}")
    if row.state == "quarantined":
        lines.append(f"- 错误：{shown(row.last_error)}（intake reprocess {row.id}）")
    else:
        reply = session.exec(select(ReplyRow).where(ReplyRow.message_id == row.id).order_by(ReplyRow.id)).first()
        lines.append(_reply_line(reply))
    return lines


def day_messages(session, campaign_id: str, day: date) -> list[MessageRow]:
    start, end = day_bounds(day)
    return list(session.exec(select(MessageRow).where(
        MessageRow.campaign_id == campaign_id, MessageRow.received_at >= start, MessageRow.received_at < end)
        .order_by(MessageRow.received_at, MessageRow.id)).all())


def totals_line(rows: list[MessageRow]) -> str:
    totals = Counter(_status(r).split("（")[0] for r in rows)
    return f"邮件 {len(rows)} 封：" + ("，".join(f"{word} {count}" for word, count in sorted(totals.items())) or "无")


def render_day(engine: Engine, campaign_id: str, day: date) -> str:
    with new_session(engine) as session:
        rows = day_messages(session, campaign_id, day)
        lines = [f"# 收件日志 {day.isoformat()}（{campaign_id}，北京时间）", ""]
        for row in rows:
            lines += message_entry(session, row) + [""]
    lines += ["## 合计", f"- {totals_line(rows)}"]
    return "\n".join(lines) + "\n"


def write_day(engine: Engine, campaign_id: str, day: date, folder: Path) -> Path:
    private_folder(folder)
    path = folder / f"{day.isoformat()}.md"
    write_private(path, render_day(engine, campaign_id, day).encode("utf-8"))  # names senders and nominees
    return path
