"""账号 (admins): the console's accounts, as `intake users` manages them, under the admin's name."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web import accounts
from web.render import notify, page
from web.security import Refused, staff


@staff("admin")
def users_page(request: Request) -> Response:
    return page(request, "users.html", users=accounts.list_users(request.app.state.runtime.engine), roles=accounts.ROLES)


def _password(form) -> str:
    password = str(form.get("password", ""))
    if password != str(form.get("again", "")):
        raise Refused(400, "两次输入的密码不一致。")
    return password


@staff("admin")
def change(request: Request) -> Response:
    engine, actor, form = request.app.state.runtime.engine, request.state.account.name, request.state.form
    what, name = str(form.get("what", "")), str(form.get("name", ""))
    try:
        if what == "add":
            accounts.add_user(engine, name, str(form.get("role", "")), _password(form), actor)
        elif what == "passwd":
            accounts.set_password(engine, name, _password(form), actor)
        elif what in ("disable", "enable"):
            if what == "disable" and name == actor:
                raise Refused(400, "不能停用自己的账号。")
            accounts.set_active(engine, name, what == "enable", actor)
        else:
            raise Refused(400, "未知的操作。")
    except accounts.AccountError as refused:
        raise Refused(400, str(refused)) from None
    notify(request, f"账号 {name}：已{dict(add='添加', passwd='更改密码', disable='停用', enable='启用')[what]}。")
    return RedirectResponse("/users", status_code=303)


ROUTES = [
    Route("/users", users_page, methods=["GET"]),
    Route("/users", change, methods=["POST"]),
]
