"""Follow-ups that cannot merge two people, and the mail staff must read reaching them.

Each test runs the real `intake` against a real Dovecot and a real SMTP server (aiosmtpd), as
an office would: mail in, `intake poll --once`, then what staff and senders see.
"""

from __future__ import annotations

import email
import os
import stat
import subprocess
import threading
from datetime import datetime
from email import policy
from pathlib import Path

from sqlalchemy import event
from sqlmodel import select

import service.followup
import service.judge
import service.judging
from service.intake import Intake
from service.runtime import open_runtime
from storage.db import make_engine
from storage.db import session as new_session
from storage.models import AttachmentRow, FindingRow, NomineeRow
from testing.builders import forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.service import INTAKE, database_of, intake, poll_in_workers, records, reply_texts, write_config
from testing.smtp_server import SmtpServer

ARRIVED = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)
UNIT = "重庆某厂工会 <union@factory.example.cn>"
ZHANG = FormValues(name="张三", id_number=id_number(sequence="301"), channel="个人自荐")
LI = FormValues(name="李四", id_number=id_number(sequence="302"), channel="个人自荐")


def photos(prefix: str, count: int, seed: int) -> list[tuple[str, bytes]]:
    return [(f"{prefix}{i + 1}.jpg", photo_jpeg(seed + i, size=(96, 72))) for i in range(count)]


def nomination(values: FormValues, photo_count: int, seed: int, tag: str, sender: str = UNIT) -> bytes:
    files = [(f"{values.name}推荐表.docx", forms.bayu_form_docx(values)),
             (f"{values.name}事迹材料.docx", forms.writeup_docx(900, title=f"{values.name}同志先进事迹")),
             *photos(f"{values.name}工作照", photo_count, seed)]
    return nomination_mail(files, message_id=f"<{tag}@factory.example.cn>", sender=sender,
                           subject=f"{values.name}推荐材料")


def files_of(config: Path, name: str) -> list[AttachmentRow]:
    engine = make_engine(database_of(config))
    with new_session(engine) as session:
        nominee = session.exec(select(NomineeRow).where(NomineeRow.name == name, NomineeRow.superseded_by.is_(None))
                               .order_by(NomineeRow.id.desc())).first()
        found = list(session.exec(select(AttachmentRow).where(AttachmentRow.nominee_id == nominee.id)).all())
    engine.dispose()
    return found


def message_findings(config: Path, message_id: int) -> list[FindingRow]:
    engine = make_engine(database_of(config))
    with new_session(engine) as session:
        found = list(session.exec(select(FindingRow).where(FindingRow.message_id == message_id,
                                                           FindingRow.nominee_id.is_(None))).all())
    engine.dispose()
    return found


