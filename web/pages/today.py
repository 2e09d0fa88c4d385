"""今日: the day's intake log as a page, with what waits for staff on top (service/waiting.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.times import today
from service.daylog import day_messages, totals_line
from service.waiting import queue
from storage.db import session as new_session
from storage.models import FindingRow, MessageRow, NomineeRow, ReplyRow
from web.render import page
from web.security import staff


@dataclass(frozen=True)
class Entry:
    """One message of the day as the log tells it."""

    message: MessageRow
    nominees: list[NomineeRow]
    findings: list[FindingRow]
    reply: ReplyRow | None


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else today()
    except ValueError:
        return today()


def entries(session, campaign_id: str, day: date) -> list[Entry]:
    found = []
    for row in day_messages(session, campaign_id, day):
        nominees = session.exec(select(NomineeRow).where(NomineeRow.message_id == row.id)
                                .order_by(NomineeRow.position, NomineeRow.id)).all()
        findings = session.exec(select(FindingRow).where(FindingRow.message_id == row.id, FindingRow.severity != "info")
                                .order_by(FindingRow.id)).all()
        reply = session.exec(select(ReplyRow).where(ReplyRow.message_id == row.id).order_by(ReplyRow.id)).first()
        found.append(Entry(row, list(nominees), list(findings), reply))
    return found


@staff()
def today_page(request: Request) -> Response:
    runtime = request.app.state.runtime
    day = _day(request.query_params.get("day"))
    waiting = queue(runtime)
    with new_session(runtime.engine) as session:
        day_entries = entries(session, runtime.profile.id, day)
    return page(request, "today.html", day=day, earlier=day - timedelta(days=1), later=day + timedelta(days=1),
                is_today=day == today(), waiting=waiting, entries=day_entries,
                totals=totals_line([e.message for e in day_entries]))


ROUTES = [Route("/", today_page, methods=["GET"])]
