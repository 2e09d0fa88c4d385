"""全部推荐's question: which nominees match a search and filters, sorted and paged, in one query.

A search term is matched against the name, intake number, employer, recommending unit and sender
address, and, when it is 4 to 6 digits (an X may end it), the end of the ID number. A longer run
of digits is refused without being searched or shown: full ID and phone numbers must never
travel in a URL (the search form is a GET, so that a result can be paged and bookmarked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Mapping
from urllib.parse import urlencode

from sqlalchemy import func, or_
from sqlmodel import Session, select

from core.times import day_bounds
from core.words import NomineeStatus, states
from storage.models import FindingRow, MessageRow, NomineeRow

PAGE_SIZE = 50
SORTS = {"received": MessageRow.received_at, "number": NomineeRow.intake_number, "name": NomineeRow.name,
         "status": NomineeRow.status, "unit": NomineeRow.recommending_unit, "record": NomineeRow.id}
ID_TAIL = re.compile(r"^\d{3,5}[\dXx]$")
TOO_MANY_DIGITS = re.compile(r"\d{7,}")
# what the search box lets a browser send: no run of seven digits (a phone or ID number in full)
SEARCH_PATTERN = r"^(?!.*\d{7}).*$"


@dataclass(frozen=True)
class Filter:
    q: str = ""
    status: str = ""
    channel: str = ""
    code: str = ""
    unit: str = ""
    since: date | None = None
    until: date | None = None
    everyone: bool = False  # also filings replaced by a later one
    sort: str = "received"
    descending: bool = True
    page: int = 1
    refused: str = field(default="", compare=False)  # why the search term was not used

    def query_string(self, **changes) -> str:
        """This filter as URL parameters (the defaults left out), with `changes` applied."""
        chosen = replace(self, **changes)
        pairs = {"q": chosen.q, "status": chosen.status, "channel": chosen.channel, "code": chosen.code,
                 "unit": chosen.unit, "since": chosen.since.isoformat() if chosen.since else "",
                 "until": chosen.until.isoformat() if chosen.until else "", "everyone": "1" if chosen.everyone else "",
                 "sort": "" if chosen.sort == "received" else chosen.sort,
                 "dir": "" if chosen.descending else "asc", "page": "" if chosen.page == 1 else str(chosen.page)}
        return urlencode({k: v for k, v in pairs.items() if v})


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def parse(params: Mapping[str, str]) -> Filter:
    q = " ".join(str(params.get("q", "")).split())[:80]
    refused = ""
    if TOO_MANY_DIGITS.search(q):
        q, refused = "", "为保护个人信息，请只输入身份证号的最后 4–6 位，不要输入完整号码或电话号码。"
    status = params.get("status", "")
    sort = params.get("sort", "received")
    try:
        number = max(1, int(params.get("page", "1")))
    except ValueError:
        number = 1
    return Filter(q=q, status=status if status in states(NomineeStatus) else "", channel=params.get("channel", "")[:40],
                  code=params.get("code", "")[:40], unit=params.get("unit", "")[:200],
                  since=_date(params.get("since")), until=_date(params.get("until")),
                  everyone=params.get("everyone") == "1", sort=sort if sort in SORTS else "received",
                  descending=params.get("dir") != "asc", page=number, refused=refused)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _term(q: str):
    """One search term as a condition: any of the columns staff know a nominee by."""
    if q.startswith("#") and q[1:].isdigit():
        return NomineeRow.id == int(q[1:])
    like = _like(q)
    found = [NomineeRow.name.like(like, escape="\\"), NomineeRow.intake_number.like(like, escape="\\"),
             NomineeRow.employer.like(like, escape="\\"), NomineeRow.recommending_unit.like(like, escape="\\"),
             MessageRow.from_addr.like(like.lower(), escape="\\")]
    if ID_TAIL.match(q):
        found.append(func.upper(NomineeRow.fields["id_number"].as_string()).like("%" + q.upper()))
    return or_(*found)


def conditions(campaign_id: str, chosen: Filter) -> list:
    where = [NomineeRow.campaign_id == campaign_id]
    if not chosen.everyone:
        where.append(NomineeRow.superseded_by.is_(None))
    if chosen.q:
        where.append(_term(chosen.q))
    if chosen.status:
        where.append(NomineeRow.status == chosen.status)
    if chosen.channel:
        where.append(NomineeRow.channel == chosen.channel)
    if chosen.unit:
        where.append(NomineeRow.recommending_unit == chosen.unit)
    if chosen.code:
        # the nominee's own finding, or one about its whole mail (LATE): two lookups by the code's index
        where.append(or_(
            NomineeRow.id.in_(select(FindingRow.nominee_id).where(FindingRow.code == chosen.code,
                                                                  FindingRow.nominee_id.is_not(None))),
            NomineeRow.message_id.in_(select(FindingRow.message_id).where(FindingRow.code == chosen.code,
                                                                          FindingRow.nominee_id.is_(None)))))
    if chosen.since:
        where.append(MessageRow.received_at >= day_bounds(chosen.since)[0])
    if chosen.until:
        where.append(MessageRow.received_at < day_bounds(chosen.until)[1])
    return where


@dataclass(frozen=True)
class Found:
    rows: list[tuple[NomineeRow, MessageRow]]
    total: int
    pages: int


def search(session: Session, campaign_id: str, chosen: Filter, page_size: int = PAGE_SIZE) -> Found:
    where = conditions(campaign_id, chosen)
    joined = select(NomineeRow, MessageRow).join(MessageRow, MessageRow.id == NomineeRow.message_id).where(*where)
    total = session.exec(select(func.count()).select_from(NomineeRow)
                         .join(MessageRow, MessageRow.id == NomineeRow.message_id).where(*where)).one()
    column = SORTS[chosen.sort]
    order = [column.desc() if chosen.descending else column.asc(), NomineeRow.id.desc()]
    if chosen.sort in ("number", "unit"):
        order.insert(0, column.is_(None))  # the ones without a number or unit last, either way
    pages = max(1, -(-total // page_size))
    start = (min(chosen.page, pages) - 1) * page_size
    rows = session.exec(joined.order_by(*order).offset(start).limit(page_size)).all()
    return Found([(n, m) for n, m in rows], total, pages)


def matching_ids(session: Session, campaign_id: str, chosen: Filter) -> list[int]:
    """Every nominee the filter matches (no paging): what the roster download holds."""
    return list(session.exec(select(NomineeRow.id).join(MessageRow, MessageRow.id == NomineeRow.message_id)
                             .where(*conditions(campaign_id, chosen))).all())


def units(session: Session, campaign_id: str) -> list[str]:
    """The recommending units named by the campaign's nominees, for the filter's choices."""
    found = session.exec(select(NomineeRow.recommending_unit).where(
        NomineeRow.campaign_id == campaign_id, NomineeRow.recommending_unit.is_not(None),
        NomineeRow.recommending_unit != "").distinct().order_by(NomineeRow.recommending_unit)).all()
    return list(found)


def codes_seen(session: Session, campaign_id: str) -> list[str]:
    return list(session.exec(select(FindingRow.code).join(MessageRow, MessageRow.id == FindingRow.message_id)
                             .where(MessageRow.campaign_id == campaign_id).distinct().order_by(FindingRow.code)).all())

