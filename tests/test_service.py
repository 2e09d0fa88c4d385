"""The service against a real Dovecot and a real SMTP server: mail in, records and replies out.

Crash safety is tested by killing a real `intake poll --once` process with SIGKILL between
each pair of steps (failpoints), then running it again: no message lost, none filed twice,
every due reply sent (a reply whose sending was cut off between the server's 250 and our
bookkeeping is sent again: the count of such duplicates is asserted exactly).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import func, select

from storage.db import make_engine, open_database
from storage.db import session as new_session
from storage.models import MessageRow
from testing.builders import forms
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.service import ARRIVED, database_of, intake, nomination, person, records, reply_texts, write_config
from testing.smtp_server import SmtpServer


def test_mail_appended_over_imap_ends_as_records_moved_mail_and_replies(tmp_path, mailbox, smtp_server):
    mailbox.append(nomination(0), internaldate=ARRIVED)
    mailbox.append(nomination(1, received=datetime(2017, 4, 29, tzinfo=SHANGHAI)),
                   internaldate=datetime(2017, 5, 1, 0, 0, 30, tzinfo=SHANGHAI))  # late by the server's clock
    mailbox.append(nomination_mail([], subject="请问截止时间？", message_id="<q@x.cn>"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)

    output = intake(config, "poll", "--once").stdout
    assert "登记 3 封" in output and "回复已发送 2 封" in output

    messages, nominees, replies = records(config)
    assert [m.status for m in messages] == ["accepted", "rejected", "ignored"]
    assert [m.received_at_source for m in messages] == ["imap"] * 3
    assert [(n.name, n.intake_number) for n in nominees] == [("张三", "BYGJ-2017-0001"), ("李四", None)]
    assert {r.state for r in replies} == {"sent"}
    # filed mail leaves the inbox for the processed folder; nothing is deleted
    assert mailbox.messages("INBOX") == {}
    assert len(mailbox.messages("已处理")) == 3
    texts = reply_texts(smtp_server)
    assert set(texts) == {"<n0@unit.example.cn>", "<n1@unit.example.cn>"}
    assert "BYGJ-2017-0001" in texts["<n0@unit.example.cn>"]
    assert "2017年4月30日24:00" in texts["<n1@unit.example.cn>"]

    # a second poll finds nothing new and sends nothing again
    assert "收取 0 封" in intake(config, "poll", "--once").stdout
    assert len(smtp_server.messages) == 2
    status = intake(config, "status").stdout
    assert "邮件：已登记 3" in status and "受理 1" in status and "回复：已发送 2" in status


def test_a_rejected_nominee_resent_supersedes_and_keeps_nothing_twice(tmp_path, mailbox, smtp_server):
    too_long = [("推荐表.docx", forms.bayu_form_docx(person(0))), ("事迹材料.docx", forms.writeup_docx(1800))]
    too_long += [(f"照片{i}.jpg", photo_jpeg(i, size=(96, 72))) for i in range(4)]
    mailbox.append(nomination_mail(too_long, message_id="<first@x.cn>"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    mailbox.append(nomination(0), internaldate=ARRIVED)
    intake(config, "poll", "--once")
    _, nominees, _ = records(config)
    assert [(n.status, n.superseded_by is not None, n.intake_number) for n in nominees] == [
        ("rejected", True, None), ("accepted", False, "BYGJ-2017-0001")]


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["after_ledger", "after_filing", "after_set_aside", "after_send"])
def test_killed_between_steps_loses_nothing_and_files_nothing_twice(tmp_path, mailbox, smtp_server, point):
    for n in range(3):
        mailbox.append(nomination(n), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)

    crashed = intake(config, "poll", "--once", failpoint=f"{point}:2", check=False)
    assert crashed.returncode == -signal.SIGKILL
    intake(config, "poll", "--once")

    messages, nominees, replies = records(config)
    assert len(messages) == 3 and {m.state for m in messages} == {"filed"}
    assert sorted(n.name for n in nominees) == ["张三", "李四", "王五"]
    assert len({n.intake_number for n in nominees}) == 3
    assert [r.state for r in replies] == ["sent"] * 3
    assert mailbox.messages("INBOX") == {} and len(mailbox.messages("已处理")) == 3
    # only a kill after the server took a reply and before we noted it sends that one twice
    duplicates = len(smtp_server.messages) - 3
    assert duplicates == (1 if point == "after_send" else 0)


def test_smtp_4xx_is_retried_and_5xx_fails_without_losing_the_record(tmp_path, mailbox):
    mailbox.append(nomination(0), internaldate=ARRIVED)
    mailbox.append(nomination(1), internaldate=ARRIVED)
    script = {"RCPT": ["451 4.3.0 try again later", "550 5.1.1 no such user"]}
    with SmtpServer(script=script) as smtp:
        config = write_config(tmp_path, mailbox, smtp)
        output = intake(config, "poll", "--once").stdout
        assert "待重试 1 封，失败 1 封" in output
        _, _, replies = records(config)
        assert [r.state for r in replies] == ["pending", "failed"]
        assert "451" in replies[0].last_error and "550" in replies[1].last_error
        intake(config, "poll", "--once")  # the retry is due at once (first_retry_seconds = 0.01)
        _, _, replies = records(config)
        assert [r.state for r in replies] == ["sent", "failed"]
        assert len(smtp.messages) == 1


def test_smtp_down_keeps_replies_pending(tmp_path, mailbox):
    from testing.smtp_server import unused_port

    mailbox.append(nomination(0), internaldate=ARRIVED)
    nobody_listens = SimpleNamespace(host="127.0.0.1", port=unused_port())
    config = write_config(tmp_path, mailbox, nobody_listens)
    intake(config, "poll", "--once")
    messages, _, replies = records(config)
    assert messages[0].state == "filed" and replies[0].state == "pending" and replies[0].attempts == 1


def test_a_message_that_keeps_failing_is_quarantined_then_reprocessed(tmp_path, mailbox, smtp_server):
    mailbox.append(nomination(0), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    for _ in range(5):  # schedule.max_attempts
        intake(config, "poll", "--once", failpoint="fail_judging")
    messages, _, _ = records(config)
    assert messages[0].state == "quarantined" and messages[0].attempts == 5
    assert "failure injected" in messages[0].last_error
    assert mailbox.messages("INBOX") != {}  # left where staff see it
    assert "问题邮件 M1（已隔离，已试5次）" in intake(config, "status").stdout

    shown = intake(config, "reprocess", "1").stdout
    assert "— → 受理" in shown
    assert records(config)[0][0].state == "quarantined"  # nothing changes until told
    intake(config, "reprocess", "1", "--apply")
    messages, nominees, replies = records(config)
    assert messages[0].state == "filed" and nominees[0].intake_number == "BYGJ-2017-0001"
    assert replies[0].state == "held"  # nothing is sent until staff say so
    assert smtp_server.messages == []


def test_dovecot_restart_between_polls_is_survived(tmp_path, make_dovecot, smtp_server):
    server = make_dovecot()
    box = server.add_user()
    box.append(nomination(0), internaldate=ARRIVED)
    config = write_config(tmp_path, box, smtp_server)
    intake(config, "poll", "--once")
    server.stop()
    down = intake(config, "poll", "--once", check=False)
    assert down.returncode != 0 and "Traceback" not in down.stderr
    server.start()
    box.append(nomination(1), internaldate=ARRIVED)
    intake(config, "poll", "--once")
    messages, _, _ = records(config)
    assert [m.state for m in messages] == ["filed", "filed"]


# --- reply policy --------------------------------------------------------------------------


def test_forged_sender_reply_is_held(tmp_path, mailbox, smtp_server):
    forged = nomination(0, headers={"Authentication-Results": "mx.cqgh.org; spf=fail smtp.mailfrom=example.cn"})
    mailbox.append(forged, internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    _, _, replies = records(config)
    assert [(r.state, r.held_reason) for r in replies] == [("held", "authentication_failed")]
    assert smtp_server.messages == []


def test_postgresql_is_a_drop_in_database(tmp_path, mailbox, smtp_server, postgres_url):
    engine = open_database(postgres_url)
    from sqlmodel import SQLModel

    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    mailbox.append(nomination(0), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server, database_url=postgres_url)
    intake(config, "poll", "--once")
    messages, nominees, replies = records(config)
    assert [(m.status, n.intake_number, r.state) for m, n, r in zip(messages, nominees, replies)] == [
        ("accepted", "BYGJ-2017-0001", "sent")]


def test_the_log_shows_each_message(tmp_path, mailbox, smtp_server):
    mailbox.append(nomination(0), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    log = intake(config, "log", "--date", "2017-04-20").stdout
    assert "# 收件日志 2017-04-20" in log and "张三" in log and "BYGJ-2017-0001" in log
    assert "邮件 1 封：受理 1" in log
    with new_session(open_database(database_of(config))) as session:
        assert session.exec(select(func.count()).select_from(MessageRow)).one() == 1


def test_the_service_killed_at_random_moments_files_everything_exactly_once(tmp_path, mailbox, smtp_server):
    """`intake run` under SIGKILL at random moments, restarted each time, then left to finish."""
    import random
    import time

    count = 12
    for n in range(count):
        mailbox.append(nomination(n), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    text = config.read_text(encoding="utf-8").replace("[schedule]", "[schedule]\npoll_seconds = 0.2\nsend_seconds = 0.2")
    config.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_FAILPOINT"}
    rng = random.Random(20171)
    for _ in range(6):
        process = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(rng.uniform(0.8, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
    intake(config, "poll", "--once")

    messages, nominees, replies = records(config)
    assert len(messages) == count and {m.state for m in messages} == {"filed"}
    assert len(nominees) == count and len({n.intake_number for n in nominees}) == count
    assert [r.state for r in replies] == ["sent"] * count
    assert mailbox.messages("INBOX") == {}
    delivered = [r.rcpt_tos for r in smtp_server.messages]
    duplicates = len(delivered) - len(set(map(tuple, delivered)))
    print(f"\nrandom kills: {count} messages, {len(delivered)} replies delivered, {duplicates} duplicates")
    assert duplicates <= 6  # at most one per kill, and only a kill between 250 and our note


def test_sigterm_finishes_the_message_in_hand_and_stops(tmp_path, mailbox, smtp_server):
    import time

    for n in range(3):
        mailbox.append(nomination(n), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    process = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(m.state == "filed" for m in _messages_or_none(config)):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    messages = _messages_or_none(config)
    assert messages and {m.state for m in messages} <= {"filed"}  # none left half-done


def _polled(config: Path) -> bool:
    try:
        engine = make_engine(database_of(config))
        with new_session(engine) as session:
            from storage.models import MailboxState

            return session.exec(select(MailboxState)).first() is not None
    except Exception:  # noqa: BLE001 - the database may not exist yet
        return False


def _messages_or_none(config: Path):
    try:
        return records(config)[0]
    except Exception:  # noqa: BLE001 - the database may not exist yet
        return []


def test_daily_cap_holds_replies_past_the_limit(tmp_path, mailbox, smtp_server):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "capped-2017.toml").write_text(
        'extends = "chongqing-bayu-2017"\nid = "capped-2017"\n'
        '[replies]\ntemplate_set = "zh"\nsender_name = "办公室"\nmax_per_address_per_day = 2\n', encoding="utf-8")
    for n in range(3):
        mail = nomination(n).replace(f"unit{n}@example.cn".encode(), b"district@example.cn")
        mailbox.append(mail, internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    text = config.read_text(encoding="utf-8").replace('campaign = "chongqing-bayu-2017"',
                                                        f'campaign = "capped-2017"\nprofile_path = ["{profiles}"]')
    config.write_text(text, encoding="utf-8")
    intake(config, "poll", "--once")
    _, _, replies = records(config)
    assert [(r.state, r.held_reason) for r in replies] == [("sent", None), ("sent", None), ("held", "daily_cap")]


def test_raw_mail_is_kept_for_the_service_user_only_and_purged_after_the_campaign(tmp_path, mailbox, smtp_server):
    mailbox.append(nomination(0), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    data = tmp_path / "data"
    blobs = [p for p in (data / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    assert data.stat().st_mode & 0o777 == 0o700 and blobs[0].stat().st_mode & 0o777 == 0o600
    assert "确认请加 --yes" in intake(config, "purge", "--campaign", "chongqing-bayu-2017").stdout
    assert blobs[0].exists()
    intake(config, "review", "show", "1")  # writes the nominee's files out for staff
    intake(config, "export", "--campaign", "chongqing-bayu-2017")  # the list with ID numbers in full
    staff_copies = [*(data / "review").iterdir(), *(data / "exports").iterdir()]
    assert len(staff_copies) >= 2
    said = intake(config, "purge", "--campaign", "chongqing-bayu-2017", "--yes").stdout
    assert "已删除 chongqing-bayu-2017 的原始邮件 1 份" in said
    assert not blobs[0].exists()
    assert [p for p in staff_copies if p.exists()] == []
    messages, nominees, _ = records(config)
    assert messages[0].status == "accepted" and nominees[0].intake_number == "BYGJ-2017-0001"  # records stay


def test_personal_numbers_never_reach_the_logs(tmp_path, mailbox, smtp_server):
    values = person(0)
    mailbox.append(nomination(0, subject=f"推荐张三 电话13812345678 身份证{values.id_number}"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server, extra='[log]\nfile = "data/logs/intake.log"\n')
    polled = intake(config, "poll", "--once")
    shown = polled.stdout + polled.stderr
    shown += intake(config, "log", "--date", "2017-04-20").stdout
    logged = (tmp_path / "data" / "logs" / "intake.log").read_text(encoding="utf-8")
    assert "已登记邮件 M1" in logged and (tmp_path / "data" / "logs" / "intake.log").stat().st_mode & 0o777 == 0o600
    shown += logged
    shown += "".join(r.content.decode("ascii") for r in smtp_server.messages)  # replies too (base64 decoded below)
    decoded = "".join(reply_texts(smtp_server).values())
    for text in (shown, decoded):
        assert "13812345678" not in text and values.id_number not in text
    assert "138****5678" in decoded or "138****5678" in shown


def test_doctor_says_what_is_right_and_what_is_wrong(tmp_path, mailbox, smtp_server):
    config = write_config(tmp_path, mailbox, smtp_server)
    good = intake(config, "doctor").stdout
    assert "✓ 收件邮箱" in good and "✓ 回复发送" in good and "✓ 数据库" in good and "✓ ffprobe" in good
    (tmp_path / "wrong").write_text("not-the-password")
    broken = config.read_text(encoding="utf-8").replace(f'password_file = "{mailbox.password_file}"',
                                                          f'password_file = "{tmp_path / "wrong"}"')
    config.write_text(broken, encoding="utf-8")
    result = intake(config, "doctor", check=False)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if "收件邮箱" in line]
    assert line.startswith("✗") and "Traceback" not in result.stdout + result.stderr


# --- follow-ups ----------------------------------------------------------------------------


def test_photos_sent_in_answer_to_the_rejection_complete_the_submission(tmp_path, mailbox, smtp_server):
    three = [("推荐表.docx", forms.bayu_form_docx(person(0))), ("事迹材料.docx", forms.writeup_docx(900))]
    three += [(f"照片{i}.jpg", photo_jpeg(i, size=(96, 72))) for i in range(3)]
    mailbox.append(nomination_mail(three, message_id="<first@unit.cn>", sender="单位 <unit@example.cn>"),
                   internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    messages, _, replies = records(config)
    assert messages[0].status == "rejected"  # PHOTO_COUNT: 3 photos
    answer = nomination_mail([(f"补发照片{i}.jpg", photo_jpeg(20 + i, size=(96, 72))) for i in range(4)],
                             subject="回复：补发照片", message_id="<second@unit.cn>", sender="单位 <unit@example.cn>",
                             headers={"In-Reply-To": replies[0].reply_message_id})
    mailbox.append(answer, internaldate=ARRIVED)
    intake(config, "poll", "--once")
    messages, nominees, _ = records(config)
    assert messages[1].completes == messages[0].id and messages[1].status == "accepted"
    assert nominees[-1].intake_number == "BYGJ-2017-0001" and nominees[0].superseded_by == nominees[-1].id


def test_a_corrected_form_alone_completes_the_senders_earlier_mail(tmp_path, mailbox, smtp_server):
    wrong_phone = person(0).but(phone="1381234")
    first = [("推荐表.docx", forms.bayu_form_docx(wrong_phone)), ("事迹材料.docx", forms.writeup_docx(900))]
    first += [(f"照片{i}.jpg", photo_jpeg(i, size=(96, 72))) for i in range(4)]
    mailbox.append(nomination_mail(first, message_id="<a1@unit.cn>", sender="单位 <unit@example.cn>"),
                   internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    corrected = nomination_mail([("张三推荐表（更正）.docx", forms.bayu_form_docx(person(0)))],
                                subject="张三更正后的推荐表", message_id="<a2@unit.cn>", sender="单位 <unit@example.cn>")
    mailbox.append(corrected, internaldate=ARRIVED)
    intake(config, "poll", "--once")
    messages, nominees, _ = records(config)
    assert [m.status for m in messages] == ["rejected", "accepted"]
    assert messages[1].completes == messages[0].id
    texts = reply_texts(smtp_server)
    assert "BYGJ-2017-0001" in texts["<a2@unit.cn>"]
    assert "事迹材料.docx" in texts["<a2@unit.cn>"]  # the earlier files are part of the nomination now


def test_idle_takes_new_mail_within_seconds_and_the_reply_leaves_at_once_while_the_timers_sleep(
        tmp_path, mailbox, smtp_server):
    import time

    config = write_config(tmp_path, mailbox, smtp_server)
    text = config.read_text(encoding="utf-8").replace("idle = false", "idle = true")
    config.write_text(text.replace("[schedule]", "[schedule]\npoll_seconds = 3600\nsend_seconds = 3600"),
                      encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 60 and not _polled(config):
            time.sleep(0.2)  # the service is up and its first poll is done
        time.sleep(1)  # the IDLE watcher is waiting
        mailbox.append(nomination(0), internaldate=ARRIVED)
        appended = time.monotonic()
        while time.monotonic() - appended < 20 and not smtp_server.messages:
            time.sleep(0.1)
        replied_after = time.monotonic() - appended
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert _messages_or_none(config), process.stderr.read()[-2000:]
    print(f"\nIDLE: replied {replied_after:.1f} s after the mail arrived (poll and send timers: 1 hour)")
    assert smtp_server.messages and replied_after < 10
