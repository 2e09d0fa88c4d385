"""Staff settle the review queue of a real filing: `intake poll --once` against a real Dovecot and a
real SMTP server files ten Chongqing messages; `intake review …`, `intake paper` and `intake export`
then work on that database, and the replies to each decision are read where they arrive.

The poll runs once for the module; each test gets its own copy of what it filed (the database,
the raw mail) and an SMTP server holding the poll's replies, so tests run alone or in any order.
"""

from __future__ import annotations

import contextlib
import email
import shutil
import stat
from datetime import datetime
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import select

from service.config import load_config
from storage.db import make_engine
from storage.db import session as new_session
from storage.models import AuditRow, FieldCorrectionRow, MessageRow, NomineeRow, ReplyRow
from testing.builders import eml, forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.service import intake as run_intake
from testing.service import write_config
from testing.smtp_server import SmtpServer

ARRIVED = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)
STAFF_CLOCK = "2017-04-28T10:00:00+08:00"  # staff settle the queue before the deadline (2017-05-01)
LATER = datetime(2017, 4, 25, 15, 0, tzinfo=SHANGHAI)
LATE = datetime(2017, 5, 1, 0, 9, tzinfo=SHANGHAI)  # nine minutes after 4月30日24:00
FORGED = {"Authentication-Results": "mx.cqgh.org; spf=fail smtp.mailfrom=example.cn; dmarc=fail header.from=example.cn"}

PEOPLE = {
    "张三": FormValues(name="张三", id_number=id_number(sequence="101")),
    "周八": FormValues(name="周八", id_number=id_number(sequence="108"), employer="重庆建工集团"),
    "王五": FormValues(name="王五", id_number=id_number(sequence="105")),
    "赵六": FormValues(name="赵六", id_number=id_number(sequence="106"), phone="1381234567"),  # a digit short
}


def intake(config: Path, *args: str, clock: str | None = STAFF_CLOCK, **kwargs):
    return run_intake(config, *args, clock=clock, **kwargs)


def _photos(name: str, count: int = 4) -> list[tuple[str, bytes]]:
    seed = sum(map(ord, name)) % 97
    return [(f"{name}-照片{i + 1}.jpg", photo_jpeg(seed + i, size=(96, 72))) for i in range(count)]


def _files(values: FormValues, photos: int = 4) -> list[tuple[str, bytes]]:
    return [(f"{values.name}-推荐表.docx", forms.bayu_form_docx(values)),
            (f"{values.name}-事迹材料.docx", forms.writeup_docx(900, title=f"{values.name}同志先进事迹")),
            *_photos(values.name, photos)]


def _mail(tag: str, files, **kwargs) -> bytes:
    return nomination_mail(files, message_id=f"<{tag}@unit.example.cn>", sender=f"单位 <{tag}@example.cn>", **kwargs)


LEGACY = eml.ole2("WordDocument", "1Table")  # a Word 97 form, unreadable until the converter lands
FILES = {
    "zhang": _files(PEOPLE["张三"]),
    "zhou": _files(PEOPLE["周八"]),
    "li": [("李四-推荐表.doc", LEGACY), *_photos("李四")],
    "wang": _files(PEOPLE["王五"]),
    "zhao": _files(PEOPLE["赵六"]),
    "sun": [("孙七推荐表.doc", LEGACY), *_photos("孙七")],
    # the same people again, worse than what was accepted: two photos instead of four
    "zhang-again": _files(PEOPLE["张三"].but(phone="13900001111"), photos=2),
    "zhou-again": _files(PEOPLE["周八"].but(employer="重庆建工集团股份有限公司"), photos=2),
}
ARRIVAL = {"wang": LATE, "zhang-again": LATER, "zhou-again": LATER}
MAIL = [(_mail(tag, files, headers=FORGED if tag == "sun" else None), ARRIVAL.get(tag, ARRIVED))
        for tag, files in FILES.items()]


