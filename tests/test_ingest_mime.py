"""A mail taken apart: headers, bodies, attachments and time of receipt, as the rules need them."""

import base64
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.limits import Limits
from core import children
from ingest.mime import parse_message
from ingest.received import SHANGHAI
from ingest.sniff import DOCX
from testing.builders import eml

CST = timezone(timedelta(hours=8))


def _foxmail_nomination() -> bytes:
    """mixed > (alternative > (plain, related > (html, signature logo)), docx as octet-stream, photos inline)."""
    html = '<div>请查收张三的推荐材料。</div><div><img src="cid:logo@foxmail"></div>'
    body = eml.multipart(
        "mixed",
        eml.multipart(
            "alternative",
            eml.text("请查收张三的推荐材料。\n沙坪坝区总工会"),
            eml.multipart(
                "related",
                eml.text(html, "html"),
                eml.attachment(eml.png(), 'name="logo.png"', ctype="image/png", disposition="inline", content_id="logo@foxmail"),
            ),
        ),
        eml.attachment(eml.docx(), f'name="{eml.b_words("张三推荐表.docx")}"'),
        *(eml.attachment(eml.jpeg(seed=n), f'name="{eml.b_words(f"工作照{n}.jpg")}"', ctype="image/jpeg",
                         disposition="inline") for n in range(1, 4)),
    )
    return eml.message(body, subject=eml.b_words("2017年度巴渝工匠推荐材料（张三）", "gb2312"))


def test_a_foxmail_nomination_comes_apart_as_the_office_sees_it():
    message = parse_message(_foxmail_nomination())
    assert message.is_mail
    assert message.subject == "2017年度巴渝工匠推荐材料（张三）"
    assert (message.from_addr, message.from_name) == ("unit@example.cn", "沙坪坝区总工会")
    assert message.to_addrs == ("bygj@cqgh.org",)
    assert message.message_id == "<20170410095801.1234@example.cn>"
    assert message.content_type == "multipart/mixed"
    assert message.body_text == "请查收张三的推荐材料。\n沙坪坝区总工会"
    assert "cid:logo@foxmail" in message.body_html
    assert [a.filename for a in message.attachments] == ["logo.png", "张三推荐表.docx", "工作照1.jpg", "工作照2.jpg",
                                                         "工作照3.jpg"]
    logo, form, *photos = message.attachments
    assert logo.content_id == "logo@foxmail" and logo.inline
    assert form.media_type == DOCX and form.declared_type == "application/octet-stream" and not form.inline
    assert all(p.media_type == "image/jpeg" and p.inline and p.content_id is None for p in photos)
    assert message.defects == ()


def test_time_of_receipt_is_the_topmost_received_header_not_the_senders_date():
    received = (
        "from mx2.cqgh.org by mx.cqgh.org; Mon, 1 May 2017 00:00:05 +0800",
        "from smtp.qq.com by mx2.cqgh.org; Sun, 30 Apr 2017 23:59:58 +0800",
    )
    message = parse_message(eml.message(eml.text("见附件"), received=received, date="Sun, 30 Apr 2017 23:50:00 +0800"))
    assert message.received_at == datetime(2017, 5, 1, 0, 0, 5, tzinfo=CST)
    assert message.received_at_source == "received_header"
    assert message.date_header == datetime(2017, 4, 30, 23, 50, tzinfo=CST)


def test_the_callers_time_wins_and_a_naive_one_is_shanghai_time():
    message = parse_message(eml.message(eml.text("x")), received_at=datetime(2017, 4, 20, 23, 59), received_at_source="option")
    assert message.received_at == datetime(2017, 4, 20, 23, 59, tzinfo=SHANGHAI)
    assert message.received_at.utcoffset() == timedelta(hours=8)
    assert message.received_at_source == "option"


def test_without_received_the_date_header_is_used_and_china_cst_is_utc_plus_8():
    message = parse_message(eml.message(eml.text("x"), received=(), date="Thu, 20 Apr 2017 23:59:00 CST"))
    assert message.received_at_source == "date_header"
    assert message.received_at == datetime(2017, 4, 20, 23, 59, tzinfo=CST)


def test_an_unreadable_topmost_received_falls_through_to_the_next_hop():
    received = ("from a by b; garbage", "from c by d; Tue, 18 Apr 2017 02:00:00 -0000")
    message = parse_message(eml.message(eml.text("x"), received=received))
    assert message.received_at == datetime(2017, 4, 18, 2, 0, tzinfo=timezone.utc)


def test_with_no_date_at_all_the_time_of_parsing_is_used_and_staff_are_told():
    before = datetime.now(timezone.utc)
    message = parse_message(eml.message(eml.text("x"), received=(), date=None))
    assert message.received_at_source == "now"
    assert before <= message.received_at <= datetime.now(timezone.utc)
    assert any("Received" in defect for defect in message.defects)


