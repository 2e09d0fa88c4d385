"""The `intake` command: the group, and the commands that need no service (check, campaigns)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

import campaigns
from cli import db, forward, maintenance, review, service, staff, users, web
from cli.common import instant
from core.times import minute


def _profile(campaign_id: str) -> campaigns.Profile:
    try:
        return campaigns.load(campaign_id)
    except campaigns.ProfileError as exc:
        known = ", ".join(campaigns.available())
        raise click.UsageError(f"{exc}\nknown campaigns: {known}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Intake for craftsman-award campaigns: judge nomination e-mails and answer senders."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_id", required=True, help="campaign profile id, e.g. chongqing-bayu-2017")
@click.option("--received-at", help="time of receipt (ISO-8601; Asia/Shanghai when no offset); "
              "default: the topmost Received: header, else Date:")
@click.option("--format", "output", type=click.Choice(["json", "text"]), default="json", show_default=True,
              help="json: one object per message (CONTRACT §4); text: a summary for people")
def check(files: tuple[Path, ...], campaign_id: str, received_at: str | None, output: str) -> None:
    """Judge e-mails from files; touches no mailbox, database or outbox."""
    from service.judge import judge
    from service.verdict_json import verdict_json
    from service.verdict_text import verdict_lines

    profile = _profile(campaign_id)
    moment = instant(received_at)
    for path in files:
        verdict = judge(path.read_bytes(), profile, received_at=moment, received_at_source="option")
        if output == "json":
            click.echo(json.dumps(verdict_json(verdict, profile.id, str(path)), ensure_ascii=False))
        else:
            click.echo("\n".join(verdict_lines(verdict, path.name)) + "\n")
        sys.stdout.flush()


@main.command("campaigns")
def list_campaigns() -> None:
    """List the campaign profiles that can be used."""
    for campaign_id in campaigns.available():
        profile = campaigns.load(campaign_id)
        forwards = f" → {profile.forwards_to}" if profile.forwards_to else ""
        click.echo(f"{profile.id:24} {profile.mailbox:22} 截止 {minute(profile.deadline)}  {profile.title}{forwards}")


for group in (service, maintenance, review, staff, forward, db, users, web):
    for command in group.COMMANDS:
        main.add_command(command)

if __name__ == "__main__":
    main()
