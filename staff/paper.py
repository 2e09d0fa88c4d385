"""Paper copies: staff note when a nominee's printed, stamped copy arrived by post (both notices ask for one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.times import shown
from service.runtime import Runtime
from staff.lookup import current_nominee
from storage.db import session as new_session
from storage.filing import audit
from storage.models import NomineeRow


@dataclass(frozen=True)
class PaperMark:
    nominee: NomineeRow
    before: datetime | None


def mark_paper(runtime: Runtime, keys: list[str], actor: str, at: datetime | None, now: datetime,
               undo: bool = False) -> list[PaperMark]:
    """Note that the paper copy of each nominee arrived (or, with `undo`, that it did not)."""
    marks = []
    with new_session(runtime.engine) as session:
        for key in keys:
            row = current_nominee(session, runtime.profile.id, key)
            before = row.paper_copy_received_at
            row.paper_copy_received_at = None if undo else (at or now)
            session.add(row)
            audit(session, "nominee", row.id, "paper_copy_undone" if undo else "paper_copy_received",
                  shown(before) if before else None,
                  shown(row.paper_copy_received_at) if row.paper_copy_received_at else None, actor=actor)
            marks.append(PaperMark(row, before))
        session.commit()
    return marks
