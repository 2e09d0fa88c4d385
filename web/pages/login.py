"""Logging in and out. A failed login says only that it failed; too many failures for a name or
from an address wait out the window, whatever the password."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web import accounts
from web.render import page
from web.security import checked_form, client_address, local_path, log_in, signed_in, staff

log = logging.getLogger("intake")
FAILED = "用户名或密码不正确，或账号已停用。"
THROTTLED = f"登录失败次数过多，请 {accounts.WINDOW_SECONDS // 60} 分钟后再试。"


async def login_form(request: Request) -> Response:
    if await run_in_threadpool(signed_in, request) is not None:
        return RedirectResponse("/", status_code=303)
    return page(request, "login.html", next=local_path(request.query_params.get("next")), problem=None)


async def login(request: Request) -> Response:
    form = await checked_form(request)
    name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:1024]
    target = local_path(str(form.get("next", "")))
    throttle: accounts.Throttle = request.app.state.throttle
    address = client_address(request)
    if throttle.blocked(name, address):
        return page(request, "login.html", status=429, next=target, problem=THROTTLED)
    account = await run_in_threadpool(accounts.authenticate, request.app.state.runtime.engine, name, password)
    if account is None:
        throttle.failed(name, address)
        log.warning("工作台登录失败（来自 %s）", address)
        return page(request, "login.html", status=401, next=target, problem=FAILED)
    throttle.succeeded(name)
    log_in(request, account)
    log.info("工作台登录：%s", account.name)
    return RedirectResponse(target, status_code=303)


@staff()
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
