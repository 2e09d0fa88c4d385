"""CONTRACT §3's settled cases about mail as real clients send it: QQ/Foxmail photos put into the
body, Apple Mail's resource forks, Outlook's winmail.dat, 3GP, durations, CST, a link beside too
few photos, a blank form with a question and a form pasted into the body."""

from __future__ import annotations

import pytest

import campaigns
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import archives, eml, forms, media
from testing.builders.forms import FormValues
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.idcards import id_number

CITY = campaigns.load("chongqing-bayu-2017")
ZHANG = FormValues(id_number=id_number())
FORM = ("附件1.docx", forms.bayu_form_docx(ZHANG))
WRITEUP = ("张三事迹材料.docx", forms.writeup_docx(1200))
QQ_LINK = ("\n从QQ邮箱发来的超大附件\n张三事迹视频.mp4 (356.21M, 2017年05月10日 10:20 到期)\n"
           "进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=0a3b5c7d&code=1f2e")


def shown(raw: bytes, **kwargs) -> dict:
    return verdict_json(judge(raw, CITY, **kwargs), CITY.id)


def codes(verdict: dict) -> list[str]:
    return [f["code"] for f in verdict["findings"]] + [f["code"] for n in verdict["nominees"] for f in n["findings"]]


def roles(verdict: dict) -> dict[str, str]:
    return {a["filename"]: a["role"] for n in verdict["nominees"] for a in n["attachments"]}


# --- photos put into the body ------------------------------------------------------------------------


def test_photos_put_into_a_qq_mail_body_count_as_photos():
    photos = [(f"张三工作照{i}.jpg", photo_jpeg(i, size=(800, 600))) for i in range(1, 5)]
    raw = eml.qq_mail("您好，附件是张三的推荐表，照片见正文。", [FORM, WRITEUP], inline=photos)
    verdict = shown(raw)
    assert verdict["status"] == "accepted", codes(verdict)
    assert {name: role for name, role in roles(verdict).items() if name.endswith(".jpg")} == {
        name: "photo" for name, _ in photos}


def test_a_small_logo_in_the_body_is_no_photo():
    logo = ("logo.png", forms.png_bytes((200, 30, 30), (180, 60)))
    photos = [(f"张三工作照{i}.jpg", photo_jpeg(i, size=(800, 600))) for i in range(1, 5)]
    verdict = shown(eml.qq_mail("您好，请查收。\n——某厂工会", [FORM, WRITEUP], inline=[*photos, logo]))
    assert verdict["status"] == "accepted", codes(verdict)
    assert "logo.png" not in roles(verdict)


# --- Apple Mail and Outlook ---------------------------------------------------------------------------


def test_apple_mail_resource_forks_are_dropped_unseen():
    photos = [(f"张三工作照{i}.jpg", photo_jpeg(i)) for i in range(1, 5)]
    files = [("张三推荐表.docx", FORM[1]), WRITEUP, *photos]
    verdict = shown(eml.apple_mail("您好，附件是推荐材料。", files))
    assert codes(verdict) == [] and verdict["status"] == "accepted"
    assert sorted(roles(verdict)) == sorted(name for name, _ in files)


def test_appledouble_files_in_a_zip_made_on_a_mac_are_dropped_unseen():
    fork = b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"\x00" * 60
    entries = [("张三/推荐表.docx", FORM[1]), ("张三/事迹材料.docx", WRITEUP[1]),
               ("__MACOSX/张三/._推荐表.docx", fork), ("张三/推荐表.docx.rsrc", fork),
               *((f"张三/照片{i}.jpg", photo_jpeg(i)) for i in range(4))]
    verdict = shown(nomination_mail([("材料.zip", archives.zip_bytes(entries))]))
    assert verdict["status"] == "accepted", codes(verdict)
    assert not any("rsrc" in name or name.startswith("._") for name in roles(verdict))


