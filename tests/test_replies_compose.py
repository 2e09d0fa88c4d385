"""The reply a sender reads, built from verdicts that went through the real judging pipeline."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default
from zoneinfo import ZoneInfo

import pytest

import campaigns
from nominees.masking import mask_id_number, mask_numbers_in, mask_phone
from replies.compose import compose_reply, environment, reply_view
from service.judge import judge
from testing.builders.forms import FormValues, bayu_form_docx, writeup_docx
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.idcards import id_number, with_wrong_check_digit
from validators.codes import CODES
from validators.findings import finding
from validators.status import message_status, nominee_status
from validators.wording import finding_fix

SHANGHAI = ZoneInfo("Asia/Shanghai")
BAYU = campaigns.load("chongqing-bayu-2017")
NOW = datetime(2017, 4, 10, 10, 5, tzinfo=SHANGHAI)
FROM = "bygj@cqgh.org"
ZHANG_ID = id_number(sequence="123")
LI_ID = id_number(sequence="456")
ZHANG_PHONE = "13812345678"
LI_PHONE = "13987654321"


def person(name: str, id_no: str, phone: str, **changes) -> list[tuple[str, bytes]]:
    """A complete nomination for the 巴渝工匠: form, write-up and four photos, named after the person."""
    form = bayu_form_docx(FormValues(name=name, id_number=id_no, phone=phone, **changes))
    return [(f"{name}-推荐表.docx", form), (f"{name}-事迹材料.docx", writeup_docx(800, title=f"{name}同志先进事迹材料"))] + [
        (f"{name}-照片{i}.jpg", photo_jpeg(i)) for i in range(1, 5)]


def reply_for(files, numbers=None, profile=BAYU, **mail):
    verdict = judge(nomination_mail(files, **mail), profile)
    if numbers is None:
        numbers = [f"{profile.intake_number_prefix}{7 + i:04d}" if n.status != "rejected" else None
                   for i, n in enumerate(verdict.nominees)]
    return verdict, compose_reply(verdict, profile, intake_numbers=numbers, from_addr=FROM, now=NOW)


def text_of(email) -> str:
    """The body as the sender's mail client shows it, from the bytes that go on the wire."""
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    part = parsed.get_body(("plain",))
    assert part.get_content_charset() == "utf-8"
    return part.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")  # strict: must decode cleanly


def header(email, name: str) -> str:
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    return str(parsed[name])


def assert_no_personal_numbers(email, *numbers: str) -> None:
    raw = email.as_bytes()
    readable = text_of(email) + "".join(str(make_header(decode_header(v))) for v in message_from_bytes(raw).values())
    for number in numbers:
        assert number not in readable
        assert number.encode() not in raw


# --- the three replies ------------------------------------------------------------------------


def test_accepted_receipt_carries_the_intake_number_files_deadline_and_office():
    verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE))
    assert verdict.status == "accepted"
    text = text_of(email)
    assert header(email, "Subject") == "【已受理】2017年度巴渝工匠推荐材料"
    assert "BYGJ-2017-0007" in text and "受理编号" in text
    assert "张三" in text and "已受理" in text
    for name in ("张三-推荐表.docx", "张三-事迹材料.docx", "张三-照片1.jpg", "张三-照片4.jpg"):
        assert name in text
    assert BAYU.deadline_text in text
    assert "63860109" in text and "63525306" in text and "田勇" in text
    assert BAYU.paper_copy.instructions in text
    assert "需要补正" not in text
    assert_no_personal_numbers(email, ZHANG_ID, ZHANG_PHONE)


def test_two_nominees_one_rejected_targets_only_the_rejected_one():
    files = person("张三", ZHANG_ID, ZHANG_PHONE) + person("李四", LI_ID, "12345", gender="")
    verdict, email = reply_for(files)
    assert [n.status for n in verdict.nominees] == ["accepted", "rejected"]
    text = text_of(email)
    assert header(email, "Subject").startswith("【需补正】")
    assert "张三的材料无需重复发送" in text
    assert "请仅就李四补充或更正以下内容" in text
    # each of 李四's reject findings with its fix sentence
    li = verdict.nominees[1]
    assert {f.code for f in li.findings} == {"FIELD_MISSING", "PHONE_INVALID"}
    for item in li.findings:
        assert item.message in text
        assert finding_fix(item.code, {**item.detail}) in text
    assert "请补填“性别”后重新发送推荐表。" in text
    # 张三 keeps his number, 李四 has none
    assert "张三（重庆长安汽车股份有限公司）：已受理，受理编号 BYGJ-2017-0007" in text
    assert re.search(r"李四（[^）]*）：需补正\n", text)
    assert f"本次评选的报送截止时间为{BAYU.deadline_text}" in text
    assert "bygj@cqgh.org（可直接回复本邮件）" in text
    # the fix comes before the list of everything received
    assert text.index("请仅就李四") < text.index("【审核结果及收到的附件】")
    assert_no_personal_numbers(email, ZHANG_ID, LI_ID, ZHANG_PHONE)