@pytest.mark.parametrize(
    "subject, expected",
    [
        # 镕 is GBK but not GB2312: Chinese mailers label GBK text gb2312 anyway
        ("=?gb2312?B?" + base64.b64encode("朱镕基式的工匠".encode("gbk")).decode() + "?=", "朱镕基式的工匠"),
        ("推荐材料-张三".encode("gbk"), "推荐材料-张三"),
        ("推荐材料-张三".encode("utf-8"), "推荐材料-张三"),
        (f"Re: {eml.q_word('巴渝工匠', 'GB18030')} 推荐", "Re: 巴渝工匠 推荐"),
        (eml.b_words("報名表", "big5"), "報名表"),
    ],
)
def test_subjects_decode_whatever_the_charset(subject, expected):
    assert parse_message(eml.message(eml.text("x"), subject=subject)).subject == expected


def test_a_forwarded_mail_gives_its_attachments_and_its_body_with_a_separator():
    inner = eml.message(
        eml.multipart(
            "mixed",
            eml.text("李四的视频太大，用超大附件发送：http://mail.qq.com/cgi-bin/ftnExs_download?k=7a3"),
            eml.attachment(eml.docx(), f'filename="{eml.b_words("李四推荐表.docx")}"'),
        ),
        sender="李四 <lisi@qq.com>", subject="李四的材料", message_id="<inner@qq.com>",
    )
    outer = eml.message(eml.multipart("mixed", eml.text("转发李四的材料，请查收。"), eml.forwarded(inner, "李四的材料.eml")))
    message = parse_message(outer)
    assert [a.filename for a in message.attachments] == ["李四推荐表.docx"]
    assert message.body_text.startswith("转发李四的材料，请查收。")
    assert "---------- 转发的邮件 ----------" in message.body_text
    assert "主题: 李四的材料" in message.body_text
    assert "ftnExs_download?k=7a3" in message.body_text
    assert message.message_id == "<20170410095801.1234@example.cn>"  # the outer mail's, not the forwarded one's


def test_an_html_only_body_becomes_text_that_keeps_download_links():
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>张三的视频请从超大附件下载：</p>"
        '<p><a href="https://mail.163.com/large/download?fid=abc">张三.mp4</a>&nbsp;（2017-05-01到期）</p>'
        "<script>track()</script></body></html>"
    )
    message = parse_message(eml.message(eml.text(html, "html", "utf-8")))
    assert message.body_text == ("张三的视频请从超大附件下载：\n\n"
                                 "张三.mp4 (https://mail.163.com/large/download?fid=abc) （2017-05-01到期）")
    assert message.body_html.startswith("<html>")


def test_a_bounce_keeps_its_report_type_and_headers_for_the_auto_reply_rule():
    report = eml.part([("Content-Type", "message/delivery-status")],
                      b"Reporting-MTA: dns; mx.cqgh.org\r\n\r\nFinal-Recipient: rfc822; nobody@example.cn\r\n"
                      b"Action: failed\r\nStatus: 5.1.1\r\n")
    body = eml.multipart("report; report-type=delivery-status", eml.text("投递失败", charset="utf-8"), report,
                         eml.forwarded(eml.message(eml.text("原邮件"))))
    raw = eml.message(body, sender="MAILER-DAEMON@mx.cqgh.org", subject="Undelivered Mail Returned to Sender",
                      extra=[("Auto-Submitted", "auto-replied"), ("Return-Path", "<>")])
    message = parse_message(raw)
    assert message.content_type == "multipart/report"
    assert message.from_addr == "mailer-daemon@mx.cqgh.org"
    assert message.header("auto-submitted") == "auto-replied"
    assert message.header("Return-Path") == "<>"
    assert "Status: 5.1.1" in message.body_text
    assert message.attachments == ()


def test_files_without_names_get_a_name_from_their_sniffed_type():
    body = eml.multipart(
        "mixed", eml.text("x"),
        eml.attachment(eml.jpeg(), ctype="image/jpeg", disposition="inline"),
        eml.attachment(eml.docx(), disposition=None),
        eml.attachment(b"\x00\x01binary", ctype="application/x-whatever", disposition=None),
    )
    message = parse_message(eml.message(body))
    assert [a.filename for a in message.attachments] == ["未命名附件1.jpg", "未命名附件2.docx", "未命名附件3.bin"]


def test_a_text_part_marked_attachment_is_a_file_not_body():
    body = eml.multipart("mixed", eml.text("正文"), eml.attachment("名单：张三、李四".encode("gbk"), ctype="text/plain"))
    message = parse_message(eml.message(body))
    assert message.body_text == "正文"
    assert message.attachments[0].filename == "未命名附件1.txt"


@pytest.mark.parametrize("raw", [b"", b"\x00" * 50, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "这不是邮件".encode("gbk"),
                                 b"\r\n\r\n"])
def test_bytes_that_are_not_mail_say_so_without_raising(raw):
    message = parse_message(raw)
    assert message.is_mail is False
    assert message.attachments == ()
    assert message.received_at.tzinfo is not None


