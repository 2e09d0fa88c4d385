"""The district forwards upward: 沙坪坝区's intake (`shapingba-bayu-2017`, real Dovecot) files a
mailbox of mixed submissions, `intake forward` packs the accepted ones for the city, and the
city's own intake (`chongqing-bayu-2017`, its own mailbox, config and database) reads the
forwarded mail and accepts the same people with the same fields and files. Then a supplement
(one message per nominee under a tiny size limit, numbered), and `--send` over aiosmtpd.

The district's first poll runs once for the module; each test starts from its own copy of it,
with its own city mailbox and SMTP server. Only the story test polls the district's mailbox again.
"""

from __future__ import annotations

import email
import shutil
from collections import Counter, deque
from datetime import datetime
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import select

from service.config import load_config
from storage.db import make_engine
from storage.db import session as new_session
from storage.models import AttachmentRow, FindingRow, ForwardMessageRow, ForwardNomineeRow, NomineeRow
from testing.builders import forms, media, seals
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.service import database_of, intake, write_config
from testing.smtp_server import SmtpServer

DISTRICT_BOX, CITY_BOX = "704234263@qq.com", "bygj@cqgh.org"
AT_DISTRICT = datetime(2017, 4, 15, 10, 0, tzinfo=SHANGHAI)
AT_CITY = datetime(2017, 4, 25, 9, 0, tzinfo=SHANGHAI)  # before the city's deadline (2017-05-01)
SHEET = "沙坪坝区总工会推荐人选汇总表.xlsx"
FIELDS = ("name", "id_number", "channel", "employer", "phone")


def person(name: str, n: int, channel: str = "个人自荐") -> FormValues:
    return FormValues(name=name, id_number=id_number(region="500106", sequence=f"{n:03d}"), channel=channel,
                      employer=f"重庆沙坪坝第{n}机械厂", recommending_unit=f"重庆沙坪坝第{n}机械厂工会")


def submission(tag: str, values: FormValues, n: int, *, photos: int = 4, arrival: datetime = AT_DISTRICT,
               extra: tuple = (), stamped: bool | None = None) -> tuple:
    files = [(f"{values.name}-推荐表.docx", forms.bayu_form_docx(values, stamped=stamped)),
             (f"{values.name}-事迹材料.docx", forms.writeup_docx(800, title=f"{values.name}同志先进事迹材料"))]
    files += [(f"{values.name}-照片{i + 1}.jpg", photo_jpeg(n * 10 + i, size=(96, 72))) for i in range(photos)]
    files += list(extra)
    raw = nomination_mail(files, message_id=f"<{tag}@spb.example.cn>", sender=f"{tag} <{tag}@spb.example.cn>",
                          to=DISTRICT_BOX, subject="巴渝工匠推荐材料", sent=arrival)
    return raw, arrival


def stamped_photo(values: FormValues) -> bytes:
    """The printed form with the unit's red seal, photographed by phone (JPEG quality 60)."""
    data, _, _ = seals.ocr_scan(3, "photo_jpg", stamped=True, values=values)
    return data


WANG = person("王五", 3, "组织推荐")  # a unit's nomination: the .docx as typed, the seal on the photo of the print
FIRST = {  # accepted: 张三, 李四 (社会举荐, a video), 王五 (组织推荐, stamped photo of the form);
    # rejected: 赵六 (no photos), 孙七 (late), 钱十一 (组织推荐 without the unit's seal)
    "zhang": submission("zhang", person("张三", 1), 1),
    "li": submission("li", person("李四", 2, "社会举荐"), 2, photos=0, extra=(("李四事迹视频.mp4", media.video(360)),)),
    "wang": submission("wang", WANG, 3, photos=5, stamped=False,
                       extra=(("王五-推荐表（盖章）.jpg", stamped_photo(WANG)),)),
    "zhao": submission("zhao", person("赵六", 4), 4, photos=0),
    "sun": submission("sun", person("孙七", 5), 5, arrival=datetime(2017, 4, 21, 9, 0, tzinfo=SHANGHAI)),
    "qian": submission("qian", person("钱十一", 9, "组织推荐"), 9, stamped=False),
}