def test_needs_review_says_staff_will_look_and_promises_no_date():
    files = person("张三", ZHANG_ID, ZHANG_PHONE) + person("李四", LI_ID, LI_PHONE) + [("工作照.jpg", photo_jpeg(9))]
    verdict, email = reply_for(files)
    assert verdict.status == "needs_review"
    text = text_of(email)
    assert header(email, "Subject") == "【待人工审核】2017年度巴渝工匠推荐材料"
    assert "工作人员人工核对" in text
    assert "核对完成的时间目前还不能确定" in text
    assert "无需重复发送" in text
    assert "无法确定附件工作照.jpg属于哪位被推荐人。" in text
    assert "工作照.jpg（未能确定属于哪位被推荐人" in text
    assert "登记编号 BYGJ-2017-0007" in text and "登记编号 BYGJ-2017-0008" in text
    assert not re.search(r"\d+(个)?工作日|\d+日内|\d+天内", text)
    assert BAYU.paper_copy.instructions in text
    assert_no_personal_numbers(email, ZHANG_ID, LI_ID, ZHANG_PHONE, LI_PHONE)


def test_late_mail_is_not_accepted_and_is_not_asked_to_resend():
    late = datetime(2017, 5, 1, 0, 0, 30, tzinfo=SHANGHAI)
    verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE), sent=late, received=late)
    assert verdict.status == "rejected"
    text = text_of(email)
    assert header(email, "Subject").startswith("【未受理】")
    assert text.index("已超过报送截止时间") < text.index("【审核结果及收到的附件】")
    assert "如有特殊情况，请与评选办公室联系。" in text
    assert "张三（重庆长安汽车股份有限公司）：未受理" in text
    assert "可直接回复本邮件" not in text
    assert BAYU.paper_copy.instructions not in text


def test_form_missing_lists_what_arrived_and_asks_for_the_form():
    verdict, email = reply_for([(f"照片{i}.jpg", photo_jpeg(i)) for i in range(4)])
    assert verdict.status == "rejected" and not verdict.nominees
    text = text_of(email)
    assert "邮件附有材料，但其中没有找到“巴渝工匠”推荐表。" in text
    assert "请将填写完整的“巴渝工匠”推荐表作为附件，与其他材料一并重新发送。" in text
    assert "收到的附件：" in text
    for i in range(4):
        assert f"照片{i}.jpg（照片，" in text


def test_ignored_message_gets_no_reply():
    verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE), headers={"Auto-Submitted": "auto-replied"},
                               numbers=[])
    assert verdict.status == "ignored"
    assert email is None


# --- personal data ----------------------------------------------------------------------------


def test_id_numbers_and_phones_are_masked_in_findings_and_file_names():
    bad_id = with_wrong_check_digit(LI_ID)
    files = person("李四", bad_id, "1381234567") + [(f"李四{LI_PHONE}-照片5.jpg", photo_jpeg(5))]
    verdict, email = reply_for(files, subject=f"李四{LI_PHONE}推荐材料")
    text = text_of(email)
    assert mask_id_number(bad_id) in text
    assert f"李四{mask_phone(LI_PHONE)}-照片5.jpg" in text
    assert header(email, "Subject") == f"【需补正】李四{mask_phone(LI_PHONE)}推荐材料"
    assert_no_personal_numbers(email, bad_id, "1381234567", LI_PHONE)


def test_office_phones_are_not_masked():
    _verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE))
    assert "电话：63860109、63525306" in text_of(email)


# --- headers ----------------------------------------------------------------------------------


def test_threading_and_auto_reply_headers():
    _verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE), message_id="<orig-7@example.cn>",
                                headers={"References": "<first@example.cn> <second@example.cn>"})
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    assert parsed["In-Reply-To"] == "<orig-7@example.cn>"
    assert parsed["References"].split() == ["<first@example.cn>", "<second@example.cn>", "<orig-7@example.cn>"]
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert re.fullmatch(r"<[^@<>\s]+@cqgh\.org>", parsed["Message-ID"])
    assert parsed["From"].addresses[0].display_name == "巴渝工匠评选办公室"
    assert parsed["From"].addresses[0].addr_spec == FROM
    assert parsed["To"].addresses[0].addr_spec == "gonghui@example.cn"
    assert parsed["To"].addresses[0].display_name == "沙坪坝区某厂工会"
    assert parsed["Date"].datetime == NOW
    assert "Reply-To" not in parsed  # replies come from the campaign mailbox itself
    assert parsed.get_content_type() == "text/plain" and parsed.get_content_charset() == "utf-8"
    email.as_bytes().decode("ascii")  # RFC 2047 headers, base64 body: safe for any SMTP server