@pytest.fixture(scope="module")
def polled(tmp_path_factory, dovecot):
    folder = tmp_path_factory.mktemp("staff-review")
    box = dovecot.add_user()
    for raw, when in MAIL:
        box.append(raw, internaldate=when)
    with SmtpServer() as smtp:
        config = write_config(folder, box, smtp)
        output = intake(config, "poll", "--once").stdout
        assert "登记 8 封" in output
        return SimpleNamespace(box=box, data=folder / "data", replies=list(smtp.messages))


@pytest.fixture
def filed(polled, tmp_path):
    """This test's own copy of the poll's records and raw mail, and its own SMTP server."""
    shutil.copytree(polled.data, tmp_path / "data")
    with SmtpServer() as smtp:
        smtp.messages.extend(polled.replies)
        yield SimpleNamespace(config=write_config(tmp_path, polled.box, smtp), smtp=smtp, data=tmp_path / "data")


@contextlib.contextmanager
def database(config: Path):
    engine = make_engine(load_config(config).database)
    try:
        with new_session(engine) as session:
            yield session
    finally:
        engine.dispose()


def current(config: Path, name: str) -> NomineeRow:
    with database(config) as session:
        return session.exec(select(NomineeRow).where(NomineeRow.name == name, NomineeRow.superseded_by.is_(None))
                            .order_by(NomineeRow.id.desc())).first()


def by_tag(config: Path, tag: str) -> tuple[MessageRow, list[NomineeRow]]:
    with database(config) as session:
        message = session.exec(select(MessageRow).where(MessageRow.message_id == f"<{tag}@unit.example.cn>")).one()
        nominees = session.exec(select(NomineeRow).where(NomineeRow.message_id == message.id)).all()
        return message, list(nominees)


def audits(config: Path, entity_id: int, entity: str = "nominee") -> list[AuditRow]:
    with database(config) as session:
        return list(session.exec(select(AuditRow).where(AuditRow.entity == entity, AuditRow.entity_id == entity_id)
                                 .order_by(AuditRow.id)).all())


def replies_to(smtp: SmtpServer, tag: str) -> list[tuple[str, str]]:
    """(subject, plain text) of every reply that reached the SMTP server for that message, in order."""
    found = []
    for received in smtp.messages:
        message = email.message_from_bytes(received.content, policy=policy.default)
        if message["In-Reply-To"] == f"<{tag}@unit.example.cn>":
            found.append((str(message["Subject"]), message.get_body(("plain",)).get_content()))
    return found


# --- the queue ----------------------------------------------------------------------------------


def test_the_poll_left_what_staff_must_settle(filed):
    assert by_tag(filed.config, "li")[0].status == "needs_review"
    assert by_tag(filed.config, "wang")[0].status == "rejected"  # late
    assert by_tag(filed.config, "zhao")[0].status == "rejected"  # phone misread
    zhang_first = by_tag(filed.config, "zhang")[1][0]
    zhang_again = by_tag(filed.config, "zhang-again")[1][0]
    # a later, worse filing of an accepted person is not silently taken: both stay current, staff choose
    assert zhang_again.status == "needs_review" and zhang_again.superseded_by is None
    assert zhang_first.status == "accepted" and zhang_first.superseded_by is None


def test_review_list_shows_needs_review_and_held_replies(filed):
    output = intake(filed.config, "review", "list").stdout
    li = by_tag(filed.config, "li")[1][0]
    sun_message, sun = by_tag(filed.config, "sun")
    zhang_first = by_tag(filed.config, "zhang")[1][0]
    zhang_again = by_tag(filed.config, "zhang-again")[1][0]
    assert f"#{li.id} {li.intake_number}" in output and "FORM_UNREADABLE" in output
    assert f"#{zhang_again.id}" in output
    assert f"与已受理的 #{zhang_first.id}（{zhang_first.intake_number}）二选一" in output
    assert "暂扣的回复：1" in output and f"M{sun_message.id}" in output and "发件人未通过本方邮件服务器的验证" in output


