"""`intake run` as a real process, as systemd or a terminal runs it: its log lines on stderr in Beijing
time with the zone, what it serves said at start, a wrong password said plainly, kept in `status`
and `doctor` while it keeps trying, and the recovery once the password file is fixed; a second
SIGTERM/SIGINT ends it at once without a traceback and loses nothing; a config it cannot use
stops it with a message and a non-zero exit."""

from __future__ import annotations

import re
import signal
import subprocess
import time

from testing.faults import Service, brisk_config
from testing.mailbox import PASSWORD
from testing.service import ARRIVED, INTAKE, intake, nomination, records

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00 (DEBUG|INFO|WARNING|ERROR) ")


def test_log_lines_on_stderr_in_beijing_time_with_zone_campaign_and_numbers(tmp_path, mailbox, smtp_server,
                                                                              monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # the server's zone is not Beijing: the lines still are
    mailbox.append(nomination(0, subject="推荐张三 联系电话13812345678"), internaldate=ARRIVED)
    config = brisk_config(tmp_path, mailbox, smtp_server)
    service = Service(config, tmp_path / "service.err")
    process = service.start()
    try:
        service.wait_for(lambda: "已登记邮件 M1" in service.log(), "the mail to be filed and logged")
    finally:
        assert service.stop(process) == 0
    lines = service.log().splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    started = next(line for line in lines if "intake 服务已启动" in line)
    assert "1 个邮箱" in started and f"数据目录 {tmp_path / 'data'}" in started
    assert any(f"[chongqing-bayu-2017] 服务 chongqing-bayu-2017（2017年度“巴渝工匠”评选）：收件 IMAP {mailbox.user}@"
               f"127.0.0.1:{mailbox.server.port} INBOX；回复经 SMTP" in line for line in lines)
    filed = next(line for line in lines if "已登记邮件 M1" in line)
    assert " INFO [chongqing-bayu-2017] 已登记邮件 M1（unit0@example.cn，推荐张三 联系电话138****5678）：受理，" \
           "被推荐人 #1 BYGJ-2017-0001" in filed
    assert "13812345678" not in service.log()
    assert not (tmp_path / "data" / "logs" / "intake.log").exists()  # a file only where [log] file asks


def test_a_wrong_password_is_said_kept_in_status_and_doctor_and_the_service_recovers(tmp_path, make_dovecot,
                                                                                     smtp_server):
    # a server of its own: Dovecot slows every login from an address that keeps failing (up to 15 s)
    mailbox = make_dovecot().add_user()
    mailbox.append(nomination(0), internaldate=ARRIVED)
    secret = tmp_path / "imap-password"
    secret.write_text("wrong-code\n")
    config = brisk_config(tmp_path, mailbox, smtp_server)
    text = config.read_text(encoding="utf-8").replace(str(mailbox.password_file), str(secret))
    config.write_text(text.replace("timeout_seconds = 5\nidle", "timeout_seconds = 30\nidle"), encoding="utf-8")
    service = Service(config, tmp_path / "service.err")
    process = service.start()
    try:
        service.wait_for(lambda: service.log().count("收取邮件失败") >= 3, "the poll to fail a few times")
        failure = next(line for line in service.log().splitlines() if "收取邮件失败" in line)
        assert " ERROR [chongqing-bayu-2017] 收取邮件失败" in failure
        assert f"拒绝了 {mailbox.user} 的登录：用户名或密码不对" in failure and f"密码文件 {secret}" in failure
        rounds = [int(n) for n in re.findall(r"收取邮件失败，\d+ 秒后重试（第 (\d+) 次）", service.log())]
        assert rounds[:3] == [1, 2, 3]  # counted failures: the pause grows with them (tests/test_scheduler.py)
        assert process.poll() is None  # it keeps going

        status = intake(config, "status").stdout
        assert "收取邮件失败（chongqing-bayu-2017，自 " in status and "用户名或密码不对" in status
        assert "上次收取中断：" in status
        doctor = intake(config, "doctor", check=False).stdout
        assert "✗ 收件邮箱：" in doctor and "✗ 运行中的服务：收取邮件失败" in doctor

        secret.write_text(PASSWORD + "\n")  # the IT person puts the right code in
        service.wait_for(lambda: service.counts()[0] == 1, "the mail to be filed once the password is right")
        service.wait_for(lambda: "收取邮件已恢复正常" in service.log(), "the recovery to be said")
        assert process.poll() is None
        status = intake(config, "status").stdout
        assert "收取邮件失败" not in status and "上次收取中断" not in status
    finally:
        assert service.stop(process) == 0
    assert "Traceback" not in service.log()


def test_a_second_stop_signal_ends_it_at_once_and_loses_nothing(tmp_path, mailbox, smtp_server):
    mailbox.append(nomination(0), internaldate=ARRIVED)
    config = brisk_config(tmp_path, mailbox, smtp_server)
    service = Service(config, tmp_path / "service.err")
    process = service.start(failpoint="after_ledger:1:pause")  # a message in hand for two minutes

    def in_hand() -> bool:
        try:
            return len(records(config)[0]) == 1
        except Exception:  # noqa: BLE001 - not made yet
            return False

    service.wait_for(in_hand, "the message to be in hand")
    process.send_signal(signal.SIGTERM)
    service.wait_for(lambda: "收到停止信号：处理完当前邮件后停止" in service.log(), "the first signal to be heard")
    time.sleep(1)
    assert process.poll() is None  # the first stop waits for the message in hand
    asked = time.monotonic()
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=30)
    assert time.monotonic() - asked < 5
    assert code == 128 + signal.SIGINT
    assert "再次收到停止信号：立即退出" in service.log()
    assert "Traceback" not in service.log() and "SchedulerNotRunning" not in service.log()

    intake(config, "poll", "--once")  # the next start does what was in hand, once
    messages, nominees, replies = records(config)
    assert [m.state for m in messages] == ["filed"] and len(nominees) == 1 and len(smtp_server.messages) == 1


def test_a_config_that_cannot_work_stops_it_with_a_message(tmp_path):
    config = tmp_path / "intake.toml"
    config.write_text(f'data_path = "{tmp_path / "data"}"\n[mailbox]\npath = "{tmp_path}"\n', encoding="utf-8")
    done = subprocess.run([*INTAKE, "run", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "ERROR 无法启动：" in done.stderr and "没有写评选活动：请写 campaign = " in done.stderr
    config.write_text('campaign = "chongqing-bayu-2017"\n[mailbox\n', encoding="utf-8")
    done = subprocess.run([*INTAKE, "run", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "不是有效的 TOML" in done.stderr
    done = subprocess.run([*INTAKE, "run", "--config", str(tmp_path / "nowhere.toml")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "找不到配置文件" in done.stderr
