"""`intake users`: the web console's accounts: add, passwd, disable, enable, list.

Accounts belong to the installation's database: where one config serves a city and its
districts, every campaign's console admits the same accounts, and no --campaign is asked.

Passwords are asked twice and never taken from the command line (it would stay in the shell's
history and in `ps`); they are stored as Argon2 hashes.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import actor_option, config_option, database_runtime
from core.times import minute


def _password() -> str:
    return click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次", err=True)


def _doing(work) -> None:
    from web.accounts import AccountError

    try:
        work()
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def users() -> None:
    """The web console's accounts (clerk, reviewer, admin)."""


@users.command("add")
@config_option
@click.argument("name")
@click.option("--role", type=click.Choice(["clerk", "reviewer", "admin"]), required=True,
              help="clerk: views, searches, paper copies, answers questions; reviewer: also decides; "
                   "admin: also manages accounts")
@actor_option
def users_add(config_file: Path | None, name: str, role: str, actor: str) -> None:
    """Add an account; the password is asked twice."""
    from core.words import STAFF_ROLE
    from web.accounts import add_user

    runtime = database_runtime(config_file)
    password = _password()
    _doing(lambda: add_user(runtime.engine, name, role, password, actor))
    click.echo(f"已添加用户 {name}（{STAFF_ROLE[role]}）")


@users.command("passwd")
@config_option
@click.argument("name")
@actor_option
def users_passwd(config_file: Path | None, name: str, actor: str) -> None:
    """Set a new password (asked twice); the account's sessions end."""
    from web.accounts import set_password

    runtime = database_runtime(config_file)
    password = _password()
    _doing(lambda: set_password(runtime.engine, name, password, actor))
    click.echo(f"用户 {name} 的密码已更改，其已登录的会话均已失效")


@users.command("disable")
@config_option
@click.argument("name")
@actor_option
def users_disable(config_file: Path | None, name: str, actor: str) -> None:
    """Disable an account at once (its sessions end); records keep its name."""
    from web.accounts import set_active

    _doing(lambda: set_active(database_runtime(config_file).engine, name, False, actor))
    click.echo(f"用户 {name} 已停用")


@users.command("enable")
@config_option
@click.argument("name")
@actor_option
def users_enable(config_file: Path | None, name: str, actor: str) -> None:
    """Enable a disabled account again."""
    from web.accounts import set_active

    _doing(lambda: set_active(database_runtime(config_file).engine, name, True, actor))
    click.echo(f"用户 {name} 已启用")


@users.command("list")
@config_option
def users_list(config_file: Path | None) -> None:
    """Every account, its role and when it last logged in."""
    from core.words import STAFF_ROLE
    from web.accounts import list_users

    rows = list_users(database_runtime(config_file).engine)
    if not rows:
        click.echo("还没有用户：intake users add 姓名 --role admin")
    for row in rows:
        state = "" if row.active else "（已停用）"
        click.echo(f"{row.name:16} {STAFF_ROLE[row.role]}{state}  最近登录 {minute(row.last_login_at, '从未')}")


COMMANDS = (users,)
