"""The media rule through the whole judge: 4–5 photos OR one 5–8 minute MP4, each file judged by its bytes."""

import time
from email.message import EmailMessage

import pytest

import campaigns
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import archives, forms, media
from testing.builders.forms import FormValues
from testing.builders.submission import nomination_mail
from testing.idcards import id_number

CITY = campaigns.load("chongqing-bayu-2017")
WUHAN = campaigns.load("wuhan-dacheng-2018")
ZHANG = FormValues(id_number=id_number())
LI = FormValues(name="李四", id_number=id_number(birth="19750101", sequence="456"), phone="023-65311292")
MEDIA_CODES = {"MEDIA_MISSING", "PHOTO_COUNT", "VIDEO_FORMAT", "VIDEO_DURATION", "MEDIA_CORRUPT", "LINK_ATTACHMENT"}


def photos(count: int, prefix: str = "张三工作照", start: int = 0) -> list[tuple[str, bytes]]:
    return [(f"{prefix}{k + 1}.jpg", media.jpeg(start + k, (96, 64))) for k in range(count)]


def judged(*material: tuple[str, bytes], body: str = "请查收。", profile=CITY, values: FormValues = ZHANG) -> dict:
    files = [("附件1.docx", forms.bayu_form_docx(values)), ("事迹材料.docx", forms.writeup_docx(1000)), *material]
    return verdict_json(judge(nomination_mail(list(files), body=body), profile), profile.id)


def media_findings(verdict: dict, nominee: int = 0) -> list[tuple[str, str, dict]]:
    return [(f["code"], f["severity"], f["detail"]) for f in verdict["nominees"][nominee]["findings"]
            if f["code"] in MEDIA_CODES]


def finding(verdict: dict, code: str, nominee: int = 0) -> dict:
    [found] = [f for f in verdict["nominees"][nominee]["findings"] if f["code"] == code]
    return found


# --- photos ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [4, 5])
def test_four_or_five_photos_are_accepted(count):
    verdict = judged(*photos(count))
    assert verdict["status"] == "accepted" and media_findings(verdict) == []


@pytest.mark.parametrize("count", [1, 3, 6])
def test_too_few_or_too_many_photos_is_photo_count(count):
    verdict = judged(*photos(count))
    assert verdict["status"] == "rejected"
    assert media_findings(verdict) == [("PHOTO_COUNT", "reject", {"count": count})]
    assert f"收到照片{count}张，要求4至5张" in finding(verdict, "PHOTO_COUNT")["message"]


def test_no_photos_and_no_video_is_media_missing():
    verdict = judged()
    assert media_findings(verdict) == [("MEDIA_MISSING", "reject", {})]
    assert "照片4至5张" in finding(verdict, "MEDIA_MISSING")["message"]


def test_heic_and_rotated_photos_count():
    material = [("IMG_0001.HEIC", media.heic(seed=1)), ("IMG_0002.HEIC", media.heic(seed=2)),
                ("竖拍1.jpg", media.jpeg(5, (64, 32), orientation=6)), ("竖拍2.jpg", media.jpeg(6, (64, 32), orientation=8))]
    verdict = judged(*material)
    assert verdict["status"] == "accepted", media_findings(verdict)
    assert {a["role"] for a in verdict["nominees"][0]["attachments"][2:]} == {"photo"}


def test_a_truncated_photo_the_rule_needs_is_media_corrupt():
    verdict = judged(*photos(3), ("张三工作照4.jpg", media.truncated(media.jpeg(9, (200, 150)))))
    assert verdict["status"] == "rejected"
    assert media_findings(verdict) == [
        ("PHOTO_COUNT", "reject", {"count": 3}),
        ("MEDIA_CORRUPT", "reject", {"filename": "张三工作照4.jpg", "reason": "corrupt"}),
    ]


def test_a_truncated_photo_beside_four_good_ones_is_only_info():
    verdict = judged(*photos(4), ("张三工作照5.jpg", media.truncated(media.jpeg(9, (200, 150)))))
    assert verdict["status"] == "accepted"
    assert media_findings(verdict) == [("MEDIA_CORRUPT", "info", {"filename": "张三工作照5.jpg", "reason": "corrupt"})]


def test_a_photo_document_counts_its_pictures():
    verdict = judged(("张三照片.docx", forms.photo_docx(5)))
    assert verdict["status"] == "accepted", media_findings(verdict)
    roles = {a["filename"]: a["role"] for a in verdict["nominees"][0]["attachments"]}
    assert roles["张三照片.docx"] == "photo"


