"""The config of an installation: several mailboxes laid over shared settings, the database as hosting
panels write it with its password kept out of the file, and the mistakes an IT person makes said in
Chinese with the key meant."""

from __future__ import annotations

import pytest

from core.settings import ConfigError
from service.config import load_config
from service.mailboxes import served

CITY = """
data_path = "data"
[smtp]
kind = "smtp"
host = "smtp.qq.com"
username = "bygj@qq.com"
password_env = "SMTP_CODE"
[replies]
from_addr = "bygj@qq.com"
max_per_day = 500
[mailboxes.city]
campaign = "chongqing-bayu-2017"
[mailboxes.city.mailbox]
kind = "imap"
host = "imap.qq.com"
username = "bygj@qq.com"
password_file = "secrets/city"
[mailboxes.shapingba]
campaign = "shapingba-bayu-2017"
[mailboxes.shapingba.mailbox]
kind = "imap"
host = "imap.qq.com"
username = "704234263@qq.com"
password_file = "secrets/spb"
[mailboxes.shapingba.smtp]
username = "704234263@qq.com"
password_file = "secrets/spb"
[mailboxes.shapingba.replies]
from_addr = "704234263@qq.com"
"""


def _write(tmp_path, text: str):
    path = tmp_path / "intake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_mailbox_is_a_whole_config_with_its_tables_laid_over_the_shared_ones(tmp_path):
    city, district = served(_write(tmp_path, CITY))
    assert (city.name, city.campaign, district.name, district.campaign) == (
        "city", "chongqing-bayu-2017", "shapingba", "shapingba-bayu-2017")
    assert city.config.smtp.username == "bygj@qq.com" and district.config.smtp.username == "704234263@qq.com"
    assert district.config.smtp.host == "smtp.qq.com" and district.config.smtp.password_env == "SMTP_CODE"
    assert district.config.replies.from_addr == "704234263@qq.com" and district.config.replies.max_per_day == 500
    assert district.config.mailbox.password_file == tmp_path / "secrets" / "spb"  # from the config's folder
    assert city.config.data_path == district.config.data_path == tmp_path / "data"
    assert city.config.database == district.config.database  # one database


def test_the_single_mailbox_form_is_one_mailbox(tmp_path):
    [only] = served(_write(tmp_path, 'campaign = "chongqing-bayu-2017"\n[mailbox]\npath = "mail"\n'))
    assert only.name == "" and only.config.mailbox.path == tmp_path / "mail"


@pytest.mark.parametrize("text, said", [
    ("", "没有写评选活动：请写 campaign = "),
    ('campaign = "chongqing-bayu-2017"\n' + CITY, "已有 [mailboxes.*] 时，顶层的 campaign 和 [mailbox] 不再使用"),
    (CITY.replace('campaign = "shapingba-bayu-2017"', 'campaign = "chongqing-bayu-2017"'),
     "评选活动 chongqing-bayu-2017 出现在多个邮箱中"),
    (CITY.replace("[mailboxes.shapingba.replies]", "[mailboxes.shapingba.replys]"),
     "`mailboxes.shapingba.replys` 不是可用的设置项，您是不是想写 `mailboxes.shapingba.replies`？"),
    (CITY.replace('[mailboxes.shapingba.smtp]\nusername', '[mailboxes.shapingba.smtp]\nusernam'),
     "`smtp.usernam` 不是可用的设置项，您是不是想写 `smtp.username`？"),
    ('campaign = "x"\n[log]\nlevel = "LOUD"\n', "`log.level` 只能是 'DEBUG', 'INFO', 'WARNING' or 'ERROR'，现在是 'LOUD'"),
    ('campaign = "x"\n[schedule]\npoll_seconds = "often"\n', "`schedule.poll_seconds` 应为数字，现在是 'often'"),
])
def test_mistakes_are_said_in_chinese_with_the_key(tmp_path, text, said):
    with pytest.raises(ConfigError) as raised:
        served(_write(tmp_path, text))
    assert said in str(raised.value)


@pytest.mark.parametrize("written", ["postgres://intake@db:5432/intake", "postgresql://intake@db:5432/intake",
                                     "postgresql+psycopg://intake@db:5432/intake"])
def test_the_database_url_as_hosting_panels_write_it(tmp_path, written):
    config = load_config(_write(tmp_path, f'campaign = "x"\ndatabase_url = "{written}"\n'))
    assert config.database == "postgresql+psycopg://intake@db:5432/intake"


def test_the_database_password_comes_from_a_file_or_the_environment(tmp_path, monkeypatch):
    (tmp_path / "db-password").write_text("p@ss/word:1\n")
    config = load_config(_write(tmp_path, 'campaign = "x"\ndatabase_url = "postgres://intake@db/intake"\n'
                                          'database_password_file = "db-password"\n'))
    assert config.database == "postgresql+psycopg://intake:p%40ss%2Fword%3A1@db/intake"
    from service.dburl import shown_url

    assert "p%40ss" not in shown_url(config.database) and "***" in shown_url(config.database)
    monkeypatch.setenv("INTAKE_DB_PASSWORD", "from-env")
    config = load_config(_write(tmp_path, 'campaign = "x"\ndatabase_url = "postgres://intake@db/intake"\n'
                                          'database_password_env = "INTAKE_DB_PASSWORD"\n'))
    assert config.database == "postgresql+psycopg://intake:from-env@db/intake"
    config = load_config(_write(tmp_path, 'campaign = "x"\ndatabase_url = "postgres://intake@db/intake"\n'
                                          'database_password_file = "nowhere"\n'))
    with pytest.raises(ConfigError, match="数据库密码：读不到密码文件"):
        config.database  # noqa: B018 - the property is what reads the file
