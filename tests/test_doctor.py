"""`intake doctor` as the office's IT person reads it: in Chinese, each case named with the key to
change (a typo'd key with the key meant, an unknown campaign with the known ones, a host that does
not exist, a port where nothing listens, TLS spoken to a plain port and plain to a TLS port, a
login refused), against a real Dovecot and real sockets; and it creates nothing."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from testing.dovecot import free_port
from testing.service import intake, write_config


def _imap(config: Path, **keys) -> None:
    """Change keys of [mailbox] in place."""
    lines = config.read_text(encoding="utf-8").splitlines()
    section = None
    for number, line in enumerate(lines):
        if line.startswith("["):
            section = line
        key = line.split("=", 1)[0].strip()
        if section == "[mailbox]" and key in keys:
            lines[number] = f"{key} = {keys.pop(key)!r}" if not isinstance(keys.get(key), int) else \
                f"{key} = {keys.pop(key)}"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _doctor(config: Path) -> str:
    result = intake(config, "doctor", check=False)
    assert "Traceback" not in result.stderr
    return result.stdout + result.stderr


def _line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if f" {name}：" in line)


def test_a_typo_in_a_key_is_named_with_the_key_meant(tmp_path, mailbox, smtp_server):
    config = write_config(tmp_path, mailbox, smtp_server)
    text = config.read_text(encoding="utf-8").replace("security = \"plain\"\nusername", "securty = \"plain\"\nusername", 1)
    config.write_text(text.replace("[schedule]", "[schedul]"), encoding="utf-8")
    said = _doctor(config)
    assert "`mailbox.securty` 不是可用的设置项，您是不是想写 `mailbox.security`？" in said
    assert "`schedul` 不是可用的设置项，您是不是想写 `schedule`？" in said
    assert "Extra inputs" not in said
    assert intake(config, "doctor", check=False).returncode == 1


def test_an_unknown_campaign_lists_the_known_ones(tmp_path, mailbox, smtp_server):
    config = write_config(tmp_path, mailbox, smtp_server)
    config.write_text(config.read_text(encoding="utf-8").replace("chongqing-bayu-2017", "chongqing-bayu-2071"),
                      encoding="utf-8")
    line = _line(_doctor(config), "评选活动")
    assert line.startswith("✗") and "您是不是想写 chongqing-bayu-2017？" in line
    assert "shapingba-bayu-2017" in line and "wuhan-dacheng-2018" in line


def test_a_host_that_does_not_exist(tmp_path, mailbox, smtp_server):
    config = write_config(tmp_path, mailbox, smtp_server)
    _imap(config, host="imap.qq.cmo", security="ssl", port=993)
    line = _line(_doctor(config), "收件邮箱")
    assert line == "✗ 收件邮箱：找不到服务器 imap.qq.cmo（mailbox.host），您是不是想写 imap.qq.com？"


def test_a_port_where_nothing_listens(tmp_path, mailbox, smtp_server):
    config = write_config(tmp_path, mailbox, smtp_server)
    port = free_port()
    _imap(config, port=port)
    line = _line(_doctor(config), "收件邮箱")
    assert (f"127.0.0.1:{port} 拒绝连接：这个端口上没有 IMAP 服务。"
            "请检查 mailbox.port（IMAP：993 为 SSL，143 为 STARTTLS）") in line


def test_tls_spoken_to_a_plain_port(tmp_path, mailbox, smtp_server):
    config = write_config(tmp_path, mailbox, smtp_server)
    _imap(config, security="ssl")  # the test Dovecot's port speaks plain IMAP
    line = _line(_doctor(config), "收件邮箱")
    assert f"用 SSL 连接 127.0.0.1:{mailbox.server.port}，对方却没有说 SSL" in line
    assert "是不加密的端口。请把 mailbox.port 改为 993，或把 mailbox.security 改为 \"starttls\"" in line
    assert "WRONG_VERSION_NUMBER" in line  # what OpenSSL said, for whoever searches it


def test_plain_spoken_to_a_tls_port(tmp_path, dovecot_tls, smtp_server):
    box = dovecot_tls.add_user()
    config = write_config(tmp_path, box, smtp_server)
    _imap(config, port=dovecot_tls.imaps_port, timeout_seconds=2)
    line = _line(_doctor(config), "收件邮箱")
    assert (f"127.0.0.1:{dovecot_tls.imaps_port} 没有应答（等了 2 秒）：这是 SSL 端口，而 mailbox.security = \"plain\"。"
            "请把 mailbox.security 改为 \"ssl\"") in line


def test_smtp_spoken_in_plain_to_its_tls_port(tmp_path, mailbox, implicit_tls_server):
    config = write_config(tmp_path, mailbox, implicit_tls_server)
    config.write_text(config.read_text(encoding="utf-8").replace("timeout_seconds = 5\n\n[replies]",
                                                                 "timeout_seconds = 2\n\n[replies]"), encoding="utf-8")
    line = _line(_doctor(config), "回复发送")
    assert f"{implicit_tls_server.port} 没有应答（等了 2 秒）：这是 SSL 端口，而 smtp.security = \"plain\"" in line


def test_a_wrong_password_names_the_authorisation_code_and_the_file(tmp_path, mailbox, smtp_server):
    config = write_config(tmp_path, mailbox, smtp_server)
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password")
    _imap(config, password_file=str(wrong))
    line = _line(_doctor(config), "收件邮箱")
    assert f"拒绝了 {mailbox.user} 的登录：用户名或密码不对" in line
    assert "授权码" in line and f"密码文件 {wrong}" in line
    missing = tmp_path / "not-there"
    _imap(config, password_file=str(missing))
    line = _line(_doctor(config), "收件邮箱")
    assert f"读不到密码文件 {missing}" in line


def test_doctor_creates_nothing(tmp_path, mailbox, smtp_server):
    config = write_config(tmp_path, mailbox, smtp_server)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(system_tmp)}
    import subprocess

    from testing.service import INTAKE

    done = subprocess.run([*INTAKE, "doctor", "--config", str(config)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert "✓ 数据库" in done.stdout and "尚未建立，首次运行时创建" in done.stdout
    assert sorted(str(p) for p in tmp_path.rglob("*")) == sorted([*before, str(system_tmp)])  # no database, no data folder


def test_what_the_running_service_recorded_is_shown(tmp_path, mailbox, smtp_server):
    from datetime import datetime, timezone

    from storage.db import open_database
    from storage.db import session as new_session
    from storage.models import JobStateRow
    from testing.service import database_of

    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    engine = open_database(database_of(config))
    with new_session(engine) as session:
        session.add(JobStateRow(job="send:chongqing-bayu-2017", campaign_id="chongqing-bayu-2017",
                                failing_since=datetime(2017, 4, 20, 2, 0, tzinfo=timezone.utc),
                                last_error="smtp.qq.com 拒绝了 bygj@qq.com 的登录：用户名或密码不对。"))
        session.commit()
    engine.dispose()
    said = _doctor(config)
    assert "✗ 运行中的服务：发送回复失败（chongqing-bayu-2017，自 2017-04-20 10:00:00）：smtp.qq.com 拒绝了" in said


def test_speaks_tls_tells_a_tls_port_from_a_plain_one(dovecot_tls):
    from service.diagnose import speaks_tls

    assert speaks_tls("127.0.0.1", dovecot_tls.imaps_port)
    assert not speaks_tls("127.0.0.1", dovecot_tls.port)  # STARTTLS: plain first
    with socket.socket() as idle:
        idle.bind(("127.0.0.1", 0))
        assert not speaks_tls("127.0.0.1", idle.getsockname()[1], seconds=1)


def test_a_missing_database_password_file_is_a_line_of_the_report_not_a_traceback(tmp_path, mailbox, smtp_server):
    from testing.service import intake

    config = write_config(tmp_path, mailbox, smtp_server)
    text = re.sub(r'(?m)^database_url = .*$', f'database_url = "postgresql+psycopg://intake@127.0.0.1:5432/intake"\n'
                  f'database_password_file = "{tmp_path / "db-password"}"', config.read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")
    done = intake(config, "doctor", check=False)
    assert "Traceback" not in done.stderr and "✗ 数据库" in done.stdout, done.stdout + done.stderr