def test_two_people_from_one_address_are_each_judged_on_their_own_files(tmp_path, mailbox, smtp_server):
    mailbox.append(nomination(ZHANG, 2, 10, "zhang"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    mailbox.append(nomination(LI, 2, 20, "li"), internaldate=ARRIVED)
    intake(config, "poll", "--once")

    messages, nominees, _ = records(config)
    assert [m.status for m in messages] == ["rejected", "rejected"]  # two photos each, as `intake check` says
    assert [m.completes for m in messages] == [None, None]
    assert {n.name for n in nominees if n.superseded_by is None} == {"张三", "李四"}
    assert sorted(a.filename for a in files_of(config, "李四") if a.role == "photo") == ["李四工作照1.jpg", "李四工作照2.jpg"]
    li_reply = reply_texts(smtp_server)["<li@factory.example.cn>"]
    assert "张三" not in li_reply and "PHOTO" not in li_reply and "照片" in li_reply


def test_photos_that_could_complete_either_of_two_people_are_judged_alone_and_staff_told(tmp_path, mailbox,
                                                                                        smtp_server):
    mailbox.append(nomination(ZHANG, 2, 10, "zhang"), internaldate=ARRIVED)
    mailbox.append(nomination(LI, 2, 20, "li"), internaldate=ARRIVED)
    mailbox.append(nomination_mail(photos("补发照片", 3, 40), subject="补发照片", sender=UNIT,
                                   message_id="<more@factory.example.cn>"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")

    messages, nominees, _ = records(config)
    third = messages[2]
    assert third.completes is None and third.status == "rejected"
    doubt = [f for f in message_findings(config, third.id) if f.code == "ASSIGNMENT_AMBIGUOUS"]
    assert len(doubt) == 1 and doubt[0].severity == "review"
    assert "张三" in doubt[0].text and "李四" in doubt[0].text
    assert all(n.superseded_by is None for n in nominees)  # nobody was merged with anybody
    waiting = intake(config, "review", "list").stdout
    assert "可能是补充材料、未能归属的来信：1" in waiting and f"M{third.id}" in waiting
    text = reply_texts(smtp_server)["<more@factory.example.cn>"]
    assert "无法确定是对" in text and "回复我们就原报送发出的回执邮件" in text


def test_a_followup_under_the_running_service_is_judged_by_a_worker_not_in_the_service(tmp_path, mailbox,
                                                                                       smtp_server, monkeypatch):
    """`intake run` has threads (the scheduler's, IDLE, the console): judged in the service itself, a
    follow-up with the earlier mail's files would fork its sandboxes from a threaded process (a child
    can wait for ever on a lock copied mid-use) while the filing held the database's write lock."""
    mailbox.append(nomination(ZHANG, 2, 10, "zhang"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    mailbox.append(nomination_mail(photos("张三补发照片", 4, 40), subject="张三补发照片", sender=UNIT,
                                   message_id="<more@factory.example.cn>"), internaldate=ARRIVED)

    def judged_in_the_service(*args):
        raise AssertionError("a message was judged in the service's own process")

    for module in (service.judge, service.judging, service.followup):
        monkeypatch.setattr(module, "judge_message", judged_in_the_service, raising=False)
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()  # as the scheduler's threads are there
    try:
        poll_in_workers(config)
    finally:
        stop.set()

    messages, nominees, _ = records(config)
    assert [m.state for m in messages] == ["filed", "filed"] and messages[1].last_error is None
    assert messages[1].completes == messages[0].id and messages[1].status == "accepted"
    assert nominees[0].superseded_by == nominees[-1].id


def test_a_followup_whose_nominee_changed_during_its_judging_is_filed_on_the_next_try(tmp_path, mailbox,
                                                                                     smtp_server, monkeypatch):
    """Judged with one nominee's files, filed when staff have meanwhile made another the one it
    completes: not filed against the wrong person, but failed and filed again on the next poll."""
    mailbox.append(nomination(ZHANG, 2, 10, "zhang"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    mailbox.append(nomination_mail(photos("张三补发照片", 4, 40), subject="张三补发照片", sender=UNIT,
                                   message_id="<more@factory.example.cn>"), internaldate=ARRIVED)
    judged_together = Intake._judged_together

    def judged_for_someone_else(self, row, verdict, judging):
        found = judged_together(self, row, verdict, judging)
        return service.followup.Together(found.completes + 1000, found.verdict) if found else None

    runtime = open_runtime(config, None)
    source = runtime.source()
    try:
        with monkeypatch.context() as patched:
            patched.setattr(Intake, "_judged_together", judged_for_someone_else)
            Intake(runtime.config, runtime.profile, runtime.engine, source, blobs=runtime.blobs).poll_once()
        messages, _, _ = records(config)
        assert messages[1].state == "failed" and "LinkChanged" in messages[1].last_error
        assert messages[1].completes is None
        Intake(runtime.config, runtime.profile, runtime.engine, source, blobs=runtime.blobs,
               clock=lambda: datetime(2030, 1, 1, tzinfo=SHANGHAI)).poll_once()  # past its retry time
    finally:
        source.close()
        runtime.engine.dispose()
    messages, _, _ = records(config)
    assert messages[1].state == "filed" and messages[1].completes == messages[0].id
    assert messages[1].status == "accepted"


def test_a_followup_completed_nominee_is_exported_and_forwarded_with_every_file(tmp_path, dovecot):
    district, city = dovecot.add_user("district"), dovecot.add_user("city")
    wang = FormValues(name="王五", id_number=id_number(region="500106", sequence="303"), channel="个人自荐")
    district.append(nomination(wang, 3, 30, "wang", sender="王五 <wangwu@example.cn>"), internaldate=ARRIVED)
    with SmtpServer() as smtp:
        config = _district(tmp_path / "district", district, smtp)
        intake(config, "poll", "--once")
        first_reply = email.message_from_bytes(smtp.messages[0].content, policy=policy.default)
        district.append(nomination_mail(photos("王五补发照片", 2, 60), subject="回复：补发照片",
                                        sender="王五 <wangwu@example.cn>", message_id="<wang-2@example.cn>",
                                        headers={"In-Reply-To": first_reply["Message-ID"]}), internaldate=ARRIVED)
        intake(config, "poll", "--once")
        messages, nominees, _ = records(config)
        assert messages[1].completes == messages[0].id and messages[1].status == "accepted"
        answer = reply_texts(smtp)["<wang-2@example.cn>"]
        assert "合并审核" in answer and "替代" not in answer and "此前已收到" in answer

        exported = intake(config, "export", "-o", str(tmp_path / "out")).stdout
        assert "找不到文件" not in exported and "注意" not in exported
        (folder,) = (tmp_path / "out" / "已受理材料").iterdir()
        assert sorted(p.name for p in folder.iterdir()) == [
            "王五-事迹材料.docx", "王五-推荐表.docx", *(f"王五-照片{i}.jpg" for i in range(1, 6))]
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())

        forwarded = intake(config, "forward").stdout
        assert "注意" not in forwarded
        mails = [Path(line.split()[-1]) for line in forwarded.splitlines() if line.strip().endswith(".eml")]
        for path in mails:
            city.append(path.read_bytes(), internaldate=datetime(2017, 4, 25, 9, 0, tzinfo=SHANGHAI))
        city_config = _city(tmp_path / "city", city, smtp)
        intake(city_config, "poll", "--once")
    _, there, _ = records(city_config)
    assert [(n.name, n.status) for n in there] == [("王五", "accepted")]
    roles = sorted(a.role for a in files_of(city_config, "王五"))
    assert roles == ["form", "photo", "photo", "photo", "photo", "photo", "writeup"]


def _district(folder: Path, box, smtp: SmtpServer) -> Path:
    folder.mkdir(parents=True)
    config = write_config(folder, box, smtp)
    text = config.read_text(encoding="utf-8").replace('"chongqing-bayu-2017"', '"shapingba-bayu-2017"')
    config.write_text(text.replace("bygj@cqgh.org", "704234263@qq.com"), encoding="utf-8")
    return config


def _city(folder: Path, box, smtp: SmtpServer) -> Path:
    folder.mkdir(parents=True)
    return write_config(folder, box, smtp)


QUESTION = "您好，请问个人自荐的推荐表需要单位盖章吗？\n谢谢！"


def test_a_question_reaches_staff_and_their_answer_reaches_the_sender(tmp_path, mailbox, smtp_server):
    mailbox.append(nomination_mail([], subject="请问个人自荐需要盖章吗", body=QUESTION, sender="市民 <asker@example.cn>",
                                   message_id="<ask@example.cn>"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    assert smtp_server.messages == []  # no automatic reply to a question
    messages, _, _ = records(config)
    question = messages[0]
    assert (question.status, question.staff_state) == ("ignored", "open")

    waiting = intake(config, "review", "list").stdout
    assert "待回复的来信：1" in waiting and f"M{question.id}" in waiting and "asker@example.cn" in waiting
    assert "请问个人自荐的推荐表需要单位盖章吗" in waiting

    said = intake(config, "review", "answer", f"M{question.id}", "--text", "个人自荐无需单位盖章。", "--yes",
                  "--by", "田勇").stdout
    assert "已发送 1 封" in said
    (sent,) = smtp_server.messages
    answer = email.message_from_bytes(sent.content, policy=policy.default)
    assert list(sent.rcpt_tos) == ["asker@example.cn"] and answer["In-Reply-To"] == "<ask@example.cn>"
    assert answer["Auto-Submitted"] is None  # a person's answer, not an automatic one
    assert "个人自荐无需单位盖章。" in answer.get_body(("plain",)).get_content()
    assert "待回复的来信：0" in intake(config, "review", "list").stdout

    mailbox.append(nomination_mail([], subject="谢谢", body="收到，谢谢。", sender="市民 <asker@example.cn>",
                                   message_id="<thanks@example.cn>"), internaldate=ARRIVED)
    intake(config, "poll", "--once")
    assert "待回复的来信：1" in intake(config, "review", "list").stdout
    intake(config, "review", "answer", "2", "--done")
    assert "待回复的来信：0" in intake(config, "review", "list").stdout


OFFICE = "office@cqgh.org"


def test_the_digest_reaches_the_office_with_the_day_and_what_waits(tmp_path, mailbox, smtp_server):
    number = ZHANG.id_number
    mailbox.append(nomination(ZHANG, 4, 10, "zhang"), internaldate=ARRIVED)
    mailbox.append(nomination(LI, 2, 20, "li"), internaldate=ARRIVED)
    mailbox.append(nomination_mail([], subject="请问截止时间", body="请问截止时间是哪天？", sender="市民 <asker@example.cn>",
                                   message_id="<ask@example.cn>"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server, extra=f'\n[notify]\naddresses = ["{OFFICE}"]\n')
    intake(config, "poll", "--once")
    before = len(smtp_server.messages)

    said = intake(config, "digest", "--date", "2017-04-20", "--send").stdout
    assert OFFICE in said and "已发送 1 封" in said
    (sent,) = smtp_server.messages[before:]
    assert list(sent.rcpt_tos) == [OFFICE]  # only the office, never a sender
    digest = email.message_from_bytes(sent.content, policy=policy.default)
    text = digest.get_body(("plain",)).get_content()
    assert digest["Subject"].startswith("【收件日报】") and "2017-04-20" in digest["Subject"]
    assert "邮件 3 封" in text and "张三" in text and "李四" in text and "BYGJ-2017-0001" in text
    assert "M1 2017-04-20 10:00" in text and "#1 张三" in text
    assert "待回复的来信：1" in text and "intake review answer" in text
    assert number not in text and "138" not in text.replace("138****", "")  # numbers masked
    again = intake(config, "digest", "--date", "2017-04-20", "--send").stdout
    assert "不再重复" in again and len(smtp_server.messages) == before + 1


def test_intake_log_at_one_in_the_morning_in_beijing_shows_that_day_on_a_utc_server(tmp_path, mailbox, smtp_server):
    just_after_midnight = datetime(2017, 4, 21, 0, 30, tzinfo=SHANGHAI)
    mailbox.append(nomination(ZHANG, 4, 10, "zhang"), internaldate=just_after_midnight)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    env = {**os.environ, "TZ": "UTC", "INTAKE_CLOCK": "2017-04-21T01:00:00+08:00"}
    shown = subprocess.run([*INTAKE, "log", "--config", str(config)], capture_output=True, text=True, env=env,
                           timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "收件日志 2017-04-21" in shown.stdout and "M1 2017-04-21 00:30" in shown.stdout


def test_a_followup_reads_its_ledger_row_once_and_writes_it_once(tmp_path, mailbox, smtp_server):
    """Issue 17: the judging of a follow-up with the earlier files does not read the ledger row (its
    id and campaign are known, the rest comes from the mail), and its filing writes the row in one
    UPDATE, not one for the headers, one for the nominee it completes and one for the verdict."""
    mailbox.append(nomination(ZHANG, 2, 10, "zhang"), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    mailbox.append(nomination_mail(photos("张三补发照片", 4, 40), subject="张三补发照片", sender=UNIT,
                                   message_id="<more@factory.example.cn>"), internaldate=ARRIVED)
    runtime = open_runtime(config, None)
    source, seen = runtime.source(), []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany):
        seen.append(" ".join(statement.split()))

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        Intake(runtime.config, runtime.profile, runtime.engine, source, blobs=runtime.blobs).poll_once()
    finally:
        source.close()
        runtime.engine.dispose()
    messages, _, _ = records(config)
    assert messages[1].state == "filed" and messages[1].completes == messages[0].id
    updates = [s for s in seen if s.startswith("UPDATE message ")]
    assert len(updates) == 2 and "completes=" in updates[0] and "moved=" in updates[1], updates  # filed; set aside
    by_id = [s for s in seen if s.startswith("SELECT message.id, message.campaign_id") and s.endswith("WHERE message.id = ?")]
    # the follow-up's filing and its setting aside read it; the earlier mail is read for its sender
    # (judging, filing) and for its files (judging)
    assert len(by_id) == 5, by_id
