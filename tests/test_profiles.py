"""Campaign profiles: the presets match the notices, and a broken profile fails clearly."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import campaigns
from campaigns import ProfileError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_three_presets_ship():
    assert campaigns.available() == ["chongqing-bayu-2017", "shapingba-bayu-2017", "wuhan-dacheng-2018"]


@pytest.mark.parametrize(
    "campaign, last_ok, first_late",
    [
        ("chongqing-bayu-2017", "2017-04-30T23:59:59", "2017-05-01T00:00:00"),
        ("shapingba-bayu-2017", "2017-04-20T23:59:59", "2017-04-21T00:00:00"),
        ("wuhan-dacheng-2018", "2018-08-30T23:59:59", "2018-08-31T00:00:00"),
    ],
)
def test_deadlines_are_absolute_instants_in_shanghai(campaign, last_ok, first_late):
    profile = campaigns.load(campaign)
    assert datetime.fromisoformat(last_ok).replace(tzinfo=SHANGHAI) < profile.deadline
    assert datetime.fromisoformat(first_late).replace(tzinfo=SHANGHAI) == profile.deadline
    # the same instant seen from UTC
    assert profile.deadline.astimezone(ZoneInfo("UTC")).hour == 16


def test_district_takes_the_city_rules_with_its_own_mailbox_and_deadline():
    city = campaigns.load("chongqing-bayu-2017")
    district = campaigns.load("shapingba-bayu-2017")
    assert district.forwards_to == "chongqing-bayu-2017"
    assert city.forwards_to is None
    assert district.mailbox == "704234263@qq.com"
    assert district.office.contacts == ("彭永艳",) and district.office.phones == ("65311292",)
    assert district.intake_number(7) == "SPB-BYGJ-2017-0007"
    for same in ("form", "channels", "media", "writeup", "seal", "limits"):
        assert getattr(district, same) == getattr(city, same)
    assert district.deadline < city.deadline


def test_chongqing_rules_as_the_notice_says():
    profile = campaigns.load("chongqing-bayu-2017")
    assert [c.id for c in profile.channels] == ["organization", "public", "self"]
    assert (profile.media.photos_min, profile.media.photos_max) == (4, 5)
    assert (profile.media.video_min_seconds, profile.media.video_max_seconds) == (300, 480)
    assert profile.writeup.required and profile.writeup.max_chars == 1500
    assert profile.seal_required("organization") and not profile.seal_required("self")
    assert profile.intake_number(1) == "BYGJ-2017-0001"
    assert profile.selection.winners == 10


def test_wuhan_rules_as_the_notice_says():
    profile = campaigns.load("wuhan-dacheng-2018")
    assert [c.id for c in profile.channels] == ["organization", "association", "joint", "self", "competition"]
    assert "frontline" in profile.form.required_fields
    assert not profile.media.required and not profile.writeup.required
    assert profile.seal.required_for_channels == () and profile.seal.record_when_seen
    assert profile.selection.frontline_min_share == 0.7
    assert [q.min_candidates for q in profile.selection.unit_quotas] == [20, 5]
    assert profile.selection.ranking.expert_weight == 0.9 and profile.selection.ranking.shortlist == 120
    assert profile.intake_number(12) == "DCGJ-2018-0012"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_fourth_campaign_is_a_new_file(tmp_path):
    _write(tmp_path, "jiulongpo-bayu-2017", 'extends = "chongqing-bayu-2017"\nid = "jiulongpo-bayu-2017"\n'
           'mailbox = "jlp@example.cn"\nintake_number_prefix = "JLP-2017-"\n')
    profile = campaigns.load("jiulongpo-bayu-2017", folders=[tmp_path])
    assert profile.mailbox == "jlp@example.cn" and profile.writeup.max_chars == 1500
    assert "jiulongpo-bayu-2017" in campaigns.available([tmp_path])


def test_unknown_key_fails_with_its_place(tmp_path):
    _write(tmp_path, "typo", 'extends = "chongqing-bayu-2017"\nid = "typo"\n[writeup]\nmax_char = 1200\n')
    with pytest.raises(ProfileError, match=r"writeup\.max_char: unknown key"):
        campaigns.load("typo", folders=[tmp_path])


def test_missing_value_fails_with_its_place(tmp_path):
    source = (campaigns.PRESETS / "chongqing-bayu-2017.toml").read_text(encoding="utf-8")
    broken = source.replace('id = "chongqing-bayu-2017"', 'id = "broken"').replace('mailbox = "bygj@cqgh.org"\n', "")
    _write(tmp_path, "broken", broken)
    with pytest.raises(ProfileError, match=r"mailbox: missing"):
        campaigns.load("broken", folders=[tmp_path])


def test_deadline_without_offset_is_refused(tmp_path):
    _write(tmp_path, "naive", 'extends = "chongqing-bayu-2017"\nid = "naive"\ndeadline = 2017-05-01T00:00:00\n')
    with pytest.raises(ProfileError, match="deadline: .*UTC offset"):
        campaigns.load("naive", folders=[tmp_path])


def test_seal_rule_naming_an_unknown_channel_is_refused(tmp_path):
    _write(tmp_path, "badseal", 'extends = "chongqing-bayu-2017"\nid = "badseal"\n'
           '[seal]\nrequired_for_channels = ["unit"]\n')
    with pytest.raises(ProfileError, match="unknown channels"):
        campaigns.load("badseal", folders=[tmp_path])


def test_unknown_campaign_and_bad_toml(tmp_path):
    with pytest.raises(ProfileError, match="没有找到"):
        campaigns.load("nowhere-2020", folders=[tmp_path])
    _write(tmp_path, "bad", "id = \n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        campaigns.load("bad", folders=[tmp_path])


def test_limits_can_be_tightened_per_campaign(tmp_path):
    _write(tmp_path, "tight", 'extends = "chongqing-bayu-2017"\nid = "tight"\n[limits]\narchive_max_depth = 1\n')
    profile = campaigns.load("tight", folders=[tmp_path])
    assert profile.limits.archive_max_depth == 1
    assert profile.limits.archive_max_entries == campaigns.DEFAULT_LIMITS.archive_max_entries