def test_review_show_writes_the_files_out_for_staff_only_and_masks_numbers(filed):
    zhang_again = by_tag(filed.config, "zhang-again")[1][0]
    output = intake(filed.config, "review", "show", str(zhang_again.id), "--by", "gina").stdout
    folder = filed.data / "review" / str(zhang_again.id)
    assert ("gina", "files_written_out", str(folder)) in [(a.actor, a.action, a.note)
                                                          for a in audits(filed.config, zhang_again.id)]
    assert f"已取出到 {folder}" in output
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((filed.data / "review").stat().st_mode) == 0o700
    written = {p.name: p for p in folder.iterdir()}
    assert set(written) == {"张三-推荐表.docx", "张三-事迹材料.docx", "张三-照片1.jpg", "张三-照片2.jpg"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written.values())
    original = dict(FILES["zhang-again"])
    assert all(written[name].read_bytes() == original[name] for name in written)
    # what a terminal shows is masked (CONTRACT §5); the files hold it in full
    number = PEOPLE["张三"].id_number
    assert number not in output and "139****1111" in output and f"{number[:6]}********{number[-4:]}" in output
    assert "PHOTO_COUNT" in output and "RESUBMISSION" in output and "intake review choose" in output


# --- decisions and their replies ------------------------------------------------------------------


def test_accept_over_a_legacy_form_after_correcting_the_name(filed):
    message, (li,) = by_tag(filed.config, "li")
    corrected = intake(filed.config, "review", "correct", "--yes", str(li.id), "--field", "name", "--value", "李四",
                       "--by", "alice").stdout
    assert "重新审核：待人工核对" in corrected and "FORM_UNREADABLE" in corrected
    assert len(replies_to(filed.smtp, "li")) == 1  # the status did not change: nothing new to say

    output = intake(filed.config, "review", "accept", "--yes", str(li.id), "--by", "alice").stdout
    assert f"#{li.id} 李四：待人工核对 → 受理，受理编号 {li.intake_number}" in output
    assert "已发送 1 封" in output

    after = current(filed.config, "李四")
    assert (after.status, after.decision, after.decided_by) == ("accepted", "accepted", "alice")
    assert after.decided_at is not None and after.intake_number == li.intake_number
    assert by_tag(filed.config, "li")[0].status == "accepted"
    trail = [(a.actor, a.action, a.before, a.after) for a in audits(filed.config, li.id)]
    assert ("alice", "corrected", "needs_review", "needs_review") in trail
    assert ("alice", "accepted_by_staff", "needs_review", "accepted") in trail

    first, (subject, text) = replies_to(filed.smtp, "li")
    assert "【待人工审核】" in first[0]
    assert subject.startswith("【已受理】")
    assert "经工作人员复核" in text and f"受理编号 {li.intake_number}" in text
    assert "李四：经工作人员复核，予以受理；工作人员已核对更正推荐表中的“姓名”。" in text


def test_a_decision_shows_its_reply_and_sends_only_when_staff_say_yes(filed):
    _, (wang,) = by_tag(filed.config, "wang")
    declined = intake(filed.config, "review", "accept", str(wang.id), "--reason", "延期", "--by", "bob",
                      answers="n\n", check=False)
    assert "主题：【已受理】" in declined.stdout and "王五：经工作人员复核，予以受理（延期）。" in declined.stdout
    assert "发送这封回复吗？" in declined.stdout and "未做任何更改" in declined.stderr
    assert current(filed.config, "王五").status == "rejected" and len(replies_to(filed.smtp, "wang")) == 1

    intake(filed.config, "review", "accept", str(wang.id), "--reason", "延期", "--by", "bob", answers="y\n")
    assert current(filed.config, "王五").status == "accepted"
    assert [s[:5] for s, _ in replies_to(filed.smtp, "wang")] == ["【未受理】", "【已受理】"]  # late: 未受理

    _, (li,) = by_tag(filed.config, "li")
    before = len(replies_to(filed.smtp, "li"))
    silent = intake(filed.config, "review", "reject", str(li.id), "--reason", "已电话告知", "--no-reply",
                    "--by", "bob").stdout
    with database(filed.config) as session:
        assert session.get(NomineeRow, li.id).status == "rejected"
    assert "回复：不回复" in silent
    assert len(replies_to(filed.smtp, "li")) == before  # recorded silently: nothing went to the sender


