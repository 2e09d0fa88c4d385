"""One installation for a city and its districts: the city's mailbox and two districts' (real Dovecot
users), each with its campaign (a district's profile extends the city's), one database, one `intake
run`. Each mailbox is polled, logged and answered on its own; a district whose password is wrong
never stops the others; `status` and the staff tools show one campaign or each; a district's
forward to the city is filed straight into the city's intake, with no mail on the way."""

from __future__ import annotations

import email
import subprocess
import time
import urllib.request
from datetime import datetime
from email import policy
from pathlib import Path

from testing.builders.submission import SHANGHAI
from testing.dovecot import free_port
from testing.faults import Service
from testing.mailbox import PASSWORD
from testing.service import INTAKE, intake, nomination, records

CITY, SHAPINGBA, JIANGBEI = "chongqing-bayu-2017", "shapingba-bayu-2017", "jiangbei-bayu-2017"
IN_TIME = datetime(2017, 4, 18, 10, 0, tzinfo=SHANGHAI)  # before every deadline (the districts' are 4-20)
JIANGBEI_PROFILE = """
extends = "chongqing-bayu-2017"
id = "jiangbei-bayu-2017"
title = "2017年度“巴渝工匠”评选（江北区推荐）"
mailbox = "jbgh@example.cn"
opens = 2017-04-05T00:00:00+08:00
deadline = 2017-04-21T00:00:00+08:00
deadline_text = "2017年4月20日"
intake_number_prefix = "JB-BYGJ-2017-"
forwards_to = "chongqing-bayu-2017"

[office]
name = "江北区总工会宣教科"
contacts = ["李老师"]
phones = ["67700000"]
address = ""

[replies]
template_set = "zh"
sender_name = "江北区总工会宣教科"
max_per_address_per_day = 60
"""


def _mailbox_table(name: str, campaign: str, box, password_file: Path, from_addr: str) -> str:
    return f"""
[mailboxes.{name}]
campaign = "{campaign}"
[mailboxes.{name}.mailbox]
kind = "imap"
host = "{box.server.host}"
port = {box.server.port}
security = "plain"
username = "{box.user}"
password_file = "{password_file}"
timeout_seconds = 20
idle = false
[mailboxes.{name}.replies]
from_addr = "{from_addr}"
"""


def _installation(folder: Path, boxes: dict, smtp, jiangbei_secret: Path) -> Path:
    profiles = folder / "profiles"
    profiles.mkdir()
    (profiles / f"{JIANGBEI}.toml").write_text(JIANGBEI_PROFILE, encoding="utf-8")
    text = f"""
data_path = "{folder / 'data'}"
profile_path = ["{profiles}"]

[smtp]
kind = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "plain"
timeout_seconds = 5

[replies]
first_retry_seconds = 0.01

[schedule]
poll_seconds = 0.2
send_seconds = 0.2
first_retry_seconds = 0.01
"""
    text += _mailbox_table("city", CITY, boxes[CITY], boxes[CITY].password_file, "bygj@cqgh.org")
    text += _mailbox_table("shapingba", SHAPINGBA, boxes[SHAPINGBA], boxes[SHAPINGBA].password_file,
                           "704234263@qq.com")
    text += _mailbox_table("jiangbei", JIANGBEI, boxes[JIANGBEI], jiangbei_secret, "jbgh@example.cn")
    config = folder / "intake.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _by_campaign(config: Path) -> dict[str, list]:
    messages, nominees, _ = records(config)
    found: dict[str, list] = {}
    for row in nominees:
        found.setdefault(row.campaign_id, []).append((row.name, row.status, row.intake_number))
    assert {m.state for m in messages} == {"filed"}
    return found


