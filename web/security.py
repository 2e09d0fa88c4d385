"""What every response and every form of the console goes through: headers, sessions, CSRF, roles.

- Every response carries a Content-Security-Policy that allows no script at all (the pages
  work without it), and nothing but this origin's own stylesheet and images: no inline style,
  no foreign origin, no framing; `nosniff`, no referrer, and `no-store` (pages hold personal data).
- The session is a signed cookie (HttpOnly, SameSite=Lax, Secure where configured) holding the
  account's id, its session epoch, the login time and the CSRF token; it expires after
  `web.session_hours`, and a password change or a disabled account ends it at once.
- Every POST must carry the session's CSRF token; without it nothing is done.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.files import private_folder
from core.settings import ConfigError
from service.config import WebConfig
from web import accounts

log = logging.getLogger("intake")

CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
MAX_FORM_FIELDS = 40


class Refused(Exception):
    """A request the console will not do: the status and the words shown."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


class SecurityHeaders:
    """Pure ASGI: the headers above on every response, `Server-Timing` (what the benchmark reads), and an
    access log line of method, path (never the query: it may hold what was searched) and status."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                if not static and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                headers.append((b"server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode()))
                message["headers"] = headers
                log.debug("web %s %s %s", scope["method"], scope["path"], message["status"])
            await send(message)

        await self.app(scope, receive, with_headers)


def session_secret(settings: WebConfig, data_path: Path) -> str:
    """The key that signs session cookies: the environment variable or file the config names, else
    a random key kept (0600) in the data folder, made the first time."""
    if settings.session_secret_env:
        value = os.environ.get(settings.session_secret_env, "")
        if len(value) < 32:
            raise ConfigError(f"web.session_secret_env: ${settings.session_secret_env} must hold at least 32 characters")
        return value
    path = settings.session_secret_file or private_folder(data_path / "web") / "session-secret"
    if settings.session_secret_file is None and not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read web.session_secret_file {path}: {exc.strerror}") from None
    if len(value) < 32:
        raise ConfigError(f"web.session_secret_file {path} must hold at least 32 characters")
    return value


def cookie_name(settings: WebConfig) -> str:
    # __Host-: the browser keeps it only when Secure, for this host alone and for every path
    return "__Host-intake" if settings.secure_cookies else "intake"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    sent, expected = str(form.get("csrf", "")), request.session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Refused(403, "表单已失效或来源不明（缺少安全令牌），未做任何操作。请刷新页面后重试。")
    return form


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def signed_in(request: Request) -> accounts.Account | None:
    """The account of this session, while the session is young enough and the account unchanged."""
    session = request.session
    settings: WebConfig = request.app.state.settings
    if "uid" not in session:
        return None
    if time.time() - float(session.get("at", 0)) > settings.session_hours * 3600:
        session.clear()
        return None
    account = accounts.current(request.app.state.runtime.engine, int(session["uid"]), int(session.get("epoch", -1)))
    if account is None:
        session.clear()
    return account


def log_in(request: Request, account: accounts.Account) -> None:
    """A fresh session (a token from before the login is never carried over)."""
    request.session.clear()
    request.session.update(uid=account.id, epoch=account.epoch, at=time.time(), csrf=secrets.token_urlsafe(32))


def local_path(target: str | None) -> str:
    """Where to go after logging in: a path of this site only."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def staff(role: str = "clerk") -> Callable:
    """A page for accounts of `role` or above. The handler runs in a worker thread (the records
    are read synchronously); a POST reaches it only with its CSRF token checked (`request.state.form`)."""

    def wrap(handler: Callable[[Request], Response]) -> Callable:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            account = await run_in_threadpool(signed_in, request)
            if account is None:
                return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
            request.state.account = account
            if not account.may(role):
                raise Refused(403, f"您的角色（{account.role_word}）不能做这件事：需要“{accounts.STAFF_ROLE[role]}”"
                                   "或以上的角色。未做任何操作。")
            request.state.form = await checked_form(request) if request.method == "POST" else None
            return await run_in_threadpool(handler, request)

        return endpoint

    return wrap