def test_a_late_message_accepted_with_an_extension(filed):
    message, (wang,) = by_tag(filed.config, "wang")
    assert wang.status == "rejected" and wang.intake_number is None
    output = intake(filed.config, "review", "accept", "--yes", str(wang.id), "--reason", "延期", "--by", "bob").stdout
    after = current(filed.config, "王五")
    assert after.status == "accepted" and after.intake_number.startswith("BYGJ-2017-")
    assert after.decision_reason == "延期"
    assert f"退回 → 受理，受理编号 {after.intake_number}" in output
    assert by_tag(filed.config, "wang")[0].status == "accepted"
    last = audits(filed.config, wang.id)[-1]
    assert (last.actor, last.action, last.note) == ("bob", "accepted_by_staff", "延期")

    (_, refused), (subject, text) = replies_to(filed.smtp, "wang")
    assert "超过报送截止时间" in refused
    assert subject.startswith("【已受理】") and "王五：经工作人员复核，予以受理（延期）。" in text
    assert "超过报送截止时间" not in text and after.intake_number in text


def test_correcting_a_misread_phone_runs_the_rules_again_and_answers(filed):
    _, (zhao,) = by_tag(filed.config, "zhao")
    assert zhao.status == "rejected"
    output = intake(filed.config, "review", "correct", "--yes", str(zhao.id), "--field", "phone", "--value", "138 1234 5678",
                    "--by", "carol").stdout
    assert "重新审核：受理（accepted）" in output and "无问题" in output
    assert "13812345678" not in output and "138****5678" in output  # masked on the terminal
    after = current(filed.config, "赵六")
    assert after.status == "accepted" and after.fields["phone"] == "138 1234 5678" and after.intake_number
    with database(filed.config) as session:
        (correction,) = session.exec(select(FieldCorrectionRow).where(FieldCorrectionRow.nominee_id == zhao.id)).all()
    assert (correction.field_name, correction.old_value, correction.new_value, correction.actor) == (
        "phone", "1381234567", "138 1234 5678", "carol")
    note = [a.note for a in audits(filed.config, zhao.id) if a.action == "corrected"]
    assert note == ["phone: 13****4567 → 138****5678"]  # the audit note is masked too
    (_, first), (subject, text) = replies_to(filed.smtp, "zhao")
    assert "联系电话" in first and subject.startswith("【已受理】")
    assert "赵六：工作人员已核对更正推荐表中的“联系电话”。" in text and after.intake_number in text


def test_reject_supersedes_the_held_reply_and_its_own_reply_waits_for_release(filed):
    message, (sun,) = by_tag(filed.config, "sun")
    refused = intake(filed.config, "review", "reject", "--yes", str(sun.id), "--by", "dave", check=False)
    assert refused.returncode != 0 and "--reason" in refused.stderr

    output = intake(filed.config, "review", "reject", "--yes", str(sun.id),
                    "--reason", "推荐表为旧版格式且无法打开，请另存为.docx后重新发送",
                    "--by", "dave").stdout
    assert "未发出的回复已作废" in output and "已暂扣（发件人未通过本方邮件服务器的验证" in output
    with database(filed.config) as session:
        states = [r.state for r in session.exec(select(ReplyRow).where(ReplyRow.message_id == message.id)
                                                .order_by(ReplyRow.id)).all()]
        new_reply = session.exec(select(ReplyRow).where(ReplyRow.message_id == message.id,
                                                        ReplyRow.state == "held")).one()
    assert states == ["superseded", "held"]  # the forged sender is still forged: staff release it
    assert replies_to(filed.smtp, "sun") == []

    released = intake(filed.config, "review", "release", "--yes", str(new_reply.id), "--by", "dave").stdout
    assert "已放行" in released and "已发送 1 封" in released
    ((subject, text),) = replies_to(filed.smtp, "sun")
    assert subject.startswith("【需补正】")
    assert "需要补正：推荐表为旧版格式且无法打开，请另存为.docx后重新发送" in text
    trail = [(a.actor, a.action) for a in audits(filed.config, new_reply.id, "reply")]
    assert trail == [("dave", "queued"), ("dave", "released"), ("intake", "sent")]


