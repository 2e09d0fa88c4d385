"""`intake web`: the office's web console (工作台) in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import campaign_option, config_option, runtime_from


@click.command()
@config_option
@campaign_option
def web(config_file: Path | None) -> None:
    """Serve the web console ([web] in the config: host, port, session key) until SIGTERM/SIGINT.

    Where the config serves several campaigns, one console per campaign (--campaign), each on the
    port of its mailbox's [mailboxes.NAME.web]."""
    from core.settings import ConfigError
    from service import forkserver
    from web.server import serve

    runtime = runtime_from(config_file)
    forkserver.start()  # a correction judges the mail again: its sandboxes come from it, not the threaded server
    settings = runtime.config.web
    click.echo(f"工作台：http://{settings.host}:{settings.port}/（账号：intake users add 姓名 --role admin）", err=True)
    try:
        serve(runtime)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


COMMANDS = (web,)
