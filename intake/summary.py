"""A verdict as a few lines for staff reading a terminal or the intake log."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from validators.evaluate import Verdict

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATUS_WORDS = {"accepted": "受理", "rejected": "退回", "needs_review": "待人工核对", "ignored": "不处理"}


def verdict_lines(verdict: Verdict, label: str) -> list[str]:
    message = verdict.message
    when = message.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"{label}  {when}  {message.from_addr or '（无发件人）'}  《{message.subject or '（无主题）'}》",
        f"  结果：{STATUS_WORDS[verdict.status]} ({verdict.status})",
    ]
    lines += [f"  - [{f.code}] {f.message}" for f in verdict.findings]
    for nominee_verdict in verdict.nominees:
        nominee = nominee_verdict.nominee
        who = nominee.fields.get("name") or "（姓名未识别）"
        employer = nominee.fields.get("employer")
        words = f"，事迹材料{nominee.writeup_chars}字" if nominee.writeup_chars else ""
        files = "、".join(f.attachment.path for f in nominee.files)
        lines.append(
            f"  被推荐人 {who}{f'（{employer}）' if employer else ''}：{STATUS_WORDS[nominee_verdict.status]}{words}"
        )
        lines.append(f"    文件：{files or '无'}")
        lines += [f"    - [{f.code}] {f.message}" for f in nominee_verdict.findings]
    return lines