def test_after_the_deadline_a_staff_rejection_says_so_and_asks_for_nothing(filed):
    _, (li,) = by_tag(filed.config, "li")
    intake(filed.config, "review", "reject", "--yes", str(li.id), "--reason", "推荐表无法打开", "--by", "dave",
           clock="2017-05-03T09:00:00+08:00")
    (_, first), (subject, text) = replies_to(filed.smtp, "li")
    assert subject.startswith("【未受理】") and "李四" not in subject
    assert "经工作人员复核，未能受理：推荐表无法打开" in text
    assert "报送截止时间已过" in text and "请在截止时间之前" not in text


def test_choose_the_earlier_accepted_filing(filed):
    earlier = by_tag(filed.config, "zhang")[1][0]
    later = by_tag(filed.config, "zhang-again")[1][0]
    blocked = intake(filed.config, "review", "accept", "--yes", str(later.id), check=False)
    assert blocked.returncode != 0 and "intake review choose" in blocked.stderr

    output = intake(filed.config, "review", "choose", "--yes", str(later.id), "--keep", "earlier", "--by", "erin").stdout
    assert f"此前 #{earlier.id}，本次 #{later.id}" in output
    with database(filed.config) as session:
        kept, dropped = session.get(NomineeRow, earlier.id), session.get(NomineeRow, later.id)
    assert kept.superseded_by is None and kept.status == "accepted" and kept.intake_number == earlier.intake_number
    assert dropped.superseded_by == earlier.id and dropped.decision == "kept_earlier" and dropped.intake_number is None
    assert current(filed.config, "张三").id == earlier.id
    assert by_tag(filed.config, "zhang-again")[0].status == "accepted"  # the person stands accepted
    assert ("erin", "kept_earlier") in [(a.actor, a.action) for a in audits(filed.config, later.id)]
    (_, (subject, text)) = replies_to(filed.smtp, "zhang-again")
    assert subject.startswith("【已受理】")
    assert f"保留此前已受理的材料（受理编号 {earlier.intake_number}），本次发送的材料不替代此前的材料" in text


def test_choose_the_later_filing_then_accept_it(filed):
    earlier = by_tag(filed.config, "zhou")[1][0]
    later = by_tag(filed.config, "zhou-again")[1][0]
    intake(filed.config, "review", "choose", "--yes", str(earlier.id), "--keep", "later", "--reason", "单位名称已更新",
           "--by", "erin")
    with database(filed.config) as session:
        old, new = session.get(NomineeRow, earlier.id), session.get(NomineeRow, later.id)
    assert old.superseded_by == later.id and old.intake_number is None
    assert new.status == "rejected" and new.decision == "kept_later"  # two photos: the rules say so
    intake(filed.config, "review", "accept", "--yes", str(later.id), "--reason", "照片已另行补交", "--by", "erin")
    after = current(filed.config, "周八")
    assert after.id == later.id and after.status == "accepted"
    assert after.intake_number == earlier.intake_number  # the person keeps the office's number
    subjects = [s for s, _ in replies_to(filed.smtp, "zhou-again")]
    assert [s[:5] for s in subjects] == ["【待人工审", "【需补正】", "【已受理】"]


def test_paper_copies_are_marked_and_audited(filed):
    zhang = by_tag(filed.config, "zhang")[1][0]
    output = intake(filed.config, "paper", zhang.intake_number, "--at", "2017-05-03T09:30", "--by", "frank").stdout
    assert f"{zhang.intake_number} 张三：纸质件 2017-05-03 09:30 收到" in output
    with database(filed.config) as session:
        after = session.get(NomineeRow, zhang.id)
    assert after.paper_copy_received_at is not None
    assert [(a.actor, a.action) for a in audits(filed.config, zhang.id)][-1] == ("frank", "paper_copy_received")


