"""A mailbox of realistic nominations for the intake benchmarks, built once and cached.

Message i is the same on every run (its contents come from the seed i): a 巴渝工匠 form as
.docx (half of them), as a text PDF (three in ten), as .docx with a stamped scan beside it for
the seal (nine in fifty) or only as a stamped scan read by OCR (one in fifty: OCR takes
~15 s a page, so more would make the mixture about OCR alone); a write-up; and
either four phone photos or, in three messages of ten, a 5-minute video (64×48 at 1 fps,
made once with ffmpeg and attached to every one of them). Messages are kept as .eml files
under testing/builders/media.py `cache_folder()`, so a second run only reads them back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from imapclient import IMAPClient

from core.times import SHANGHAI

FIRST_ARRIVAL = datetime(2017, 4, 10, 9, 0, tzinfo=SHANGHAI)  # well inside the 巴渝工匠 2017 campaign
VIDEO_SLOTS = (2, 5, 8)  # of every ten messages
FORM_OF_SLOT = ("docx",) * 25 + ("pdf",) * 15 + ("docx+scan",) * 9 + ("scan",) * 1  # of every fifty
PHOTOS_PER_MESSAGE = 4
PHOTO_POOL = 12
PHOTO_SIZE = (1600, 1200)  # what a phone's mail app sends after "reduce size"
CACHE_VERSION = "v1"


@dataclass(frozen=True)
class BuiltMail:
    index: int
    form: str
    video: bool
    raw: bytes

    @property
    def arrival(self) -> datetime:
        return FIRST_ARRIVAL + timedelta(minutes=self.index)


def form_of(index: int) -> str:
    return FORM_OF_SLOT[index % len(FORM_OF_SLOT)]


def has_video(index: int) -> bool:
    return index % 10 in VIDEO_SLOTS


def mailbox(count: int) -> list[BuiltMail]:
    """Messages 0…count-1, read from the cache or built (and cached) now."""
    folder = _cache()
    return [_cached(folder, index) for index in range(count)]


def _cache() -> Path:
    from testing.builders.media import cache_folder

    folder = cache_folder() / f"intake-speed-{CACHE_VERSION}"
    folder.mkdir(exist_ok=True)
    return folder


def _cached(folder: Path, index: int) -> BuiltMail:
    form, video = form_of(index), has_video(index)
    path = folder / f"{index:05d}-{form}-{'video' if video else 'photos'}.eml"
    if not path.exists():
        partial = path.with_suffix(".part")
        partial.write_bytes(_build(index, form, video))
        partial.rename(path)  # a run killed mid-write leaves no half message in the cache
    return BuiltMail(index, form, video, path.read_bytes())


def _build(index: int, form: str, video: bool) -> bytes:
    from testing.builders import forms, seals
    from testing.builders.submission import nomination_mail

    rng = random.Random(index)
    values = seals.random_values(rng, channel="组织推荐" if "scan" in form else None)
    files = _form_files(index, form, values)
    files.append((f"{values.name}事迹材料.docx", forms.writeup_docx(1200, title=f"{values.name}同志先进事迹材料")))
    if video:
        files.append((f"{values.name}视频.mp4", _video()))
    else:
        files += [(f"{values.name}照片{n + 1}.jpg", _photo((index + n) % PHOTO_POOL)) for n in range(PHOTOS_PER_MESSAGE)]
    arrival = FIRST_ARRIVAL + timedelta(minutes=index)
    return nomination_mail(
        files, subject=f"2017年度巴渝工匠推荐材料（{values.name}）",
        sender=f"{values.recommending_unit} <unit{index}@example.cn>",
        sent=arrival - timedelta(minutes=1), received=arrival, message_id=f"<bench-{index}@example.cn>")


def _form_files(index: int, form: str, values) -> list[tuple[str, bytes]]:
    from testing.builders import forms, seals

    if form == "docx":
        return [(f"{values.name}推荐表.docx", forms.bayu_form_docx(values))]
    if form == "pdf":
        return [(f"{values.name}推荐表.pdf", forms.form_pdf(values))]
    scan, _, name = seals.ocr_scan(index, "scan_pdf", stamped=True, values=values)
    if form == "docx+scan":
        return [(f"{values.name}推荐表.docx", forms.bayu_form_docx(values, stamped=False)),
                (f"{values.name}推荐表（盖章扫描件）.pdf", scan)]
    return [(name, scan)]


@lru_cache(maxsize=None)
def _photo(seed: int) -> bytes:
    from testing.builders.media import camera_jpeg

    return camera_jpeg(seed, PHOTO_SIZE, quality=80)


@lru_cache(maxsize=None)
def _video() -> bytes:
    from testing.builders.media import video

    path = _cache() / "video-300s-64x48-1fps.mp4"
    if not path.exists():
        path.write_bytes(video(300, "mp4", (64, 48), 1))
    return path.read_bytes()


def append_all(client: IMAPClient, mails: list[BuiltMail], folder: str = "INBOX") -> None:
    """APPEND each message over one connection, its INTERNALDATE the time it arrived."""
    if folder != "INBOX" and not client.folder_exists(folder):
        client.create_folder(folder)
    for mail in mails:
        client.append(folder, mail.raw, msg_time=mail.arrival)