def test_more_parts_than_the_limit_are_not_walked_and_staff_are_told():
    body = eml.multipart("mixed", *(eml.attachment(eml.jpeg(50, seed=n), f'name="{n}.jpg"') for n in range(30)))
    message = parse_message(eml.message(body), limits=Limits(mime_max_parts=10))
    assert 0 < len(message.attachments) < 10
    assert any("more than 10 MIME parts" in defect for defect in message.defects)


def test_a_message_over_the_size_limit_keeps_only_its_headers():
    raw = eml.message(eml.multipart("mixed", eml.text("x"), eml.attachment(eml.jpeg(20_000), 'name="a.jpg"')))
    message = parse_message(raw, limits=Limits(message_max_bytes=10_000))
    assert message.subject == "推荐材料" and message.from_addr == "unit@example.cn"
    assert message.attachments == ()
    assert message.raw_size == len(raw)
    assert any("over the limit" in defect for defect in message.defects)


def test_an_encoded_word_storm_in_to_is_read_quickly():
    storm = ", ".join(f"{eml.b_words(f'收件人{n}', 'utf-8')} <user{n}@example.cn>" for n in range(5000))
    started = time.perf_counter()
    message = parse_message(eml.message(eml.text("x"), to=storm))
    assert time.perf_counter() - started < 2
    assert len(message.to_addrs) == 1000  # capped: nobody reads further
    assert message.to_addrs[0] == "user0@example.cn"


def test_a_typical_two_megabyte_nomination_forks_nothing(monkeypatch):
    def no_fork(*args, **kwargs):
        raise AssertionError("a child process was started for a message without archives")

    monkeypatch.setattr(children, "run", no_fork)
    photos = [eml.attachment(eml.jpeg(400_000, seed=n), f'name="照片{n}.jpg"', ctype="image/jpeg") for n in range(4)]
    form = eml.attachment(eml.docx(), f'name="{eml.b_words("张三推荐表.docx")}"')
    raw = eml.message(eml.multipart("mixed", eml.text("请查收"), form, *photos))
    assert len(raw) > 2_000_000
    message = parse_message(raw)  # its speed is measured by bench/check_speed.py, not here
    assert len(message.attachments) == 5


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=4000), junk=st.binary(max_size=64),
       position=st.integers(min_value=0, max_value=4000))
def test_any_damage_to_a_real_nomination_never_raises(cut, junk, position):
    raw = _foxmail_nomination()
    damaged = raw[:position] + junk + raw[position:cut] if cut > position else raw[:position] + junk
    message = parse_message(damaged)
    assert message.received_at.tzinfo is not None
    for attachment in message.attachments:
        attachment.filename.encode("utf-8")  # no lone surrogates reach anyone downstream
    message.body_text.encode("utf-8")
    message.subject.encode("utf-8")


@pytest.mark.parametrize(
    "sender, name, address",
    [
        (f'"{eml.b_words("张三", "gb2312")}" <ZhangSan@QQ.com>', "张三", "zhangsan@qq.com"),
        ("张三 <zs@163.com>".encode("gbk"), "张三", "zs@163.com"),
        (f"{eml.b_words('李四, 王五', 'utf-8')} <union@example.cn>", "李四, 王五", "union@example.cn"),
        ("MAILER-DAEMON", None, "mailer-daemon"),
    ],
)
def test_senders_as_clients_write_them(sender, name, address):
    message = parse_message(eml.message(eml.text("x"), sender=sender))
    assert (message.from_name, message.from_addr) == (name, address)


def test_multiparts_nested_thousands_deep_neither_recurse_nor_run_away():
    nested = eml.attachment(eml.docx(), 'name="deep.docx"')
    for level in range(2500):
        nested = eml.multipart("mixed", nested, boundary=f"b{level}")
    started = time.perf_counter()
    message = parse_message(eml.message(nested))
    assert time.perf_counter() - started < 5
    assert message.attachments == ()  # the file sits below the part limit
    assert any("more than 2000 MIME parts" in defect for defect in message.defects)


def test_the_text_of_a_mail_is_read_without_taking_its_files_apart(monkeypatch):
    """Staff's lists of questions show what the sender wrote on every view: a zip beside the
    question must not be unpacked (sandboxed children) each time the page is drawn."""
    from testing.builders.archives import zip_bytes
    from testing.builders.submission import nomination_mail

    raw = nomination_mail([("材料.zip", zip_bytes([("a.txt", b"x" * 100)]))], body="请问推荐表需要盖章吗？")
    assert "请问推荐表需要盖章吗" in parse_message(raw).body_text

    def no_children(*args, **kwargs):
        raise AssertionError("a child process was started to read the text")

    monkeypatch.setattr(children, "run", no_children)
    monkeypatch.setattr(children, "run_each", no_children)
    from ingest.mime import body_text_of

    assert body_text_of(raw) == "请问推荐表需要盖章吗？"
