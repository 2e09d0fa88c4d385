"""Instants are compared in absolute time and shown to people in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def aware(moment: datetime) -> datetime:
    """Databases hand back naive UTC on some backends; make it an instant again."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def shown(moment: datetime) -> str:
    """2017年04月30日23:59 — how replies and logs write a time."""
    return aware(moment).astimezone(SHANGHAI).strftime("%Y年%m月%d日%H:%M")


def instant_option(value: str | None) -> datetime | None:
    """A command-line time: ISO-8601, read as Asia/Shanghai when it carries no offset."""
    import click

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time, e.g. 2017-04-30T23:59:00+08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
