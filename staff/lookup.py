"""Finding what a staff member means: a nominee by its number, intake number, name or sender; a mail by M-number.

Staff read two kinds of number everywhere (the log, `poll --once`, `status`, the digest):
`#12` is a nominee's record and `M8` a mail's. A nominee is also found by its intake number
(BYGJ-2017-0007), its name (张三) or the address that sent it; where several match, the
error lists them with their numbers so that staff can pick one.
"""

from __future__ import annotations

from sqlmodel import Session, select

from core import words
from core.inert import one_line
from storage.models import MessageRow, NomineeRow


class ReviewError(Exception):
    """A staff command that cannot be done as asked; the message says why and what to do."""


class Cancelled(ReviewError):
    """Staff said no when shown the reply: nothing was changed."""


def _number(key: str, prefix: str) -> int | None:
    bare = key.strip().upper().removeprefix(prefix).removeprefix("#")
    return int(bare) if bare.isdigit() else None


def find_nominees(session: Session, campaign_id: str, key: str) -> list[NomineeRow]:
    """Every nominee `key` may mean, current filings first."""
    key = key.strip()
    if (number := _number(key, "#")) is not None:
        row = session.get(NomineeRow, number)
        return [row] if row is not None and row.campaign_id == campaign_id else []
    in_campaign = select(NomineeRow).where(NomineeRow.campaign_id == campaign_id)
    if "@" in key:
        query = in_campaign.join(MessageRow, MessageRow.id == NomineeRow.message_id).where(
            MessageRow.from_addr == key.lower())
    else:
        query = in_campaign.where((NomineeRow.intake_number == key) | (NomineeRow.name == key))
    rows = session.exec(query.order_by(NomineeRow.id)).all()
    return sorted(rows, key=lambda r: (r.superseded_by is not None, r.id))


def described(row: NomineeRow) -> str:
    """#12 张三（BYGJ-2017-0007，受理，M8）: how a nominee is named to staff."""
    number = f"{row.intake_number}，" if row.intake_number else ""
    replaced = f"，已被 #{row.superseded_by} 替代" if row.superseded_by else ""
    status = words.word(words.STATUS, row.status)
    return f"#{row.id} {one_line(row.name) or '（姓名未识别）'}（{number}{status}，M{row.message_id}{replaced}）"


def find_nominee(session: Session, campaign_id: str, key: str) -> NomineeRow:
    """The one nominee `key` means; the candidates listed where it could be several."""
    rows = find_nominees(session, campaign_id, key)
    current = [r for r in rows if r.superseded_by is None]
    if len(current) == 1 or (len(rows) == 1):
        return current[0] if len(current) == 1 else rows[0]
    if not rows:
        raise ReviewError(f"评选活动 {campaign_id} 中没有被推荐人 {key}（可用 #记录号、受理编号、姓名或发件人地址）")
    listed = "；".join(described(r) for r in rows[:20])
    raise ReviewError(f"“{key}”对应多位被推荐人，请用记录号（#…）指定：{listed}")


def current_nominee(session: Session, campaign_id: str, key: str) -> NomineeRow:
    row = find_nominee(session, campaign_id, key)
    if row.superseded_by is not None:
        newer = session.get(NomineeRow, row.superseded_by)
        raise ReviewError(f"被推荐人 #{row.id} 的材料已被 #{newer.id}（{newer.intake_number or '无编号'}）替代，"
                          f"请对 #{newer.id} 操作")
    return row


def find_message(session: Session, campaign_id: str, key: str) -> MessageRow:
    """A mail by its number (M8, or 8)."""
    number = _number(key, "M")
    row = session.get(MessageRow, number) if number is not None else None
    if row is None or row.campaign_id != campaign_id:
        raise ReviewError(f"评选活动 {campaign_id} 中没有邮件 {key}（邮件编号如 M8）")
    return row
