"""A budget per message (issue 18): decoded pixels and reading time for all its photos and videos.

The attack: many small HEIC files that each decode to just under the per-picture limit (100
megapixels), so that no single one is a bomb while the message costs CPU and memory without
end. Through the real service it is refused within `message_media_pixels` (the photos past it
are not decoded); the same budget in time stops photos and videos alike.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlmodel import select

from campaigns.limits import DEFAULT_LIMITS, Limits
from parsers.media import Budget, probe_many
from parsers.types import FileData
from storage.db import make_engine
from storage.db import session as new_session
from storage.models import AttachmentRow, FindingRow
from testing.builders import forms, media
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail
from testing.idcards import id_number
from testing.service import database_of, intake, records, reply_texts, write_config

ARRIVED = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)
PIXELS = 10000 * 9999  # one HEIC's picture: under image_max_pixels, so no bomb on its own


def test_a_flood_of_heic_files_is_refused_within_the_message_budget(tmp_path, mailbox, smtp_server):
    count = DEFAULT_LIMITS.message_media_pixels // PIXELS + 4  # four more than the budget pays for
    photos = [(f"照片{k + 1}.heic", data) for k, data in enumerate(media.heic_flood(count))]
    values = FormValues(name="吴十", id_number=id_number(sequence="401"))
    mailbox.append(nomination_mail([("推荐表.docx", forms.bayu_form_docx(values)),
                                    ("事迹材料.docx", forms.writeup_docx(900)), *photos]),
                   internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    started = time.monotonic()
    intake(config, "poll", "--once")
    took = time.monotonic() - started

    [message], _, _ = records(config)
    engine = make_engine(database_of(config))
    with new_session(engine) as session:
        [unsafe] = session.exec(select(FindingRow).where(FindingRow.code == "ATTACHMENT_UNSAFE")).all()
        probes = [a.probe for a in session.exec(select(AttachmentRow)).all() if a.filename.endswith(".heic")]
    engine.dispose()
    assert message.status == "rejected"
    assert unsafe.detail["reason"] == "media_pixels_budget" and unsafe.detail["files"] == 4
    assert unsafe.detail["figure"] > DEFAULT_LIMITS.message_media_pixels
    decoded = [p for p in probes if p["decodable"]]
    assert len(probes) == count and len(decoded) == count - 4  # what the budget paid for, and no more
    assert sum(p["width"] * p["height"] for p in decoded) <= DEFAULT_LIMITS.message_media_pixels
    assert "超过单封邮件的处理上限" in unsafe.text and "等4个文件未处理" in unsafe.text
    assert "超过单封邮件的处理上限" in "".join(reply_texts(smtp_server).values())
    assert took < DEFAULT_LIMITS.message_media_seconds


def _files(items: list[tuple[str, bytes, str]]) -> list[FileData]:
    return [FileData(name, data, media_type) for name, data, media_type in items]


def test_the_pixel_budget_decodes_what_it_pays_for_and_names_the_figure():
    photos = _files([(f"照片{k}.jpg", media.jpeg(k, (1000, 1000)), "image/jpeg") for k in range(4)]
                    + [("小图.jpg", media.jpeg(9, (100, 100)), "image/jpeg")])  # it would fit, but comes after
    probes = probe_many(photos, Limits(message_media_pixels=2_500_000), workers=1)
    assert [p.problem for p in probes] == [None, None, *["media_pixels_budget"] * 3]
    assert [p.figure for p in probes] == [None, None, 3_000_000, 3_000_000, 2_010_000]
    assert all(p.unsafe for p in probes[2:])


def test_the_time_budget_stops_photos_and_videos_alike():
    files = _files([("照片.jpg", media.jpeg(1, (400, 300)), "image/jpeg"),
                    ("视频.mp4", media.video(360), "video/mp4")])
    probes = probe_many(files, Limits(message_media_seconds=0.000_001))
    assert [(p.kind, p.problem) for p in probes] == [("photo", "media_seconds_budget"), ("video", "media_seconds_budget")]
    assert all(p.unsafe and p.figure is not None for p in probes)
    assert [p.decodable for p in probe_many(files, Limits())] == [True, True]  # the same files, in time


def test_a_damaged_photo_counts_against_the_budget_with_the_pixels_its_header_declares():
    """Decoding a cut-off photo costs its pixels up to the damage: photos read one by one (after a
    batch ran out of memory) must not get the budget those pixels took back."""
    whole = media.jpeg(3, (1000, 1000))
    cut = whole[: len(whole) // 2]
    damaged = probe_many(_files([("坏图.jpg", cut, "image/jpeg")]), Limits(), workers=1)[0]
    assert (damaged.problem, damaged.pixels) == ("corrupt", 1_000_000)
    assert Budget.of(Limits(message_media_pixels=2_500_000)).after([damaged]).spent == 1_000_000