def test_outlook_winmail_dat_is_unpacked_and_its_files_judged():
    photos = [(f"张三工作照{i}.jpg", photo_jpeg(i)) for i in range(1, 5)]
    verdict = shown(eml.outlook_mail("您好，附件是推荐材料，请查收。", [FORM, WRITEUP, *photos]))
    assert verdict["status"] == "accepted", codes(verdict)
    assert roles(verdict) == {"附件1.docx": "form", "张三事迹材料.docx": "writeup", **{n: "photo" for n, _ in photos}}


def test_a_winmail_dat_that_only_formats_a_question_is_no_material():
    verdict = shown(eml.outlook_mail("请问巴渝工匠推荐表在哪里下载？", []))
    assert codes(verdict) == ["NOT_SUBMISSION"]


# --- videos ---------------------------------------------------------------------------------------------


def _with_video(name: str, data: bytes) -> bytes:
    return nomination_mail([FORM, WRITEUP, (name, data)])


@pytest.mark.parametrize("major", [b"3gs7", b"3gr6", b"3gh9"])
def test_3gp_by_its_major_brand_is_not_mp4_even_with_isom(major):
    data = bytearray(media.video(300, "3gp"))
    data[8:12] = major
    verdict = shown(_with_video("张三事迹视频.mp4", bytes(data)))
    [finding] = [f for f in verdict["nominees"][0]["findings"] if f["code"] == "VIDEO_FORMAT"]
    assert finding["detail"]["container"] == "3gp"


@pytest.mark.parametrize("seconds", [481.004, 298.996])
def test_a_duration_just_outside_the_tolerance_is_not_rounded_into_it(seconds):
    # 250 frames a second: a container whose duration is 4 ms past the tolerance
    verdict = shown(_with_video("张三事迹视频.mp4", media.video(seconds, "mp4", (16, 16), 250)))
    assert "VIDEO_DURATION" in codes(verdict)
    assert verdict["status"] == "rejected"


# --- CST --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stamp", [
    "Sun, 30 Apr 2017 23:59:00 GMT+0800 (CST)", "Sun, 30 Apr 2017 23:59:00 cst", "Sun, 30 Apr 2017 23:59:00 (CST)",
    "Sun, 30 Apr 2017 23:59:00 CST(+0800)", "Sun, 30 Apr 2017 23:59:00 GMT+08:00",
])
def test_cst_in_a_received_header_is_china_time(stamp):
    raw = eml.message(eml.multipart("mixed", eml.text("推荐材料"), eml.attachment(FORM[1], 'name="a.docx"')),
                      received=[f"from smtp.qq.com by mx.cqgh.org with ESMTP id X; {stamp}"])
    verdict = shown(raw)
    assert verdict["received_at"] == "2017-04-30T23:59:00+08:00"
    assert "LATE" not in codes(verdict)


# --- a link beside too few photos --------------------------------------------------------------------------


def test_three_photos_and_a_large_attachment_link_go_to_staff():
    photos = [(f"张三工作照{i}.jpg", photo_jpeg(i)) for i in range(1, 4)]
    verdict = shown(eml.qq_mail("您好，附件是张三的推荐材料，视频较大，见超大附件。" + QQ_LINK, [FORM, WRITEUP, *photos]))
    assert verdict["status"] == "needs_review", codes(verdict)
    [nominee] = verdict["nominees"]
    severities = {f["code"]: f["severity"] for f in nominee["findings"]}
    assert severities.get("LINK_ATTACHMENT") == "review"
    assert severities.get("PHOTO_COUNT") in (None, "info")


# --- a blank form with a question, a form in the body ----------------------------------------------------


def test_a_blank_form_attached_to_a_question_is_not_a_submission():
    blank = FormValues(name="", gender="", birth="", ethnicity="", politics="", education="", id_number="",
                       phone="", employer="", position="", skill_level="", years="", channel="", frontline="",
                       unit_category="", recommending_unit="", deeds=(), honors="", unit_opinion="")
    raw = nomination_mail([("巴渝工匠推荐表.docx", forms.bayu_form_docx(blank, stamped=False))],
                          body="您好，请问附件这个推荐表的推荐方式一栏怎么填？个人可以自荐吗？谢谢！")
    assert codes(shown(raw)) == ["NOT_SUBMISSION"]


