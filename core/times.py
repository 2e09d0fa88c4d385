"""Instants are compared in absolute time and shown to people in Beijing time (Asia/Shanghai).

CONTRACT §1: every campaign this product serves reads its clock in Beijing, so there is one
zone, here, and every date a person reads says which day it is.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# INTAKE_CLOCK=2017-04-28T09:00 runs a command as if it started then (the clock goes on from
# there): for demonstrations and tests of what staff see before a campaign's deadline
CLOCK_ENV = "INTAKE_CLOCK"


def utcnow() -> datetime:
    offset = _clock_offset(os.environ.get(CLOCK_ENV, ""))
    return datetime.now(timezone.utc) + offset


@lru_cache(maxsize=4)
def _clock_offset(setting: str) -> timedelta:
    if not setting:
        return timedelta(0)
    return parse_instant(setting) - datetime.now(timezone.utc)


def aware(moment: datetime, naive_zone=timezone.utc) -> datetime:
    """Databases hand back naive UTC on some backends; make it an instant again."""
    return moment if moment.tzinfo else moment.replace(tzinfo=naive_zone)


def beijing(moment: datetime) -> datetime:
    return aware(moment).astimezone(SHANGHAI)


def shown(moment: datetime) -> str:
    """2017年04月30日23:59: how replies and audit notes write a time."""
    return beijing(moment).strftime("%Y年%m月%d日%H:%M")


def minute(moment: datetime | None, empty: str = "—") -> str:
    """2017-04-30 23:59: how command output and staff pages write a time."""
    return beijing(moment).strftime("%Y-%m-%d %H:%M") if moment else empty


def second(moment: datetime | None, empty: str = "从未") -> str:
    return beijing(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else empty


def today(now: datetime | None = None) -> date:
    """Today in Beijing, whatever zone the server keeps."""
    return beijing(now or utcnow()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The Beijing day as [start, end) instants."""
    start = datetime.combine(day, time(0), SHANGHAI)
    return start, start + timedelta(days=1)


def start_of_day(now: datetime) -> datetime:
    return day_bounds(beijing(now).date())[0]


def parse_instant(text: str) -> datetime:
    """ISO-8601, read as Beijing time when it carries no offset; ValueError otherwise."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