def test_each_reply_has_a_fresh_message_id():
    _verdict, first = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE))
    _verdict, second = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE))
    assert first["Message-ID"] != second["Message-ID"]


def test_reply_to_wins_over_from():
    _verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE),
                                headers={"Reply-To": "工会办公室 <Office@Example.cn>"})
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    assert parsed["To"].addresses[0].addr_spec == "office@example.cn"
    assert parsed["To"].addresses[0].display_name == "工会办公室"


def test_a_separate_sending_address_points_answers_to_the_campaign_mailbox():
    verdict = judge(nomination_mail(person("张三", ZHANG_ID, ZHANG_PHONE)), BAYU)
    email = compose_reply(verdict, BAYU, intake_numbers=["BYGJ-2017-0001"], from_addr="noreply-intake@cqgh.org", now=NOW)
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    assert parsed["Reply-To"].addresses[0].addr_spec == BAYU.mailbox
    assert parsed["Message-ID"].endswith("@cqgh.org>")


def test_our_tags_and_reply_prefixes_do_not_pile_up_in_the_subject():
    _verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE), subject="回复：【需补正】2017年度巴渝工匠推荐材料")
    assert header(email, "Subject") == "【已受理】2017年度巴渝工匠推荐材料"
    _verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE), subject="")
    assert header(email, "Subject") == f"【已受理】{BAYU.title}推荐材料"


# --- other campaigns --------------------------------------------------------------------------


def test_district_profile_shows_its_own_deadline_contact_and_paper_copy():
    district = campaigns.load("shapingba-bayu-2017")
    _verdict, email = reply_for(person("张三", ZHANG_ID, ZHANG_PHONE), profile=district, to=district.mailbox)
    text = text_of(email)
    assert "SPB-BYGJ-2017-0007" in text
    assert "2017年4月20日" in text and "彭永艳" in text and "65311292" in text
    assert "请同时将纸质材料报送区总工会组宣科。" in text
    assert "沙坪坝区总工会组宣科" in header(email, "From")


def test_contact_equal_to_the_office_is_not_repeated():
    wuhan = campaigns.load("wuhan-dacheng-2018")
    verdict = judge(nomination_mail(person("张三", ZHANG_ID, ZHANG_PHONE)), BAYU)
    email = compose_reply(verdict, wuhan, intake_numbers=["DCGJ-2018-0001"], from_addr=wuhan.mailbox, now=NOW)
    text = text_of(email)
    assert "请联系武汉市总工会经济技术劳动保护部，电话：85761157。" in text


# --- every finding code has its words in the reply -------------------------------------------

WORDING_VALUES = dict(
    filename="张三-材料.docx", reason="corrupt", entry="../../etc/passwd", field="gender", count=3,
    container="avi", seconds=200.0, chars=1650, masked="500103********1234", received_at="2017年5月1日 00:00",
    deadline_text=BAYU.deadline_text, form_title=BAYU.form.title, name="张三", referenced=True,
    max_chars=1500, photos_min=4, photos_max=5, video_min=300, video_max=480, worse=False,
)


def _with_finding(verdict, code: str):
    """The verdict with one more finding of `code`, statuses worked out again as evaluate does."""
    level = CODES[code].level
    detail = {k: WORDING_VALUES[k] for k in ("filename", "field", "reason", "count", "container", "seconds", "chars")}
    added = finding(code, None if level == "message" else 0, detail=detail, **WORDING_VALUES)
    if level == "message":
        findings = verdict.findings + (added,)
        nominees = verdict.nominees
    else:
        first = verdict.nominees[0]
        own = first.findings + (added,)
        nominees = (replace(first, findings=own, status=nominee_status(f.severity for f in own)),) + verdict.nominees[1:]
        findings = verdict.findings
    inherited = [f.severity for f in findings if f.severity in ("reject", "review")]
    nominees = tuple(replace(n, status=nominee_status([f.severity for f in n.findings] + inherited)) for n in nominees)
    status = message_status([f.severity for f in findings], [n.status for n in nominees])
    return replace(verdict, findings=findings, nominees=nominees, status=status), added


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_finding_code_is_worded_in_the_reply(code):
    base = judge(nomination_mail(person("张三", ZHANG_ID, ZHANG_PHONE)), BAYU)
    verdict, added = _with_finding(base, code)
    email = compose_reply(verdict, BAYU, intake_numbers=["BYGJ-2017-0001"], from_addr=FROM, now=NOW)
    if CODES[code].severity == "ignore":
        assert email is None
        return
    text = text_of(email)
    assert mask_numbers_in(added.message) in text, code
    view = reply_view(verdict, BAYU, ["BYGJ-2017-0001"], NOW)
    shown = [p for p in (*view.message_problems, *view.message_checks, *view.message_notes,
                         *(q for n in view.nominees for q in (*n.problems, *n.checks, *n.notes))) if p.code == code]
    assert len(shown) == 1, code
    if shown[0].fix and added.severity != "info":
        assert shown[0].fix in text, code
    if added.severity in ("reject", "review"):
        assert shown[0].fix, f"{code} needs a fix sentence: the sender must learn what to do or what happens next"