def configure(folder: Path, box, smtp, campaign: str, from_addr: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, box, smtp)
    text = config.read_text(encoding="utf-8")
    text = text.replace('campaign = "chongqing-bayu-2017"', f'campaign = "{campaign}"')
    text = text.replace('from_addr = "bygj@cqgh.org"', f'from_addr = "{from_addr}"')
    config.write_text(text + extra, encoding="utf-8")
    return config


def rows(config: Path):
    """Current nominees and, per nominee id, its attachments' roles."""
    engine = make_engine(database_of(config))
    with new_session(engine) as session:
        nominees = session.exec(select(NomineeRow).where(NomineeRow.superseded_by.is_(None))
                                .order_by(NomineeRow.id)).all()
        # the summary sheet is no nominee's file, also in a one-person part of a split batch
        files = {n.id: Counter(a.role for a in session.exec(select(AttachmentRow)
                                                            .where(AttachmentRow.nominee_id == n.id)).all())
                 for n in nominees}
        forwarded = session.exec(select(ForwardMessageRow).order_by(ForwardMessageRow.id)).all()
        carried = {r.nominee_id: r.forward_message_id for r in session.exec(select(ForwardNomineeRow)).all()}
    engine.dispose()
    return SimpleNamespace(nominees=nominees, files=files, forwarded=forwarded, carried=carried)


def accepted(state) -> dict[str, NomineeRow]:
    return {n.name: n for n in state.nominees if n.status == "accepted"}


def forwarded_mails(output: str) -> list[Path]:
    return [Path(line.split()[-1]) for line in output.splitlines() if line.strip().endswith(".eml")]


def to_city(world, paths: list[Path]) -> None:
    for path in paths:
        world.city_box.append(path.read_bytes(), internaldate=AT_CITY)
    intake(world.city, "poll", "--once")


def assert_same_on_both_sides(world, names: set[str]) -> None:
    district, city = rows(world.district), rows(world.city)
    here, there = accepted(district), accepted(city)
    assert names <= set(there), (names, {n.name: n.status for n in city.nominees})
    for name in names:
        ours, theirs = here[name], there[name]
        for key in FIELDS:
            assert theirs.fields.get(key) == ours.fields.get(key), (name, key)
        assert city.files[theirs.id] == district.files[ours.id], name  # same roles, same counts
    assert not {"赵六", "孙七", "钱十一"} & {n.name for n in city.nominees}  # the district's rejections stay there


@pytest.fixture(scope="module")
def district_polled(tmp_path_factory, dovecot):
    folder = tmp_path_factory.mktemp("forward")
    box = dovecot.add_user("district")
    for raw, arrival in FIRST.values():
        box.append(raw, internaldate=arrival)
    with SmtpServer() as smtp:
        config = configure(folder / "district", box, smtp, "shapingba-bayu-2017", DISTRICT_BOX)
        assert "登记 6 封" in intake(config, "poll", "--once").stdout
    return SimpleNamespace(box=box, data=folder / "district" / "data")


@pytest.fixture
def world(district_polled, dovecot, tmp_path):
    shutil.copytree(district_polled.data, tmp_path / "district" / "data")
    city_box = dovecot.add_user("city")
    with SmtpServer() as smtp:
        district = configure(tmp_path / "district", district_polled.box, smtp, "shapingba-bayu-2017", DISTRICT_BOX)
        city = configure(tmp_path / "city", city_box, smtp, "chongqing-bayu-2017", CITY_BOX)
        yield SimpleNamespace(district=district, city=city, district_box=district_polled.box, city_box=city_box,
                              smtp=smtp, folder=tmp_path)


def test_the_district_files_three_accepted_and_three_rejected(world):
    state = rows(world.district)
    assert {n.name: n.status for n in state.nominees} == {"张三": "accepted", "李四": "accepted", "王五": "accepted",
                                                          "赵六": "rejected", "孙七": "rejected", "钱十一": "rejected"}
    by_name = {n.name: n for n in state.nominees}
    assert by_name["王五"].seal["present"] and by_name["王五"].seal["where"] == "王五-推荐表（盖章）.jpg"
    assert not by_name["钱十一"].seal["present"]
    assert _codes(world.district, by_name["钱十一"].id) == {"SEAL_MISSING"}
    assert "SEAL_MISSING" not in _codes(world.district, by_name["王五"].id)
    assert by_name["张三"].seal is None  # 个人自荐 needs no seal


