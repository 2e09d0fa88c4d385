"""A verdict as a few lines for staff reading a terminal (`intake check`): mail text on one line,
personal numbers masked (CONTRACT §5)."""

from __future__ import annotations

from core import words
from core.inert import one_line
from core.times import minute
from nominees.masking import masked_line
from validators.evaluate import Verdict


def verdict_lines(verdict: Verdict, label: str) -> list[str]:
    message = verdict.message
    when = minute(message.received_at)
    lines = [
        f"{label}  {when}  {one_line(message.from_addr) or '（无发件人）'}  《{masked_line(message.subject) or '（无主题）'}》",
        f"  结果：{words.STATUS[verdict.status]} ({verdict.status})",
    ]
    lines += [f"  - [{f.code}] {masked_line(f.message)}" for f in verdict.findings]
    for nominee_verdict in verdict.nominees:
        nominee = nominee_verdict.nominee
        who = masked_line(nominee.fields.get("name")) or "（姓名未识别）"
        employer = masked_line(nominee.fields.get("employer"))
        chars = f"，事迹材料{nominee.writeup_chars}字" if nominee.writeup_chars else ""
        files = "、".join(masked_line(f.attachment.path) for f in nominee.files)
        lines.append(
            f"  被推荐人 {who}{f'（{employer}）' if employer else ''}：{words.STATUS[nominee_verdict.status]}{chars}"
        )
        lines.append(f"    文件：{files or '无'}")
        lines += [f"    - [{f.code}] {masked_line(f.message)}" for f in nominee_verdict.findings]
    return lines