def test_a_form_pasted_into_the_body_is_read_as_the_form():
    body = ("“巴渝工匠”推荐表\n"
            f"姓名：张三　性别：男　出生年月：1980.05\n身份证号码：{ZHANG.id_number}\n联系电话：13812345678\n"
            "工作单位：重庆长安汽车股份有限公司\n岗位/工种：数控车工\n推荐方式：个人自荐\n"
            "主要事迹：\n" + "\n".join(forms.DEEDS))
    photos = [(f"张三工作照{i}.jpg", photo_jpeg(i)) for i in range(1, 5)]
    verdict = shown(nomination_mail(photos, body=body))
    assert verdict["status"] == "accepted", codes(verdict)
    [nominee] = verdict["nominees"]
    assert nominee["fields"]["name"] == "张三" and nominee["fields"]["channel"] == "self"


def test_a_crafted_winmail_dat_of_endless_small_attributes_is_cut_off_and_kept_as_it_came():
    import struct
    import time

    from campaigns.limits import DEFAULT_LIMITS
    from ingest.mime import parse_message

    tiny = struct.pack("<BHHI", 1, 0x0001, 0x0006, 1) + b"x" + struct.pack("<H", ord("x"))  # 1 byte of nothing known
    packed = struct.pack("<IH", 0x223E9F78, 1) + tiny * 300_000  # each attribute makes tnefparse copy the rest
    raw = eml.message(eml.multipart("mixed", eml.text("推荐材料"),
                                    eml.attachment(packed, 'name="winmail.dat"', ctype="application/ms-tnef")))
    started = time.monotonic()
    message = parse_message(raw, limits=DEFAULT_LIMITS.model_copy(update={"file_parse_seconds": 2}))
    assert time.monotonic() - started < 10
    assert [a.filename for a in message.attachments] == ["winmail.dat"]


def test_a_form_table_pasted_into_an_html_body_is_read_as_the_form():
    rows = [("姓名", "张三", "性别", "男"), ("身份证号码", ZHANG.id_number, "联系电话", "13812345678"),
            ("工作单位", "重庆长安汽车股份有限公司", "岗位/工种", "数控车工"),
            ("推荐方式", "组织推荐（ ）社会举荐（ ）个人自荐（√）", "主要事迹", "。".join(forms.DEEDS))]
    table = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    html = f"<html><body><div>您好，推荐表贴在下面：</div><p>“巴渝工匠”推荐表</p><table border=1>{table}</table></body></html>"
    photos = [eml.attachment(photo_jpeg(i), f'name="{eml.b_words(f"张三照片{i}.jpg")}"', ctype="image/jpeg")
              for i in range(1, 5)]
    verdict = shown(eml.message(eml.multipart("mixed", eml.text(html, "html", "UTF-8"), *photos), mailer="Foxmail 7.2"))
    assert verdict["status"] == "accepted", codes(verdict)
    assert verdict["nominees"][0]["fields"]["channel"] == "self"


def test_a_blank_form_and_the_notice_attached_to_a_question_are_not_a_submission():
    blank = FormValues(name="", gender="", id_number="", phone="", employer="", position="", channel="",
                       recommending_unit="", deeds=(), honors="", unit_opinion="")
    notice = forms.writeup_docx(300, title="关于开展2017年度“巴渝工匠”评选活动的通知")
    raw = nomination_mail([("附件：推荐表.docx", forms.bayu_form_docx(blank, stamped=False)), ("通知.docx", notice)],
                          body="您好，我们是企业工会，请问附件的表格由谁盖章？")
    assert codes(shown(raw)) == ["NOT_SUBMISSION"]
