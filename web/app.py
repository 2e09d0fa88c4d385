"""The console as one ASGI app: the pages' routes, sessions, security headers, refusals as pages."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from service.runtime import Runtime
from web.accounts import Throttle
from web.jobs import Exports
from web.pages import acts, exports, inbox, login, nominee, paper, report, roster, today, users
from web.previews import Previews
from web.render import environment, page
from web.security import Refused, SecurityHeaders, cookie_name, session_secret

log = logging.getLogger("intake")
STATIC = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024  # forms only: nothing is uploaded through the console


async def refused(request: Request, exc: Refused) -> Response:
    if request.headers.get("accept", "").startswith("image/"):
        return Response(status_code=exc.status)
    try:
        return page(request, "refused.html", status=exc.status, text=exc.text, back=None)
    except Exception:  # noqa: BLE001 - a refusal must be answered even when the page cannot be drawn
        return HTMLResponse(f"<p>{exc.status}</p>", status_code=exc.status)


async def not_found(request: Request, exc) -> Response:
    return await refused(request, Refused(404, "没有这个页面。"))


async def favicon(request: Request) -> Response:
    return Response(status_code=204)


def create_app(runtime: Runtime) -> Starlette:
    settings = runtime.config.web
    routes = [Route("/favicon.ico", favicon), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    for module in (login, today, roster, nominee, acts, inbox, paper, exports, report, users):
        routes += module.ROUTES
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(SessionMiddleware, secret_key=session_secret(settings, runtime.config.data_path),
                       session_cookie=cookie_name(settings), max_age=int(settings.session_hours * 3600),
                       same_site="lax", https_only=settings.secure_cookies),
        ],
        exception_handlers={Refused: refused, 404: not_found},
        max_body_size=MAX_BODY,
    )
    app.state.runtime, app.state.settings = runtime, settings
    app.state.templates = environment()
    app.state.throttle = Throttle()
    app.state.exports = Exports(runtime)
    app.state.previews = Previews(runtime.config.previews_path, runtime.profile.limits,
                                  runtime.profile.seal.uncertain_low)
    return app
