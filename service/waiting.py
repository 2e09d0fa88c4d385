"""What waits for staff: nominees to settle, held replies, questions, mail to place, quarantined mail.

`intake review list` shows it, and the daily digest mails it to the office; both read it here,
with the command that acts on each line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core import inert, words
from core.times import minute
from nominees.masking import mask_numbers_in
from service.runtime import Runtime
from storage.db import session as new_session
from storage.models import MessageRow, NomineeRow, ReplyRow
from storage.queries import (
    awaiting_choice,
    doubtful_messages,
    findings_by_nominee,
    held_replies,
    needing_review,
    open_questions,
    quarantined,
)
from storage.stored import stored_body

Waiting = tuple[NomineeRow, list[str], NomineeRow | None]  # the nominee, its codes, the filing it competes with


@dataclass(frozen=True)
class Queue:
    """Everything that waits for staff."""

    nominees: list[Waiting]
    held: list[tuple[ReplyRow, MessageRow]]
    questions: list[MessageRow]
    doubtful: list[MessageRow]  # rejected mail that may complete someone's earlier nomination
    quarantined: list[MessageRow]
    first_lines: dict[int, str] = field(default_factory=dict)  # a question's opening words, by mail number


def queue(runtime: Runtime) -> Queue:
    """needs_review nominees (with their finding codes and any filing they compete with), held
    replies, questions to answer, mail that may complete someone else's nomination, quarantined mail."""
    campaign = runtime.profile.id
    with new_session(runtime.engine) as session:
        nominees = []
        rows = needing_review(session, campaign)
        own, whole = findings_by_nominee(session, [r.id for r in rows], [r.message_id for r in rows])
        for row in rows:
            codes = [f.code for f in own[row.id] + whole[row.message_id] if f.severity in ("review", "reject")]
            nominees.append((row, codes, awaiting_choice(session, row)))
        questions = open_questions(session, campaign)
        opening = {row.id: _opening(runtime, row) for row in questions}
        return Queue(nominees, held_replies(session, campaign), questions, doubtful_messages(session, campaign),
                     quarantined(session, campaign), opening)


def _opening(runtime: Runtime, row: MessageRow, width: int = 160) -> str:
    """The first lines of what the sender wrote, inert and masked, for a list."""
    body = stored_body(runtime.blobs, row, runtime.profile.limits) or ""
    text = " / ".join(inert.one_line(line) for line in body.splitlines() if line.strip())
    return mask_numbers_in(text[:width] + ("…" if len(text) > width else ""))


def _mail(message: MessageRow) -> str:
    subject = mask_numbers_in(inert.one_line(message.subject)) or "（无主题）"
    return f"M{message.id} {minute(message.received_at)} {inert.one_line(message.from_addr)}《{subject}》"


def waiting_lines(waiting: Queue) -> list[str]:
    """The queue as staff read it, each line with its number and the command that acts on it."""
    lines = [f"待人工核对的被推荐人：{len(waiting.nominees)}（intake review show #…）"]
    for row, codes, earlier in waiting.nominees:
        choice = f"；与已受理的 #{earlier.id}（{earlier.intake_number}）二选一" if earlier else ""
        name, employer = inert.one_line(row.name) or "（姓名未识别）", inert.one_line(row.employer) or "单位未识别"
        lines.append(f"  #{row.id} {row.intake_number or '无编号'} {name}（{employer}）M{row.message_id}："
                     f"{', '.join(dict.fromkeys(codes))}{choice}")
    lines.append(f"待回复的来信：{len(waiting.questions)}（intake review answer M… --text …，或 --done）")
    for message in waiting.questions:
        lines.append(f"  {_mail(message)}")
        if waiting.first_lines.get(message.id):
            lines.append(f"    {waiting.first_lines[message.id]}")
    lines.append(f"暂扣的回复：{len(waiting.held)}（intake review release 回复号）")
    for reply, message in waiting.held:
        lines.append(f"  回复 {reply.id} M{message.id} → {reply.to_addr}："
                     f"{words.word(words.HOLD_REASON, reply.held_reason)}（{minute(reply.created_at)}）")
    lines.append(f"可能是补充材料、未能归属的来信：{len(waiting.doubtful)}（intake review show 发件人地址）")
    lines += [f"  {_mail(message)}" for message in waiting.doubtful]
    lines.append(f"处理失败、已隔离的邮件：{len(waiting.quarantined)}（intake reprocess 邮件号）")
    lines += [f"  {_mail(message)}：{inert.one_line(message.last_error)[:200]}" for message in waiting.quarantined]
    return lines