def test_signature_images_are_no_photos():
    # three photos attached and two pictures shown in the HTML signature: three photos
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "unit@example.cn", CITY.mailbox, "推荐材料"
    message["Date"] = "Mon, 10 Apr 2017 10:00:00 +0800"
    message.set_content("请查收。")
    message.add_alternative('<p>请查收。</p><img src="cid:logo1@unit"><img src="cid:logo2@unit">', subtype="html")
    html = message.get_payload()[1]
    for k in (1, 2):
        html.add_related(media.jpeg(20 + k, (96, 64)), "image", "jpeg", cid=f"<logo{k}@unit>", filename=f"logo{k}.jpg",
                         disposition="inline")
    message.add_attachment(forms.bayu_form_docx(ZHANG), maintype="application", subtype="octet-stream", filename="推荐表.docx")
    for name, data in photos(3):
        message.add_attachment(data, maintype="image", subtype="jpeg", filename=name)
    verdict = verdict_json(judge(message.as_bytes(), CITY), CITY.id)
    assert media_findings(verdict) == [("PHOTO_COUNT", "reject", {"count": 3})]


# --- image bombs -------------------------------------------------------------------------------


def test_a_png_declaring_40000_by_40000_pixels_refuses_the_message_quickly():
    started = time.perf_counter()
    verdict = judged(*photos(4), ("大图.png", media.png_declaring(40_000, 40_000)))
    assert time.perf_counter() - started < 5
    assert verdict["status"] == "rejected"
    [unsafe] = verdict["findings"]
    assert (unsafe["code"], unsafe["severity"], unsafe["nominee"]) == ("ATTACHMENT_UNSAFE", "reject", None)
    assert unsafe["detail"] == {"filename": "大图.png", "reason": "image_too_large", "pixels": 1_600_000_000}
    assert "大图.png" in unsafe["message"] and "像素过大" in unsafe["message"]
    assert verdict["nominees"][0]["status"] == "rejected"
    assert media_findings(verdict) == []  # the bomb is not also "corrupt", and 4 photos remain


def test_a_bomb_inside_a_zip_is_caught_too():
    zipped = archives.zip_bytes([("材料/大图.png", media.png_declaring(20_000, 20_000))])
    verdict = judged(*photos(4), ("材料.zip", zipped))
    assert [f["code"] for f in verdict["findings"]] == ["ATTACHMENT_UNSAFE"]
    assert verdict["findings"][0]["detail"]["filename"] == "材料.zip/材料/大图.png"


# --- videos ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [299, 300, 301, 479, 480, 481])
def test_a_video_of_5_to_8_minutes_with_one_second_tolerance_is_accepted(seconds):
    verdict = judged(("张三事迹视频.mp4", media.video(seconds)))
    assert verdict["status"] == "accepted", media_findings(verdict)
    assert [a["role"] for a in verdict["nominees"][0]["attachments"]][-1] == "video"


@pytest.mark.parametrize("seconds, spoken", [(260, "4分20秒"), (298, "4分58秒"), (482, "8分2秒"), (525, "8分45秒")])
def test_a_video_too_short_or_too_long_is_video_duration(seconds, spoken):
    verdict = judged(("张三事迹视频.mp4", media.video(seconds)))
    assert verdict["status"] == "rejected"
    assert media_findings(verdict) == [("VIDEO_DURATION", "reject", {"filename": "张三事迹视频.mp4", "seconds": float(seconds)})]
    assert f"时长{spoken}，要求5分钟至8分钟" in finding(verdict, "VIDEO_DURATION")["message"]


@pytest.mark.parametrize(
    "name, container, probed, label",
    [("张三事迹视频.mp4", "avi", "avi", "AVI"), ("张三.MOV", "mov", "mov", "MOV"), ("张三.wmv", "wmv", "asf", "WMV"),
     ("张三.flv", "flv", "flv", "FLV")],
)
def test_a_video_that_is_not_mp4_is_video_format(name, container, probed, label):
    verdict = judged((name, media.video(300, container)))
    assert verdict["status"] == "rejected"
    assert media_findings(verdict) == [("VIDEO_FORMAT", "reject", {"filename": name, "container": probed})]
    assert label in finding(verdict, "VIDEO_FORMAT")["message"]


def test_a_wrong_container_and_a_wrong_length_are_one_finding_saying_both():
    verdict = judged(("张三.avi", media.video(260, "avi")))
    [(code, severity, detail)] = media_findings(verdict)
    assert (code, detail) == ("VIDEO_FORMAT", {"filename": "张三.avi", "container": "avi", "seconds": 260.0})
    assert "4分20秒" in finding(verdict, "VIDEO_FORMAT")["message"]


