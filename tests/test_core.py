"""The shared facts every layer relies on, each defined once and answered one way."""

import pytest

from core import filekinds, words
from core.net import is_loopback
from core.times import day_bounds, minute, parse_instant, today


@pytest.mark.parametrize("host, loopback", [
    ("localhost", True), ("LOCALHOST", True), ("localhost.", True), ("127.0.0.1", True), ("127.1.2.3", True),
    ("::1", True), ("[::1]", True), ("::ffff:127.0.0.1", True),
    # a resolver may send these over the network: a password must never go to them in plain
    ("mail.localhost", False), ("localhost.example.cn", False), ("smtp.exmail.qq.com", False),
    ("192.168.1.10", False), ("::2", False), ("", False),
])
def test_loopback_is_this_machine_only(host, loopback):
    assert is_loopback(host) is loopback


def test_every_state_has_its_one_word():
    for literal, table in words.VOCABULARY.items():
        assert set(words.states(literal)) == set(table), literal


def test_every_act_the_audit_trail_records_has_its_words():
    """Staff read the history (review show, the console's nominee page): no act in code words."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    acts = set()
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in ("tests", "testing", "bench", ".venv"):
            continue
        for call in re.finditer(r'audit\(session,\s*"\w+",[^,]+,\s*([^,]+?),', path.read_text(encoding="utf-8")):
            acts |= set(re.findall(r'(?<!== )"(\w+)"', call.group(1)))  # not what a condition compares
    assert len(acts) > 20 and all(words.audit_action(act) != act for act in acts), \
        sorted(act for act in acts if words.audit_action(act) == act)
    assert words.audit_action("sent") == "已发送" and words.audit_state("nominee", "needs_review") == "待人工核对"


def test_a_state_no_table_knows_is_shown_as_it_is():
    assert words.word(words.REPLY_STATE, "held") == "已暂扣"
    assert words.word(words.REPLY_STATE, "reprocessed") == "reprocessed"
    assert words.word(words.REPLY_STATE, None) == "—"


@pytest.mark.parametrize("media_type, filename, category, route", [
    ("application/vnd.oasis.opendocument.text", "推荐表.odt", "document", "legacy"),
    ("application/vnd.oasis.opendocument.spreadsheet", "汇总表.ods", "spreadsheet", "summary"),
    ("application/octet-stream", "推荐表.odt", "document", "legacy"),
    ("application/octet-stream", "汇总表.ods", "spreadsheet", "summary"),
    ("application/zip", "推荐表.docx", "archive", "docx"),  # a .docx cut short is no valid zip any more
    ("application/zip", "材料.zip", "archive", "other"),
    ("image/jpeg", "照片.jpg", "image", "other"),
    ("video/quicktime", "视频.mov", "video", "other"),
    ("application/x-ms-office-encrypted", "推荐表.docx", "document", "encrypted"),
])
def test_one_table_says_what_a_file_is(media_type, filename, category, route):
    assert filekinds.category(media_type, filename) == category
    assert filekinds.route(media_type, filename) == route


def test_times_read_and_shown_in_beijing():
    moment = parse_instant("2017-04-30T23:59:00")
    assert moment.utcoffset().total_seconds() == 8 * 3600
    assert minute(moment) == "2017-04-30 23:59"
    start, end = day_bounds(moment.date())
    assert start <= moment < end


def test_today_is_beijings_day_on_a_utc_server():
    one_in_the_morning_in_beijing = parse_instant("2017-05-01T01:00:00+08:00")  # 17:00 UTC the day before
    assert today(one_in_the_morning_in_beijing).isoformat() == "2017-05-01"
