"""Crafted mail must not turn the campaign's address on others: replies go only to the real sender,
never loop with an auto-responder, never let another sender take over a unit's nomination.

Each attack is a mail through the real service (`intake poll --once` against Dovecot, replies to
aiosmtpd), as the issue tried it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from storage.db import make_engine
from storage.db import session as new_session
from storage.models import NomineeRow, ReplyRow
from testing.builders import forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.service import database_of, intake, records, write_config

ARRIVED = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)
OUR_SPF_FAIL = ("fail (mx.cqgh.org: domain of unit.example.cn does not designate 203.0.113.9 as permitted sender) "
                "receiver=mx.cqgh.org; client-ip=203.0.113.9")
OUR_DKIM_PASS = "mx.cqgh.org; dkim=pass header.d=unit.example.cn; spf=pass smtp.mailfrom=unit.example.cn; dmarc=pass"


def photos(prefix: str, count: int, seed: int) -> list[tuple[str, bytes]]:
    return [(f"{prefix}{i + 1}.jpg", photo_jpeg(seed + i, size=(96, 72))) for i in range(count)]


def replies(config) -> list[ReplyRow]:
    engine = make_engine(database_of(config))
    with new_session(engine) as session:
        found = list(session.exec(select(ReplyRow).order_by(ReplyRow.id)).all())
    engine.dispose()
    return found


def test_a_reply_to_a_stranger_goes_to_the_sender_and_waits_for_staff(tmp_path, mailbox, smtp_server):
    for n in range(12):
        mailbox.append(nomination_mail(photos("照片", 2, n * 5), sender="attacker@a.example",
                                       subject="请访问 http://evil.example/phish 领取奖金",
                                       message_id=f"<bait{n}@a.example>",
                                       headers={"Reply-To": f"victim{n}@third.example"}), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")

    assert not [m for m in smtp_server.messages if any("third.example" in r for r in m.rcpt_tos)]
    queued = replies(config)
    assert len(queued) == 12 and {r.to_addr for r in queued} == {"attacker@a.example"}
    assert {(r.state, r.held_reason) for r in queued} == {("held", "reply_to_elsewhere")}
    assert "回复地址（Reply-To）不属于发件人所在单位" in intake(config, "review", "list").stdout


def test_an_auto_responder_gets_one_reply_then_no_more(tmp_path, mailbox, smtp_server):
    zhang = FormValues(name="张三", id_number=id_number(sequence="401"), channel="个人自荐")
    files = [("张三推荐表.docx", forms.bayu_form_docx(zhang)), ("张三事迹材料.docx", forms.writeup_docx(900)),
             *photos("张三工作照", 2, 1)]
    mailbox.append(nomination_mail(files, sender="unit@example.cn", message_id="<first@example.cn>"),
                   internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    logo = photo_jpeg(99, size=(120, 40))
    signature = "我正在休假，邮件将在返回后处理。\n\n资料下载：https://pan.baidu.com/s/1AbCdEfGh 提取码：x7k2"
    for round_ in range(4):  # each answers the newest reply it got, with the same logo and signature
        last = replies(config)[-1]
        mailbox.append(nomination_mail([("logo.jpg", logo)], sender="unit@example.cn", subject=f"Re: {last.subject}",
                                       body=signature, message_id=f"<away{round_}@example.cn>",
                                       headers={"In-Reply-To": last.reply_message_id}), internaldate=ARRIVED)
        intake(config, "poll", "--once")
    assert len(replies(config)) == 2  # the first mail's, and one to the first answer: then nothing new
    messages, _, _ = records(config)
    assert len(messages) == 5


def test_a_forged_pass_below_our_servers_failing_spf_is_ignored(tmp_path, mailbox, smtp_server):
    zhang = FormValues(name="张三", id_number=id_number(sequence="402"), channel="个人自荐")
    files = [("张三推荐表.docx", forms.bayu_form_docx(zhang)), ("张三事迹材料.docx", forms.writeup_docx(900)),
             *photos("张三工作照", 4, 1)]
    raw = nomination_mail(files, sender="unit@unit.example.cn", message_id="<forged@unit.example.cn>",
                          headers={"Authentication-Results": "mx.cqgh.org; spf=pass; dkim=pass; dmarc=pass"})
    raw = f"Received-SPF: {OUR_SPF_FAIL}\r\n".encode() + raw
    mailbox.append(raw, internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    (reply,) = replies(config)
    assert (reply.state, reply.held_reason) == ("held", "authentication_failed")
    assert smtp_server.messages == []


def test_a_takeover_of_a_units_open_nomination_is_held_and_the_unit_keeps_its_nominee(tmp_path, mailbox,
                                                                                       smtp_server):
    zhao = FormValues(name="赵大", id_number=id_number(sequence="403"), channel="个人自荐")
    unit = "某厂工会 <union@unit.example.cn>"
    files = [("赵大推荐表.docx", forms.bayu_form_docx(zhao)), ("赵大事迹材料.docx", forms.writeup_docx(900)),
             *photos("赵大工作照", 2, 1)]
    mailbox.append(nomination_mail(files, sender=unit, message_id="<zhao@unit.example.cn>",
                                   headers={"Authentication-Results": OUR_DKIM_PASS}), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")

    # photos alone in the unit's name, naming 赵大, our server saying nothing of the sender this time …
    mailbox.append(nomination_mail(photos("赵大补充照片", 3, 60), sender=unit, subject="赵大补充照片",
                                   message_id="<spoof1@evil.example>", headers={"Reply-To": "attacker@evil.example"}),
                   internaldate=ARRIVED)
    # … and a spoofed From of the unit that our server failed, with another person's form
    qian = FormValues(name="钱二", id_number=id_number(sequence="404"), channel="个人自荐")
    spoof = nomination_mail([("钱二推荐表.docx", forms.bayu_form_docx(qian)), *photos("补充", 2, 50)], sender=unit,
                            subject="赵大补充材料", message_id="<spoof2@evil.example>",
                            headers={"Reply-To": "attacker@evil.example"})
    mailbox.append(f"Received-SPF: {OUR_SPF_FAIL}\r\n".encode() + spoof, internaldate=ARRIVED)
    intake(config, "poll", "--once")

    messages, nominees, _ = records(config)
    by_name = {n.name: n for n in nominees}
    assert by_name["赵大"].superseded_by is None and by_name["赵大"].status == "rejected"
    assert by_name["钱二"].status == "rejected"  # judged on its own files: no photos of its own
    assert [m.completes for m in messages] == [None, None, None]
    to_attacker = [r for r in replies(config) if "evil.example" in r.to_addr]
    assert to_attacker == [] and not [m for m in smtp_server.messages if "attacker@evil.example" in m.rcpt_tos]
    held = {r.message_id: r.held_reason for r in replies(config) if r.state == "held"}
    assert held == {messages[1].id: "other_sender", messages[2].id: "authentication_failed"}
    engine = make_engine(database_of(config))
    with new_session(engine) as session:
        zhao_files = session.exec(select(NomineeRow).where(NomineeRow.name == "赵大")).all()
    engine.dispose()
    assert len(zhao_files) == 1  # nobody's mail was filed as 赵大's


def test_the_campaigns_hourly_cap_holds_what_is_over_it_for_staff(tmp_path, mailbox, smtp_server):
    for n in range(3):
        person = FormValues(name=["甲一", "乙二", "丙三"][n], id_number=id_number(sequence=f"{410 + n}"),
                            channel="个人自荐")
        files = [(f"{person.name}推荐表.docx", forms.bayu_form_docx(person)),
                 (f"{person.name}事迹材料.docx", forms.writeup_docx(900)), *photos(f"{person.name}工作照", 4, n * 10)]
        mailbox.append(nomination_mail(files, sender=f"unit{n}@example{n}.cn", message_id=f"<cap{n}@example.cn>"),
                       internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server, max_per_hour=2)
    intake(config, "poll", "--once")
    assert [(r.state, r.held_reason) for r in replies(config)] == [("sent", None), ("sent", None),
                                                                  ("held", "campaign_cap")]
    assert "本评选活动每小时或每日自动回复已达上限" in intake(config, "review", "list").stdout