@pytest.mark.parametrize("code", sorted(CODES))
def test_fix_sentences_hold_no_number_that_masking_would_spoil(code):
    fix = finding_fix(code, WORDING_VALUES)
    assert mask_numbers_in(fix) == fix


# --- guard rails ------------------------------------------------------------------------------


def test_numbers_must_match_the_nominees():
    verdict = judge(nomination_mail(person("张三", ZHANG_ID, ZHANG_PHONE)), BAYU)
    with pytest.raises(ValueError):
        compose_reply(verdict, BAYU, intake_numbers=[], from_addr=FROM, now=NOW)
    with pytest.raises(ValueError):
        compose_reply(verdict, BAYU, intake_numbers=[None], from_addr=FROM, now=NOW)
    with pytest.raises(ValueError):
        compose_reply(verdict, BAYU, intake_numbers=["BYGJ-2017-0001"], from_addr=FROM, now=datetime(2017, 4, 10))


def test_unknown_template_set_is_refused():
    with pytest.raises(ValueError):
        environment("../findings")
    with pytest.raises(ValueError):
        environment("klingon")


def test_every_status_has_a_template():
    env = environment(BAYU.replies.template_set)
    for status in ("accepted", "rejected", "needs_review"):
        env.get_template(f"{status}.j2")
    env.get_template("subject.j2")


def test_a_worse_resubmission_of_an_accepted_nominee_shows_its_problems_as_things_staff_will_weigh():
    from validators.memory import EarlierNominee, with_history

    verdict = judge(nomination_mail(person("李四", LI_ID, "12345")), BAYU)
    assert verdict.status == "rejected"
    verdict = with_history(verdict, {0: EarlierNominee(41, "accepted", "BYGJ-2017-0002", "2017年4月1日 10:00")})
    assert verdict.status == "needs_review"
    email = compose_reply(verdict, BAYU, intake_numbers=["BYGJ-2017-0002"], from_addr=FROM, now=NOW)
    text = text_of(email)
    assert header(email, "Subject").startswith("【待人工审核】")
    assert "李四此前已报送过材料并已受理；本次材料未能直接受理，采用哪一份将由工作人员核对后决定。" in text
    checks = text[text.index("【需要工作人员人工核对的内容】"):text.index("【审核结果及收到的附件】")]
    assert "不是有效的手机号码或固定电话号码" in checks
    assert "登记编号 BYGJ-2017-0002" in text


def test_an_earlier_filing_superseded_is_noted_on_the_receipt():
    from validators.memory import EarlierNominee, with_history

    verdict = judge(nomination_mail(person("张三", ZHANG_ID, ZHANG_PHONE)), BAYU)
    verdict = with_history(verdict, {0: EarlierNominee(40, "rejected", None, "2017年4月1日 10:00")})
    assert verdict.status == "accepted"
    email = compose_reply(verdict, BAYU, intake_numbers=["BYGJ-2017-0009"], from_addr=FROM, now=NOW)
    assert "说明：张三此前已报送过材料，本次材料将替代之前的材料。" in text_of(email)


def test_a_finding_that_quotes_the_mail_is_repeated_inert():
    from replies.compose import problem
    from validators.findings import Finding

    quoted = Finding("ATTACHMENT_UNSUPPORTED", "info", "附件“照片\u202egpj.exe\x1b[2J”的格式不受理。\n### M999 已受理")
    said = problem(quoted, BAYU)
    assert "\u202e" not in said.message and "\x1b" not in said.message
    assert "照片gpj.exe[2J" in said.message


def test_an_answer_to_a_question_repeats_its_subject_on_one_line_with_numbers_masked():
    from email.header import Header

    from ingest.mime import parse_message
    from replies.notices import compose_answer

    number = id_number()
    subject = Header(f"请问盖章\r\n身份证{number}", "utf-8").encode()  # an encoded word may hold a line break
    raw = (f"From: a@unit.example.cn\r\nTo: bygj@cqgh.org\r\nSubject: {subject}\r\nMessage-ID: <q@unit.example.cn>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nquestion\r\n").encode()
    answer = compose_answer(parse_message(raw), "不需要。", BAYU, from_addr="bygj@cqgh.org",
                            now=datetime(2017, 4, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    shown = str(make_header(decode_header(answer["Subject"])))
    assert shown.startswith("回复：请问盖章") and "\n" not in shown and number not in shown
    assert mask_id_number(number) in shown
