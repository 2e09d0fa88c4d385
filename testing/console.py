"""The web console's records and requests for tests and the benchmark: a config, many nominees
filed straight into the tables (no mail: what the list and search read), and a client logged in."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from core.times import SHANGHAI
from storage.models import CampaignRow, FindingRow, MessageRow, NomineeRow
from testing.idcards import id_number  # noqa: F401 - also what the benchmark makes tails of

CAMPAIGN = "chongqing-bayu-2017"
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
UNITS = ("重庆市沙坪坝区总工会", "重庆市渝中区总工会", "重庆市九龙坡区总工会", "中建三局工会", "长安汽车工会",
         "重庆市江北区总工会", "重庆钢铁集团工会", "重庆市北碚区总工会")
STATUSES = ("accepted",) * 6 + ("rejected",) * 2 + ("needs_review",) * 2
CODES = ("PHOTO_COUNT", "SEAL_MISSING", "LATE", "FIELD_MISSING", "WRITEUP_TOO_LONG")


def write_config(folder: Path, extra: str = "") -> Path:
    """A config for the console alone: SQLite and replies to a folder, cookies usable over plain http
    (the in-process client speaks http)."""
    path = folder / "intake.toml"
    path.write_text(f"""
campaign = "{CAMPAIGN}"
data_path = "{folder / 'data'}"

[mailbox]
kind = "maildir"
path = "{folder / 'mailbox'}"

[smtp]
kind = "folder"
outbox_path = "{folder / 'data' / 'outbox'}"

[web]
secure_cookies = false
{extra}""", encoding="utf-8")
    return path


def fill(engine, count: int, seed: int = 7, start: datetime = datetime(2017, 4, 1, 9, 0, tzinfo=SHANGHAI)) -> None:
    """`count` nominees, one a mail, a fifth with a finding: names, units, ID numbers, statuses and
    times spread as a campaign's are. Bulk inserts, so that 10,000 take seconds."""
    rng = random.Random(seed)
    with engine.begin() as connection:
        if connection.execute(CampaignRow.__table__.select()).first() is None:
            connection.execute(insert(CampaignRow), [{"id": CAMPAIGN, "title": "巴渝工匠", "last_intake_sequence": 0}])
        first = (connection.execute(MessageRow.__table__.select().order_by(MessageRow.id.desc())).first() or [0])[0] + 1
        messages, nominees, findings = [], [], []
        for k in range(count):
            number = first + k
            when = start + timedelta(minutes=rng.randrange(60 * 24 * 29))
            status = rng.choice(STATUSES)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            unit = rng.choice(UNITS)
            messages.append({"id": number, "campaign_id": CAMPAIGN, "account": "bench", "folder": "INBOX", "uidvalidity": 1,
                             "uid": number, "raw_sha256": f"{number:064x}", "raw_size": 1000,
                             "from_addr": f"unit{number}@example.cn", "subject": f"{name}推荐材料",
                             "received_at": when, "received_at_source": "imap", "state": "filed", "status": status,
                             "attempts": 1, "references": "", "moved": True, "created_at": when})
            fields = {"name": name, "employer": f"{unit[:-2]}下属企业{number % 97}", "recommending_unit": unit,
                      "channel": "organization", "id_number": id_number(sequence=f"{number % 1000:03d}"), "phone": "13812345678"}
            nominees.append({"id": number, "campaign_id": CAMPAIGN, "message_id": number, "position": 0,
                             "intake_number": f"BYGJ-2017-{number:05d}" if status != "rejected" else None,
                             "identity_key": f"id:{fields['id_number']}:{number}", "name": name,
                             "employer": fields["employer"], "channel": "organization", "recommending_unit": unit,
                             "fields": fields, "status": status, "created_at": when})
            if rng.random() < 0.2:
                findings.append({"message_id": number, "nominee_id": number, "code": rng.choice(CODES),
                                 "severity": "review" if status == "needs_review" else "reject", "text": "…", "detail": {}})
        connection.execute(insert(MessageRow), messages)
        connection.execute(insert(NomineeRow), nominees)
        if findings:
            connection.execute(insert(FindingRow), findings)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def logged_in(client, name: str, password: str):
    """The client after logging in through the login page, as a browser would."""
    response = client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(client.get("/login").text),
                                           "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text[-500:]
    return client
