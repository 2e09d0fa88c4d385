"""The intake log for staff: one Markdown page a day, an entry per message, and the day's totals."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from core import words
from core.times import beijing, day_bounds
from nominees.masking import mask_numbers_in
from storage.db import session as new_session
from storage.models import FindingRow, MessageRow, NomineeRow, ReplyRow


def _when(moment: datetime) -> str:
    return beijing(moment).strftime("%H:%M")


def message_entry(session, row: MessageRow) -> list[str]:
    """One message as staff read it in the log: who, what, verdict, why, and the reply."""
    status = words.STATUS.get(row.status or "", row.state)
    if row.state == "quarantined":
        status = "处理失败，已隔离"
    lines = [f"### #{row.id} {_when(row.received_at)} {row.from_addr or '（无发件人）'}：{status}",
             f"- 主题：{mask_numbers_in(row.subject) if row.subject else '（无主题）'}"]
    for nominee in session.exec(select(NomineeRow).where(NomineeRow.message_id == row.id)
                                .order_by(NomineeRow.position)).all():
        number = f"（受理编号 {nominee.intake_number}）" if nominee.intake_number else ""
        lines.append(f"- 被推荐人：{nominee.name or '（姓名未识别）'} {nominee.employer} — "
                     f"{words.word(words.STATUS, nominee.status)}{number}")
    for finding in session.exec(select(FindingRow).where(FindingRow.message_id == row.id)
                                .order_by(FindingRow.id)).all():
        if finding.severity != "info":
            lines.append(f"  - [{finding.code}] {finding.text}")
    reply = session.exec(select(ReplyRow).where(ReplyRow.message_id == row.id)).first()
    if row.state == "quarantined":
        lines.append(f"- 错误：{row.last_error}")
    elif reply is None:
        lines.append("- 回复：不回复")
    else:
        reason = f"（{words.word(words.HOLD_REASON, reply.held_reason)}）" if reply.held_reason else ""
        lines.append(f"- 回复：{words.word(words.REPLY_STATE, reply.state)}{reason} → {reply.to_addr}")
    return lines


def render_day(engine: Engine, campaign_id: str, day: date) -> str:
    start, end = day_bounds(day)
    with new_session(engine) as session:
        rows = session.exec(select(MessageRow).where(
            MessageRow.campaign_id == campaign_id, MessageRow.received_at >= start, MessageRow.received_at < end)
            .order_by(MessageRow.received_at, MessageRow.id)).all()
        lines = [f"# 收件日志 {day.isoformat()}（{campaign_id}）", ""]
        for row in rows:
            lines += message_entry(session, row) + [""]
        totals = Counter(words.STATUS.get(r.status or "", "处理中") if r.state != "quarantined" else "已隔离"
                         for r in rows)
    summary = "，".join(f"{word} {count}" for word, count in sorted(totals.items())) or "无"
    lines += ["## 合计", f"- 邮件 {len(rows)} 封：{summary}"]
    return "\n".join(lines) + "\n"


def write_day(engine: Engine, campaign_id: str, day: date, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{day.isoformat()}.md"
    path.write_text(render_day(engine, campaign_id, day), encoding="utf-8")
    return path
