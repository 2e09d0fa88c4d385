"""Finding the nominee a staff member means: by record number or intake number, and the current filing."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import NomineeRow


class ReviewError(Exception):
    """A staff command that cannot be done as asked; the message says why and what to do."""


def find_nominee(session: Session, campaign_id: str, key: str) -> NomineeRow:
    """A nominee by record number (12) or intake number (DCGJ-2018-0003)."""
    key = key.strip()
    row = None
    if key.isdigit():
        row = session.get(NomineeRow, int(key))
    else:
        row = session.exec(select(NomineeRow).where(NomineeRow.intake_number == key)).first()
    if row is None or row.campaign_id != campaign_id:
        raise ReviewError(f"评选活动 {campaign_id} 中没有被推荐人 {key}（可用记录号或受理编号）")
    return row


def current_nominee(session: Session, campaign_id: str, key: str) -> NomineeRow:
    row = find_nominee(session, campaign_id, key)
    if row.superseded_by is not None:
        newer = session.get(NomineeRow, row.superseded_by)
        raise ReviewError(f"被推荐人 #{row.id} 的材料已被 #{newer.id}（{newer.intake_number or '无编号'}）替代，"
                          f"请对 #{newer.id} 操作")
    return row
