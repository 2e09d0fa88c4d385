"""When a message arrived: the caller's time, else the topmost Received: header, else Date: (CONTRACT §1)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_tz

from core.times import SHANGHAI

_NUMERIC_ZONE = re.compile(r"[+-]\d{4}\b")
# Servers in China print their zone as "CST" (China Standard Time); parsedate reads it as
# US Central, fourteen hours off.
_CHINA_CST = re.compile(r"\bCST\b", re.IGNORECASE)
_COMMENT = re.compile(r"\(([^()]*)\)")
# GMT+0800, GMT+08:00, UTC+8 (JavaScript and some webmail write the offset after the zone's name)
_NAMED_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b", re.IGNORECASE)
_ANY_ZONE = re.compile(r"[+-]\d{4}\b|\b(UTC?|GMT|Z|[ECMP][SD]T)\b", re.IGNORECASE)


def aware(moment: datetime) -> datetime:
    """A datetime with a zone: naive ones are read as Asia/Shanghai (CONTRACT §1)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


def parse_date(text: str | None) -> datetime | None:
    """An RFC 5322 date as a timezone-aware datetime, or None when it cannot be read."""
    if not text:
        return None
    text = _plain_zone(text.strip()[:200])
    try:
        parts = parsedate_tz(text)
        if parts is None or not 1980 <= parts[0] <= 2200:
            return None
        moment = datetime(*parts[:6])
        if not _ANY_ZONE.search(text):  # no zone written: local time of a Chinese sender
            return moment.replace(tzinfo=SHANGHAI)
        # parsedate gives no offset for -0000, which RFC 5322 reads as UTC with the zone unknown
        return moment.replace(tzinfo=timezone(timedelta(seconds=parts[9] or 0)))
    except (ValueError, TypeError, OverflowError, IndexError):  # Feb 30, a zone of +9999
        return None


def _plain_zone(text: str) -> str:
    """The date with its zone as parsedate reads it: a numeric offset, written or meant.

    An offset given in numbers stands (in a comment too: `CST(+0800)`); `CST` alone, in any
    case and in a comment too, is China's +0800, as Chinese servers mean it (CONTRACT §3)."""
    text = _NAMED_OFFSET.sub(lambda m: f"{m.group(1)}{int(m.group(2)):02d}{m.group(3) or '00'}", text)
    comments = " ".join(_COMMENT.findall(text))
    text = _COMMENT.sub(" ", text).strip()
    if not _NUMERIC_ZONE.search(text):
        zone = _NUMERIC_ZONE.search(comments)
        if zone:
            text = f"{_CHINA_CST.sub(' ', text).strip()} {zone.group(0)}"
        elif _CHINA_CST.search(text) or _CHINA_CST.search(comments):
            text = f"{_CHINA_CST.sub(' ', text).strip()} +0800"
    return text


def received_date(received_header: str) -> datetime | None:
    """The date a Received: header stamps: the text after its last semicolon."""
    if ";" not in received_header:
        return None
    return parse_date(received_header.rsplit(";", 1)[1])


def time_of_receipt(
    given: datetime | None, given_source: str, received_headers: list[str], date_header: datetime | None
) -> tuple[datetime, str, str | None]:
    """(received_at, its source, a defect note or None).

    A topmost Received: that cannot be read falls through to the next one: each hop is a
    server's clock, which beats the sender's Date:. With nothing at all, the time of parsing,
    source "now", and a defect for staff: the epoch would make every message early, and
    guessing is better done in the open.
    """
    if given is not None:
        return aware(given), given_source, None
    for header in received_headers:
        moment = received_date(header)
        if moment is not None:
            return moment, "received_header", None
    if date_header is not None:
        return date_header, "date_header", None
    return datetime.now(SHANGHAI), "now", "no readable Received: or Date: header; received_at is the time of parsing"