def test_a_city_and_two_districts_in_one_installation(tmp_path, make_dovecot, smtp_server):
    server = make_dovecot()  # its own: the wrong password below makes Dovecot slow down that address
    boxes = {campaign: server.add_user(prefix) for campaign, prefix in
             ((CITY, "city"), (SHAPINGBA, "spb"), (JIANGBEI, "jb"))}
    boxes[CITY].append(nomination(0), internaldate=IN_TIME)
    boxes[SHAPINGBA].append(nomination(1), internaldate=IN_TIME)
    boxes[SHAPINGBA].append(nomination(2), internaldate=IN_TIME)
    boxes[JIANGBEI].append(nomination(3), internaldate=IN_TIME)
    secret = tmp_path / "jiangbei-password"
    secret.write_text("wrong\n")
    config = _installation(tmp_path, boxes, smtp_server, secret)

    service = Service(config, tmp_path / "service.err")
    service.database = tmp_path / "data" / "intake.sqlite3"
    process = service.start()
    try:
        service.wait_for(lambda: service.counts()[0] == 3 and f"[{JIANGBEI}] 收取邮件失败" in service.log(),
                         "the city's and Shapingba's mail to be filed, and Jiangbei's login to fail")
        said = service.log()
        assert "intake 服务已启动：3 个邮箱" in said
        assert f"[{JIANGBEI}] 收取邮件失败" in said and "用户名或密码不对" in said  # one district fails …
        assert _by_campaign(config) == {  # … the others go on, each under its own numbers
            CITY: [("张三", "accepted", "BYGJ-2017-0001")],
            SHAPINGBA: [("李四", "accepted", "SPB-BYGJ-2017-0001"), ("王五", "accepted", "SPB-BYGJ-2017-0002")]}
        status = intake(config, "status").stdout
        assert f"评选活动：{CITY}" in status and f"评选活动：{SHAPINGBA}" in status
        assert f"收取邮件失败（{JIANGBEI}" in status

        secret.write_text(PASSWORD + "\n")
        service.wait_for(lambda: service.counts()[0] == 4, "Jiangbei's mail once its password is right")
        service.wait_for(lambda: service.counts()[1] == 4, "every reply to be sent")
    finally:
        assert service.stop(process) == 0
    assert f"[{JIANGBEI}] 收取邮件已恢复正常" in service.log()
    assert _by_campaign(config)[JIANGBEI] == [("赵六", "accepted", "JB-BYGJ-2017-0001")]

    # each mailbox answered from its own address
    senders = {email.message_from_bytes(r.content, policy=policy.default)["In-Reply-To"]: r.mail_from
               for r in smtp_server.messages}
    assert senders == {"<n0@unit.example.cn>": "bygj@cqgh.org", "<n1@unit.example.cn>": "704234263@qq.com",
                       "<n2@unit.example.cn>": "704234263@qq.com", "<n3@unit.example.cn>": "jbgh@example.cn"}
    # one campaign when asked for one
    one = intake(config, "status", "--campaign", SHAPINGBA).stdout
    assert f"评选活动：{SHAPINGBA}" in one and CITY not in one.split("\n")[0] and "已登记 2" in one
    assert "受理 1" in intake(config, "status", "--campaign", JIANGBEI).stdout
    shown = intake(config, "review", "show", "王五", "--campaign", SHAPINGBA).stdout
    assert "王五" in shown
    refused = intake(config, "review", "list", check=False)
    assert refused.returncode == 1 and "服务多个评选活动" in refused.stderr and "--campaign" in refused.stderr

    # Shapingba forwards to the city, which this installation serves: filed there, no mail on the way
    before = len(smtp_server.messages)
    done = intake(config, "forward", "--campaign", SHAPINGBA, clock="2017-04-25T09:00:00+08:00").stdout
    assert "报送 2 人，1 封邮件" in done and f"{CITY} 由本机服务：已直接登记为其来件 M5（不经邮件" in done
    city = _by_campaign(config)[CITY]
    assert sorted(city) == [("张三", "accepted", "BYGJ-2017-0001"), ("李四", "accepted", "BYGJ-2017-0002"),
                            ("王五", "accepted", "BYGJ-2017-0003")]
    messages, _, _ = records(config)
    forwarded = messages[-1]
    assert forwarded.campaign_id == CITY and forwarded.account == f"installation:{SHAPINGBA}"
    assert forwarded.from_addr == "704234263@qq.com"
    new_mail = [email.message_from_bytes(r.content, policy=policy.default) for r in smtp_server.messages[before:]]
    assert not any("推荐材料" in str(m["Subject"]) and "报送" in str(m["Subject"]) for m in new_mail)  # no forward by SMTP
    again = intake(config, "forward", "--campaign", SHAPINGBA, clock="2017-04-25T10:00:00+08:00").stdout
    assert "没有新受理、尚未报送的推荐人选" in again  # filed once
    assert "报送上级（chongqing-bayu-2017）：邮件 已发送 1" in intake(config, "status", "--campaign", SHAPINGBA).stdout


def _console_title(config: Path, campaign: str, port: int) -> str:
    """The title of `intake web --campaign`'s login page, the server stopped after."""
    server = subprocess.Popen([*INTAKE, "web", "--config", str(config), "--campaign", campaign],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read().decode()
                return page[page.index("<title>") + 7:page.index("</title>")]
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read().decode()
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _two_consoles(tmp_path: Path, city_port: int, district_port: int | None, with_service: bool = False) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    district_web = f"[mailboxes.shapingba.web]\nport = {district_port}\n" if district_port else ""
    config = tmp_path / "intake.toml"
    config.write_text(f"""
data_path = "{tmp_path / 'data'}"
[smtp]
kind = "folder"
outbox_path = "{tmp_path / 'outbox'}"
[web]
port = {city_port}
secure_cookies = false
with_service = {str(with_service).lower()}
[mailboxes.city]
campaign = "{CITY}"
[mailboxes.city.mailbox]
kind = "maildir"
path = "{tmp_path / 'city'}"
[mailboxes.shapingba]
campaign = "{SHAPINGBA}"
[mailboxes.shapingba.mailbox]
kind = "maildir"
path = "{tmp_path / 'spb'}"
{district_web}""", encoding="utf-8")
    return config


def test_each_campaign_has_its_console_and_the_accounts_are_the_installations(tmp_path):
    """A district served by the city's installation gets a console of its own records, on the port
    of its mailbox's [web]; accounts are the one database's, so no --campaign is asked for them."""
    city_port, district_port = free_port(), free_port()
    config = _two_consoles(tmp_path, city_port, district_port)
    secret = "office password 2017"
    added = intake(config, "users", "add", "ada", "--role", "admin", answers=f"{secret}\n{secret}\n")
    assert "已添加用户 ada" in added.stdout
    assert "ada" in intake(config, "users", "list").stdout
    assert "沙坪坝区推荐" in _console_title(config, SHAPINGBA, district_port)
    assert "沙坪坝" not in _console_title(config, CITY, city_port)


def test_the_service_runs_each_campaigns_console_on_its_own_port_and_says_when_two_share_one(tmp_path, caplog):
    from cli.service import _companions
    from service.runtime import open_installation

    apart = open_installation(_two_consoles(tmp_path / "apart", free_port(), free_port(), with_service=True))
    assert len(_companions(apart)) == 2
    shared = open_installation(_two_consoles(tmp_path / "shared", free_port(), None, with_service=True))
    assert len(_companions(shared)) == 1
    assert f"评选活动 {SHAPINGBA} 的工作台与 {CITY} 用了同一端口" in caplog.text
