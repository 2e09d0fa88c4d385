"""纸质件: who still owes the printed, stamped copy, and marking one arrived (or undoing it)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.times import SHANGHAI, utcnow
from staff.lookup import ReviewError
from staff.paper import mark_paper
from storage.db import session as new_session
from storage.models import NomineeRow
from web.render import notify, page
from web.security import Refused, local_path, staff


@staff()
def paper_page(request: Request) -> Response:
    runtime = request.app.state.runtime
    with new_session(runtime.engine) as session:
        rows = session.exec(select(NomineeRow).where(
            NomineeRow.campaign_id == runtime.profile.id, NomineeRow.superseded_by.is_(None),
            NomineeRow.status.in_(("accepted", "needs_review"))).order_by(NomineeRow.intake_number, NomineeRow.id)).all()
    owed = [r for r in rows if r.paper_copy_received_at is None]
    arrived = [r for r in rows if r.paper_copy_received_at is not None]
    return page(request, "paper.html", owed=owed, arrived=arrived, required=runtime.profile.paper_copy.required)


def _when(text: str) -> datetime | None:
    """A date picked in the form: that day at noon, Beijing time (the post came that day)."""
    try:
        return datetime.combine(date.fromisoformat(text), time(12), SHANGHAI) if text else None
    except ValueError:
        raise Refused(400, "日期格式不对。") from None


@staff()
def mark(request: Request) -> Response:
    runtime, account, form = request.app.state.runtime, request.state.account, request.state.form
    keys = [f"#{int(value)}" for value in form.getlist("nominee") if str(value).isdigit()]
    if not keys:
        raise Refused(400, "请选择被推荐人。")
    undo = form.get("undo") == "1"
    try:
        marks = mark_paper(runtime, keys, account.name, _when(str(form.get("at", ""))), utcnow(), undo=undo)
    except ReviewError as refused:
        raise Refused(409, str(refused)) from None
    names = "、".join(f"#{m.nominee.id}" for m in marks)
    notify(request, f"已撤销 {names} 的纸质件记录。" if undo else f"已记录 {names} 的纸质件收到。")
    return RedirectResponse(local_path(str(form.get("back", "/paper"))), status_code=303)


ROUTES = [
    Route("/paper", paper_page, methods=["GET"]),
    Route("/paper/mark", mark, methods=["POST"]),
]