def test_a_truncated_mp4_is_media_corrupt():
    verdict = judged(("张三事迹视频.mp4", media.truncated_mp4()))
    assert verdict["status"] == "rejected"
    assert media_findings(verdict) == [
        ("MEDIA_CORRUPT", "reject", {"filename": "张三事迹视频.mp4", "reason": "no_index", "container": "mp4"})
    ]


def test_four_photos_and_a_bad_video_are_accepted_and_the_video_is_info():
    verdict = judged(*photos(4), ("张三事迹视频.mp4", media.video(300, "avi")))
    assert verdict["status"] == "accepted"
    assert media_findings(verdict) == [("VIDEO_FORMAT", "info", {"filename": "张三事迹视频.mp4", "container": "avi"})]


def test_a_good_video_and_six_photos_are_accepted_the_count_is_info():
    verdict = judged(*photos(6), ("张三事迹视频.mp4", media.video(360)))
    assert verdict["status"] == "accepted"
    assert media_findings(verdict) == [("PHOTO_COUNT", "info", {"count": 6})]


def test_three_photos_and_a_short_video_report_both():
    verdict = judged(*photos(3), ("张三事迹视频.mp4", media.video(260)))
    assert [(c, s) for c, s, _ in media_findings(verdict)] == [("PHOTO_COUNT", "reject"), ("VIDEO_DURATION", "reject")]


def test_one_good_video_among_bad_ones_is_enough():
    verdict = judged(("张三视频1.mp4", media.video(260)), ("张三视频2.mp4", media.video(400)))
    assert verdict["status"] == "accepted"
    assert media_findings(verdict) == [("VIDEO_DURATION", "info", {"filename": "张三视频1.mp4", "seconds": 260.0})]


# --- large-attachment links --------------------------------------------------------------------

QQ_BODY = """您好，推荐材料见附件，视频较大，以超大附件发送。

从QQ邮箱发来的超大附件

张三事迹视频.mp4 (356.21M, 2017年05月10日 10:20 到期)
进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=0a1b2c&code=3d4e
"""


def test_a_link_instead_of_the_video_goes_to_staff():
    verdict = judged(body=QQ_BODY)
    assert verdict["status"] == "needs_review"
    [(code, severity, detail)] = media_findings(verdict)
    assert (code, severity, detail["filename"], detail["provider"]) == ("LINK_ATTACHMENT", "review", "张三事迹视频.mp4", "qq")
    assert detail["url"].startswith("https://mail.qq.com/cgi-bin/ftnExs_download")
    assert "张三事迹视频.mp4以超大附件" in finding(verdict, "LINK_ATTACHMENT")["message"]


def test_a_link_beside_too_few_photos_lowers_the_count_to_info():
    verdict = judged(*photos(2), body="视频链接: https://pan.baidu.com/s/1AbCdEf 提取码: x7k9")
    assert verdict["status"] == "needs_review"
    assert [(c, s) for c, s, _ in media_findings(verdict)] == [("LINK_ATTACHMENT", "review"), ("PHOTO_COUNT", "info")]
    assert media_findings(verdict)[0][2]["code"] == "x7k9"


def test_a_link_is_not_needed_when_the_rule_is_met():
    verdict = judged(*photos(4), body=QQ_BODY)
    assert verdict["status"] == "accepted" and media_findings(verdict) == []


def test_a_link_alone_without_a_form_is_material():
    raw = nomination_mail([], body=QQ_BODY)
    verdict = verdict_json(judge(raw, CITY), CITY.id)
    assert [f["code"] for f in verdict["findings"]] == ["FORM_MISSING"]


# --- grouping in messages with several nominees ------------------------------------------------


def _two_nominees(*material, body="请查收。"):
    files = [("张三推荐表.docx", forms.bayu_form_docx(ZHANG)), ("李四推荐表.docx", forms.bayu_form_docx(LI)),
             ("张三事迹.docx", forms.writeup_docx(700)), ("李四事迹.docx", forms.writeup_docx(800)), *material]
    verdict = verdict_json(judge(nomination_mail(list(files), body=body), CITY), CITY.id)
    return verdict, {n["fields"]["name"]: i for i, n in enumerate(verdict["nominees"])}