def _codes(config: Path, nominee_id: int) -> set[str]:
    engine = make_engine(database_of(config))
    with new_session(engine) as session:
        found = session.exec(select(FindingRow.code).where(FindingRow.nominee_id == nominee_id)).all()
    engine.dispose()
    return set(found)


def test_the_first_forward_is_accepted_by_the_city_with_the_same_fields_and_files(world):
    done = intake(world.district, "forward", "--campaign", "shapingba-bayu-2017", "--by", "彭永艳")
    paths = forwarded_mails(done.stdout)
    assert len(paths) == 1 and "报送 3 人，1 封邮件" in done.stdout
    mail = email.message_from_bytes(paths[0].read_bytes(), policy=policy.default)
    assert mail["Auto-Submitted"] is None and mail["To"].addresses[0].addr_spec == CITY_BOX
    assert mail["From"].addresses[0].addr_spec == DISTRICT_BOX and "补充" not in mail["Subject"]
    letter = mail.get_body(("plain",)).get_content()
    assert "推荐单位：沙坪坝区总工会" in letter and "彭永艳" in letter and "65311292" in letter
    assert all(name in letter for name in ("张三", "李四", "王五")) and "赵六" not in letter
    names = [part.get_filename() for part in mail.iter_attachments()]
    assert names[0].endswith(".zip") and names[1] == SHEET
    sheet = _sheet(next(p for p in mail.iter_attachments() if p.get_filename().endswith(".xlsx")))
    assert [row["姓名"] for row in sheet] == ["张三", "李四", "王五"]
    assert {row["推荐单位"] for row in sheet} == {"沙坪坝区总工会"}
    assert sheet[1]["推荐方式"] == "社会举荐" and sheet[0]["推荐表所填推荐单位"] == "重庆沙坪坝第1机械厂工会"

    to_city(world, paths)
    assert_same_on_both_sides(world, {"张三", "李四", "王五"})
    city = rows(world.city)
    there = accepted(city)
    assert city.files[there["李四"].id] == Counter(form=1, writeup=1, video=1)
    assert city.files[there["王五"].id] == Counter(form=1, form_scan=1, writeup=1, photo=5)
    assert there["王五"].seal["present"]  # the city sees the unit's seal on the forwarded photo of the form
    assert len({there[name].message_id for name in ("张三", "李四", "王五")}) == 1  # one unit's batch
    state = rows(world.district)
    assert len(state.forwarded) == 1 and state.forwarded[0].state == "written"
    assert set(state.carried) == {n.id for n in accepted(state).values()}

    again = intake(world.district, "forward", "--campaign", "shapingba-bayu-2017")
    assert "没有新受理、尚未报送的推荐人选" in again.stdout and not forwarded_mails(again.stdout)


def _sheet(part) -> list[dict]:
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(part.get_content()))["名单"]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row)) for row in values[1:]]


def _first_forward(world) -> None:
    to_city(world, forwarded_mails(intake(world.district, "forward", "--by", "彭永艳").stdout))


def test_supplements_split_then_sent_then_shown_in_status_and_purged(world):
    """The campaign's story after the first forward: its three steps, each asserted where it happens."""
    _first_forward(world)
    _a_supplement_split_under_a_tiny_limit_carries_only_the_new_ones(world)
    _send_delivers_the_batch_over_smtp_and_records_it(world)
    _status_shows_the_forwards_and_purge_removes_the_forwarded_mail(world)


