"""The review queue: nominees waiting for staff, and replies held back."""

from __future__ import annotations

from sqlmodel import select

from service.runtime import Runtime
from storage.db import session as new_session
from storage.models import MessageRow, NomineeRow, ReplyRow
from storage.queries import awaiting_choice, findings_of, message_findings_of

Waiting = tuple[NomineeRow, list[str], NomineeRow | None]  # the nominee, its codes, the filing it competes with


def queue(runtime: Runtime) -> tuple[list[Waiting], list[tuple[ReplyRow, MessageRow]]]:
    """needs_review nominees (with their finding codes and any filing they compete with) and held replies."""
    campaign = runtime.profile.id
    with new_session(runtime.engine) as session:
        rows = session.exec(select(NomineeRow).where(
            NomineeRow.campaign_id == campaign, NomineeRow.status == "needs_review",
            NomineeRow.superseded_by.is_(None)).order_by(NomineeRow.id)).all()
        nominees = []
        for row in rows:
            codes = [f.code for f in findings_of(session, row.id) + message_findings_of(session, row.message_id)
                     if f.severity in ("review", "reject")]
            nominees.append((row, codes, awaiting_choice(session, row)))
        held = session.exec(select(ReplyRow, MessageRow).join(MessageRow, MessageRow.id == ReplyRow.message_id)
                            .where(MessageRow.campaign_id == campaign, ReplyRow.state == "held")
                            .order_by(ReplyRow.id)).all()
    return nominees, [(reply, message) for reply, message in held]