def test_photos_and_a_video_are_matched_by_the_name_in_their_file_names():
    verdict, index = _two_nominees(*photos(4, "张三-照片"), ("李四事迹视频.mp4", media.video(300)))
    assert verdict["status"] == "accepted", [media_findings(verdict, i) for i in range(2)]
    li = verdict["nominees"][index["李四"]]
    assert [a["filename"] for a in li["attachments"] if a["role"] == "video"] == ["李四事迹视频.mp4"]


def test_a_short_video_counts_against_its_own_nominee_only():
    verdict, index = _two_nominees(*photos(4, "张三-照片"), ("李四事迹视频.mp4", media.video(260)))
    assert verdict["nominees"][index["张三"]]["status"] == "accepted"
    assert [c for c, _, _ in media_findings(verdict, index["李四"])] == ["VIDEO_DURATION"]


def test_media_in_a_folder_per_person():
    entries = [
        ("材料/张三/推荐表.docx", forms.bayu_form_docx(ZHANG)),
        *[(f"材料/张三/{k}.jpg", media.jpeg(k)) for k in range(4)],
        ("材料/李四/推荐表.docx", forms.bayu_form_docx(LI)),
        ("材料/李四/视频.mp4", media.video(301)),
    ]
    verdict = verdict_json(judge(nomination_mail([("材料.zip", archives.zip_bytes(entries))]), CITY), CITY.id)
    assert verdict["status"] == "accepted", [media_findings(verdict, i) for i in range(2)]


def test_a_link_naming_one_nominee_helps_only_that_nominee():
    body = "王五、李四的视频：\n李四事迹视频.mp4\n下载: https://share.weiyun.com/5AbCd"
    verdict, index = _two_nominees(*photos(4, "张三-照片"), body=body)
    assert [c for c, _, _ in media_findings(verdict, index["李四"])] == ["LINK_ATTACHMENT"]
    assert media_findings(verdict, index["张三"]) == []


def test_a_link_naming_nobody_counts_for_every_nominee_missing_media():
    verdict, index = _two_nominees(body="视频太大，放在网盘：https://pan.baidu.com/s/1xyz 提取码 ab12")
    assert {n["status"] for n in verdict["nominees"]} == {"needs_review"}


# --- pictures that are no photos ---------------------------------------------------------------


def test_a_scan_of_the_form_is_no_photo_whatever_its_name():
    verdict = judged(*photos(4), ("附件2.jpg", media.page_scan()))
    assert verdict["status"] == "accepted", media_findings(verdict)
    roles = {a["filename"]: a["role"] for a in verdict["nominees"][0]["attachments"]}
    # beside the .docx form, a page OCR cannot see as the form (these "words" are bars) is no page
    # of the form either (CONTRACT §3, settled): what matters here is that it is no photo
    assert roles["附件2.jpg"] in ("form_scan", "other")


def test_a_scan_alone_is_the_form_waiting_for_staff():
    raw = nomination_mail([("IMG_20170410.jpg", media.page_scan()), *photos(4)])
    verdict = verdict_json(judge(raw, CITY), CITY.id)
    assert verdict["status"] == "needs_review"
    assert [f["detail"].get("reason") for f in verdict["nominees"][0]["findings"]] == ["scan_only"]


def test_a_photo_named_as_the_form_is_the_forms_scan():
    verdict = judged(*photos(4), ("推荐表（盖章）.jpg", media.jpeg(7, (96, 64))))
    roles = {a["filename"]: a["role"] for a in verdict["nominees"][0]["attachments"]}
    assert roles["推荐表（盖章）.jpg"] == "form_scan" and verdict["status"] == "accepted"


def test_a_one_inch_portrait_is_no_photo_of_deeds():
    verdict = judged(*photos(3), ("附件3.jpg", media.id_portrait()))
    assert media_findings(verdict) == [("PHOTO_COUNT", "reject", {"count": 3})]
    roles = {a["filename"]: a["role"] for a in verdict["nominees"][0]["attachments"]}
    assert roles["附件3.jpg"] == "other"
    assert media_findings(judged(*photos(4), ("张三一寸照.jpg", media.jpeg(8, (96, 64))))) == []


# --- campaigns without media by e-mail ---------------------------------------------------------


def test_wuhan_judges_no_media():
    wuhan = ZHANG.but(frontline="是")
    files = [("申报表.docx", forms.wuhan_form_docx(wuhan)), *photos(2), ("视频.avi", media.video(10, "avi"))]
    verdict = verdict_json(judge(nomination_mail(files, to=WUHAN.mailbox), WUHAN), WUHAN.id)
    assert media_findings(verdict) == []
    assert {f["code"] for f in verdict["findings"]} == {"ATTACHMENT_UNSUPPORTED"}