def test_export_lists_current_nominees_in_full_and_a_folder_per_accepted_one(filed, tmp_path):
    from openpyxl import load_workbook

    zhang, wang = by_tag(filed.config, "zhang")[1][0], by_tag(filed.config, "wang")[1][0]
    zhang_again = by_tag(filed.config, "zhang-again")[1][0]
    intake(filed.config, "review", "choose", "--yes", str(zhang_again.id), "--keep", "earlier", "--by", "erin")
    intake(filed.config, "paper", zhang.intake_number, "--at", "2017-05-03T09:30", "--by", "frank")
    intake(filed.config, "review", "accept", "--yes", str(wang.id), "--reason", "延期", "--by", "bob")
    output = intake(filed.config, "export", "-o", str(tmp_path / "out"), "--by", "hank").stdout
    (exported,) = [a for a in audits(filed.config, 0, "campaign") if a.action == "exported"]
    assert exported.actor == "hank" and str(tmp_path / "out") in exported.note
    workbook = tmp_path / "out" / "chongqing-bayu-2017-名单.xlsx"
    assert f"名单：{workbook}" in output
    sheet = load_workbook(workbook)["名单"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert header[:4] == ["序号", "受理编号", "姓名", "性别"]
    labels = ["姓名", "性别", "出生年月", "民族", "政治面貌", "文化程度", "身份证号码", "联系电话", "工作单位", "岗位/工种",
              "技术等级", "从业年限", "推荐方式", "推荐单位", "主要事迹", "获奖情况", "推荐单位意见"]
    assert header[2:2 + len(labels)] == labels  # the form's order; no 是否一线职工 for Chongqing
    by_name = {row[2]: dict(zip(header, row)) for row in rows[1:]}
    with database(filed.config) as session:
        current_count = len(session.exec(select(NomineeRow).where(NomineeRow.superseded_by.is_(None))).all())
    assert len(rows) - 1 == current_count
    zhang = by_name["张三"]
    assert zhang["身份证号码"] == PEOPLE["张三"].id_number and zhang["联系电话"] == "13812345678"  # in full
    assert zhang["推荐方式"] == "组织推荐" and zhang["状态"] == "受理"
    assert zhang["纸质件收到"] == "2017-05-03 09:30"
    assert by_name["王五"]["工作人员处理"].startswith("人工受理（bob，") and by_name["王五"]["工作人员处理"].endswith("：延期")

    folder = tmp_path / "out" / "已受理材料"
    accepted = {p.name: p for p in folder.iterdir()}
    zhang_row = current(filed.config, "张三")
    files = sorted(p.name for p in accepted[f"{zhang_row.intake_number}-张三"].iterdir())
    assert files == ["张三-事迹材料.docx", "张三-推荐表.docx", "张三-照片1.jpg", "张三-照片2.jpg", "张三-照片3.jpg",
                     "张三-照片4.jpg"]
    photo = accepted[f"{zhang_row.intake_number}-张三"] / "张三-照片1.jpg"
    assert photo.read_bytes() == dict(FILES["zhang"])["张三-照片1.jpg"]
    assert stat.S_IMODE(workbook.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_reprocess_does_not_silently_undo_a_staff_decision(filed):
    """李四 was accepted by alice (a Word 97 form staff read themselves); judging the mail again
    would say needs_review once more. It is shown, and filed only when staff say so."""
    message, (li,) = by_tag(filed.config, "li")
    intake(filed.config, "review", "correct", "--yes", str(li.id), "--field", "name", "--value", "李四", "--by", "alice")
    intake(filed.config, "review", "accept", "--yes", str(li.id), "--by", "alice")
    shown = intake(filed.config, "reprocess", str(message.id), "--apply", "--by", "carol").stdout
    assert "工作人员复核决定：李四：人工受理（alice，" in shown
    assert "未登记" in shown and "--replace-decisions" in shown
    after = current(filed.config, "李四")
    assert (after.status, after.decision, after.decided_by) == ("accepted", "accepted", "alice")

    replaced = intake(filed.config, "reprocess", str(message.id), "--apply", "--replace-decisions",
                      "--by", "carol").stdout
    assert "已按新结论登记" in replaced
    assert by_tag(filed.config, "li")[0].status == "needs_review"  # filed anew, for staff to settle again
    assert ("carol", "reprocessed") in [(a.actor, a.action) for a in audits(filed.config, message.id, "message")]
