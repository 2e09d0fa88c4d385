"""评选情况 (staff/campaign_report.py's figures as a console page) and a district's forwards upward."""

from __future__ import annotations

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.times import utcnow
from staff.campaign_report import build_report, render_html
from storage.db import session as new_session
from storage.models import ForwardMessageRow, ForwardNomineeRow, ForwardRow, NomineeRow
from storage.queries import waiting_to_forward
from web.downloads import attachment_response
from web.render import page
from web.security import staff


@staff()
def report(request: Request) -> Response:
    runtime = request.app.state.runtime
    return page(request, "report.html", r=build_report(runtime.engine, runtime.profile, utcnow()))


@staff()
def report_download(request: Request) -> Response:
    """The self-contained page `intake report --html` writes, as a download (it carries its own script)."""
    runtime = request.app.state.runtime
    html = render_html(build_report(runtime.engine, runtime.profile, utcnow()))
    return attachment_response(html.encode("utf-8"), f"{runtime.profile.id}-评选情况.html", "application/octet-stream")


@staff()
def forwards(request: Request) -> Response:
    runtime = request.app.state.runtime
    profile = runtime.profile
    with new_session(runtime.engine) as session:
        batches = session.exec(select(ForwardRow).where(ForwardRow.campaign_id == profile.id)
                               .order_by(ForwardRow.id.desc())).all()
        mails = {b.id: session.exec(select(ForwardMessageRow).where(ForwardMessageRow.forward_id == b.id)
                                    .order_by(ForwardMessageRow.part)).all() for b in batches}
        carried = {m.id: session.exec(select(NomineeRow).join(ForwardNomineeRow, ForwardNomineeRow.nominee_id == NomineeRow.id)
                                      .where(ForwardNomineeRow.forward_message_id == m.id)).all()
                   for group in mails.values() for m in group}
        waiting = waiting_to_forward(session, profile.id) if profile.forwards_to else []
    return page(request, "forwards.html", batches=batches, mails=mails, carried=carried, waiting=waiting)


ROUTES = [
    Route("/report", report, methods=["GET"]),
    Route("/report/page.html", report_download, methods=["GET"]),
    Route("/forwards", forwards, methods=["GET"]),
]
