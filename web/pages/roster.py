"""全部推荐: every nominee, searched, filtered, sorted and paged; the filter downloaded as the .xlsx roster."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.times import beijing, utcnow
from staff.export import workbook_bytes, workbook_rows
from storage.db import session as new_session
from storage.filing import audit
from web import search
from web.downloads import attachment_response
from web.render import page
from web.security import staff

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@staff()
def roster(request: Request) -> Response:
    runtime = request.app.state.runtime
    chosen = search.parse(request.query_params)
    with new_session(runtime.engine) as session:
        found = search.search(session, runtime.profile.id, chosen)
        units, codes = search.units(session, runtime.profile.id), search.codes_seen(session, runtime.profile.id)
    return page(request, "roster.html", chosen=chosen, found=found, units=units, codes=codes,
                pattern=search.SEARCH_PATTERN, sorts=(("received", "收到时间"), ("number", "受理编号"), ("name", "姓名"),
                                                      ("status", "状态"), ("unit", "推荐单位"), ("record", "记录号")))


@staff()
def roster_xlsx(request: Request) -> Response:
    """The roster of what the filter shows (current filings), ID and phone in full: audited."""
    runtime, account = request.app.state.runtime, request.state.account
    chosen = search.parse(request.query_params)
    now = utcnow()
    with new_session(runtime.engine) as session:
        wanted = set(search.matching_ids(session, runtime.profile.id, chosen))
        columns, rows, nominees = workbook_rows(session, runtime.profile, only=wanted)
        audit(session, "campaign", 0, "exported", actor=account.name,
              note=f"{runtime.profile.id}: web roster of {len(rows)} nominees ({chosen.query_string(page=1) or 'all'})")
        session.commit()
    data = workbook_bytes(runtime.profile, columns, rows, nominees, now)
    return attachment_response(data, f"{runtime.profile.id}-名单-{beijing(now):%Y%m%d-%H%M}.xlsx", XLSX)


ROUTES = [
    Route("/nominees", roster, methods=["GET"]),
    Route("/nominees/roster.xlsx", roster_xlsx, methods=["GET"]),
]
