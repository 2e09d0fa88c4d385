"""MP4/MOV durations and streams read from the file's own boxes, ffprobe only where they are not sound.

Every video here is a real one made by ffmpeg (testing/builders/media.py). A sound one is
judged without starting ffprobe and exactly as ffprobe judges it; a broken or unusual one
(moov missing, a box past the end of the file, a fragmented MP4, a text track, cover art…)
goes to ffprobe, so that its verdict is what it always was.
"""

import io
import struct

import pytest

import campaigns
from campaigns.limits import Limits
from parsers import mp4_boxes, video
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import forms, media
from testing.builders.forms import FormValues
from testing.builders.submission import nomination_mail
from testing.idcards import id_number

LIMITS = Limits()
PROFILE = campaigns.load("chongqing-bayu-2017")


@pytest.fixture
def ffprobe_runs(monkeypatch):
    """How many times ffprobe was started (it still runs, and answers as before)."""
    calls = []
    real = video._ffprobe

    def counted(data, limits, seconds):
        calls.append(len(data))
        return real(data, limits, seconds)

    monkeypatch.setattr(video, "_ffprobe", counted)
    return calls


def by_ffprobe(data: bytes, name: str = "视频.mp4"):
    """What the probe was before the boxes were read: ffprobe's answer (after the moov check)."""
    container, brands = video.container_of(data)
    base = dict(filename=name, kind="video", bytes=len(data), brands=brands)
    return video.probe_with_ffprobe(data, base, container, LIMITS)


def patched(data: bytes, box: bytes, at: int, value: bytes) -> bytes:
    """The video with `value` written `at` bytes into the body of its first `box` box."""
    where = data.index(box) + 4 + at
    return data[:where] + value + data[where + len(value):]


def third_generation_partner(data: bytes) -> bytes:
    return data[:8] + b"3gs7" + data[12:]


# every kind of video the other tests send, and the variants phones and tools write
SOUND = {
    "mp4, moov last (ffmpeg's default)": lambda: media.video(300),
    "mp4, 4 minutes 20": lambda: media.video(260),
    "mp4, moov first (faststart)": lambda: media.video_variant("faststart"),
    "mp4 with AAC sound": lambda: media.video_variant("aac", 61.5),
    "mp4 with MP3 sound": lambda: media.video_variant("mp3", 12),
    "mp4 in HEVC": lambda: media.video_variant("hevc", 20),
    "mp4, 481.004 s at 250 fps": lambda: media.video(481.004, "mp4", (16, 16), 250),
    "mp4, 298.996 s at 250 fps": lambda: media.video(298.996, "mp4", (16, 16), 250),
    "QuickTime mov": lambda: media.video(300, "mov"),
    "QuickTime mov with AAC": lambda: media.video_variant("aac", 33, "mov"),
    "3gp": lambda: media.video(300, "3gp"),
    "3gp with a 3gs7 major brand": lambda: third_generation_partner(media.video(300, "3gp")),
}


@pytest.mark.parametrize("make", SOUND.values(), ids=SOUND.keys())
def test_a_sound_video_is_judged_from_its_boxes_exactly_as_ffprobe_judges_it(make, ffprobe_runs):
    data = make()
    expected = by_ffprobe(data)
    ffprobe_runs.clear()
    assert video.probe_video("视频.mp4", data, "视频.mp4", LIMITS) == expected
    assert ffprobe_runs == []  # no process started
    assert expected.decodable