def _a_supplement_split_under_a_tiny_limit_carries_only_the_new_ones(world):
    for tag, values, n in (("zhou", person("周八", 6), 6), ("wu", person("吴九", 7, "社会举荐"), 7)):
        raw, _ = submission(tag, values, n, arrival=datetime(2017, 4, 19, 16, 0, tzinfo=SHANGHAI))
        world.district_box.append(raw, internaldate=datetime(2017, 4, 19, 16, 0, tzinfo=SHANGHAI))
    intake(world.district, "poll", "--once")
    text = world.district.read_text(encoding="utf-8")
    world.district.write_text(text + "\n[forward]\nmax_message_bytes = 10000\n", encoding="utf-8")
    try:
        done = intake(world.district, "forward", "--by", "彭永艳")
    finally:
        world.district.write_text(text, encoding="utf-8")
    paths = forwarded_mails(done.stdout)
    assert "补充报送 2 人，2 封邮件" in done.stdout and len(paths) == 2
    subjects = [email.message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"] for p in paths]
    assert subjects[0].startswith("沙坪坝区总工会补充报送") and subjects[0].endswith("（1/2）")
    assert subjects[1].endswith("（2/2）")
    for path in paths:  # each mail carries its own people only
        letter = email.message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
        assert "张三" not in letter.split("附件含：")[1]

    before = {n.name for n in rows(world.city).nominees}
    to_city(world, paths)
    city = rows(world.city)
    assert_same_on_both_sides(world, {"张三", "李四", "王五", "周八", "吴九"})
    assert Counter(n.name for n in city.nominees if n.name in before) == Counter(before)  # none sent twice
    district = rows(world.district)
    assert [m.parts for m in district.forwarded] == [1, 2, 2]
    assert len({district.carried[accepted(district)[name].id] for name in ("周八", "吴九")}) == 2


def _send_delivers_the_batch_over_smtp_and_records_it(world):
    raw, _ = submission("zheng", person("郑十", 8), 8, arrival=datetime(2017, 4, 20, 11, 0, tzinfo=SHANGHAI))
    world.district_box.append(raw, internaldate=datetime(2017, 4, 20, 11, 0, tzinfo=SHANGHAI))
    intake(world.district, "poll", "--once")
    delivered_before = len(world.smtp.messages)
    world.smtp.handler.script["DATA"] = deque(["451 4.3.0 try again later"])  # the first attempt fails
    done = intake(world.district, "forward", "--send", "--by", "彭永艳")
    assert "补充报送 1 人，1 封邮件" in done.stdout and "已发送 0 封，未发出 1 封" in done.stdout
    assert "451" in done.stdout and rows(world.district).forwarded[-1].state == "failed"
    again = intake(world.district, "forward", "--send", "--by", "彭永艳")  # nothing new; the failed one goes
    assert "没有新受理" in again.stdout and "已发送 1 封，未发出 0 封" in again.stdout
    ours = [m for m in world.smtp.messages[delivered_before:] if CITY_BOX in m.rcpt_tos]
    assert len(ours) == 1 and ours[0].mail_from == DISTRICT_BOX
    written = forwarded_mails(done.stdout)[0].read_bytes()
    assert ours[0].content.replace(b"\r\n", b"\n") == written.replace(b"\r\n", b"\n")
    state = rows(world.district)
    assert state.forwarded[-1].state == "sent" and state.forwarded[-1].sent_at is not None
    assert state.forwarded[-1].attempts == 2 and len(state.forwarded) == 4

    world.city_box.append(ours[0].content, internaldate=AT_CITY)
    intake(world.city, "poll", "--once")
    assert_same_on_both_sides(world, {"张三", "李四", "王五", "周八", "吴九", "郑十"})
    assert "没有新受理" in intake(world.district, "forward", "--send").stdout


def _status_shows_the_forwards_and_purge_removes_the_forwarded_mail(world):
    """The forwarded .eml files and their raw copies hold ID numbers in full, like raw mail."""
    status = intake(world.district, "status").stdout
    assert "报送上级（chongqing-bayu-2017）：邮件 已写出待人工发送 3，已发送 1；已报送 6 人，受理待报送 0 人" in status
    written = [Path(m.path) for m in rows(world.district).forwarded]
    assert len(written) == 4 and all(path.exists() for path in written)
    said = intake(world.district, "purge", "--campaign", "shapingba-bayu-2017", "--yes").stdout
    assert not any(path.exists() for path in written)
    assert all(str(path) in said for path in written)
    blobs = load_config(world.district).data_path / "blobs"
    left = [m for m in rows(world.district).forwarded if (blobs / m.raw_sha256[:2] / m.raw_sha256).exists()]
    assert left == []
    assert "报送上级" not in intake(world.city, "status").stdout  # the city forwards nowhere