def test_the_duration_is_the_movie_headers_as_ffprobe_rounds_it(ffprobe_runs):
    data = media.video_variant("aac", 61.5)
    header = data.index(b"mvhd") + 4
    timescale = struct.unpack_from(">I", data, header + 12)[0]
    for duration in (1, 7 * timescale // 3, 299 * timescale + 1, 481 * timescale + timescale // 250):
        forged = patched(data, b"mvhd", 16, struct.pack(">I", duration))
        assert video.probe_video("v.mp4", forged, "v.mp4", LIMITS) == by_ffprobe(forged, "v.mp4")


BROKEN = {
    "fragmented mp4": lambda: media.video_variant("fragmented"),
    "moov first, the upload cut short (mdat past the end)": lambda: media.video_variant("faststart")[:-200],
    "a box size beyond the end of the file": lambda: patched(media.video_variant("faststart"), b"mdat", -8,
                                                             struct.pack(">I", 10**6)),
    "mvhd timescale 0": lambda: patched(media.video(300), b"mvhd", 12, bytes(4)),
    "mvhd without a duration": lambda: patched(media.video(300), b"mvhd", 16, bytes(4)),
    "chunks beyond the end of the file": lambda: patched(media.video(300), b"stco", 8, struct.pack(">I", 2**31)),
    "a subtitle track": lambda: media.video_variant("subtitles"),
    "cover art": lambda: media.video_with_cover(),
    "stray bytes after the last box": lambda: media.video(300) + b"abc",
}


@pytest.mark.parametrize("make", BROKEN.values(), ids=BROKEN.keys())
def test_boxes_that_are_not_sound_are_left_to_ffprobe_and_judged_as_before(make, ffprobe_runs):
    data = make()
    with pytest.raises(mp4_boxes.Unsound):
        mp4_boxes.read_index(data, LIMITS)
    expected = by_ffprobe(data)
    ffprobe_runs.clear()
    assert video.probe_video("视频.mp4", data, "视频.mp4", LIMITS) == expected
    assert len(ffprobe_runs) == 1


def test_an_mp4_without_its_moov_is_no_index_without_ffprobe(ffprobe_runs):
    result = video.probe_video("视频.mp4", media.truncated_mp4(), "视频.mp4", LIMITS)
    assert (result.decodable, result.problem) == (False, "no_index")
    assert ffprobe_runs == []


def test_a_moov_over_the_limit_goes_to_ffprobe(ffprobe_runs):
    data = media.video(300)
    expected = by_ffprobe(data, "v.mp4")
    ffprobe_runs.clear()
    assert video.probe_video("v.mp4", data, "v.mp4", Limits(video_index_max_bytes=200)) == expected
    assert len(ffprobe_runs) == 1


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.taken = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_the_reader_takes_box_headers_and_the_moov_only_never_the_whole_file():
    data = media.video_variant("aac", 120)
    source = CountingFile(data)
    index = mp4_boxes.read_index(source, LIMITS)
    moov = data.index(b"moov") - 4
    moov_size = struct.unpack_from(">I", data, moov)[0]
    assert index.seconds == 120.0 and [s.codec for s in index.streams] == ["h264", "aac"]
    assert source.taken <= moov_size + 16 * 4 < len(data) // 10


def test_too_many_top_level_boxes_go_to_ffprobe():
    data = media.video(300) + (struct.pack(">I", 8) + b"free") * 50
    with pytest.raises(mp4_boxes.Unsound, match="top-level boxes"):
        mp4_boxes.read_index(data, Limits(video_boxes_max=20))


@pytest.mark.parametrize("seconds", [481.004, 298.996, 300])
def test_a_nominations_findings_are_the_same_from_the_boxes_as_from_ffprobe(seconds, monkeypatch, ffprobe_runs):
    files = [("推荐表.docx", forms.bayu_form_docx(FormValues(id_number=id_number(), channel="社会举荐"))),
             ("事迹材料.docx", forms.writeup_docx(1200)),
             ("张三事迹视频.mp4", media.video(seconds, "mp4", (16, 16), 250 if seconds != 300 else 1))]
    raw = nomination_mail(files)
    from_boxes = verdict_json(judge(raw, PROFILE), PROFILE.id, "m.eml")
    assert ffprobe_runs == []

    def unsound(*_):
        raise mp4_boxes.Unsound("as before this reader")

    monkeypatch.setattr(mp4_boxes, "read_index", unsound)
    assert verdict_json(judge(raw, PROFILE), PROFILE.id, "m.eml") == from_boxes
    assert len(ffprobe_runs) == 1
