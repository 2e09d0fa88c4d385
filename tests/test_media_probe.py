"""Photos and videos probed from their bytes: container, brands, duration, size, orientation, bombs, breakage."""

import time

import pytest

from campaigns.limits import Limits
from ingest.sniff import sniff
from parsers.media import probe_many, probe_media
from parsers.types import FileData
from parsers.video import container_of, top_level_boxes
from testing.builders import media

LIMITS = Limits()


def attachment(name: str, data: bytes) -> FileData:
    return FileData(name, data, sniff(data, name))


def probe(name: str, data: bytes, limits: Limits = LIMITS):
    return probe_media(attachment(name, data), limits)


# --- videos ------------------------------------------------------------------------------------


def test_an_mp4_has_its_brands_duration_codec_and_size():
    result = probe("事迹视频.mp4", media.video(300))
    assert (result.kind, result.format, result.decodable, result.problem) == ("video", "mp4", True, None)
    assert result.seconds == pytest.approx(300.0, abs=0.05)
    assert result.brands[0] == "isom" and "h264" in result.codecs
    assert (result.width, result.height) == (64, 48)


@pytest.mark.parametrize(
    "name, container, expected",
    [
        ("视频.mp4", "avi", "avi"),  # an AVI renamed .mp4 is still an AVI
        ("iPhone.mov", "mov", "mov"),
        ("视频.mp4", "mov", "mov"),
        ("会议.wmv", "wmv", "asf"),
        ("a.flv", "flv", "flv"),
        ("手机.3gp", "3gp", "3gp"),
    ],
)
def test_the_container_comes_from_the_bytes_not_the_extension(name, container, expected):
    result = probe(name, media.video(300, container))
    assert (result.format, result.decodable) == (expected, True)
    assert result.seconds == pytest.approx(300.0, abs=1.0)


def test_quicktime_brand_is_not_mp4_even_when_it_lists_isom():
    data = media.video(10, "mov")
    assert container_of(data)[1][0] == "qt  "
    forged = data[:8] + b"qt  " + data[12:16] + b"isom" + data[20:]  # major qt, isom among the compatible
    assert container_of(forged)[0] == "mov"
    assert container_of(media.video(10, "mp4"))[0] == "mp4"


def test_a_truncated_mp4_without_its_moov_is_corrupt():
    data = media.truncated_mp4()
    assert "moov" not in top_level_boxes(data)
    result = probe("视频.mp4", data)
    assert (result.format, result.decodable, result.problem) == ("mp4", False, "no_index")


def test_bytes_ffprobe_cannot_read_are_corrupt():
    result = probe("视频.avi", b"RIFF\x00\x00\x10\x00AVI LIST" + bytes(3000))
    assert (result.decodable, result.problem) == (False, "corrupt")
    assert probe("视频.mp4", b"").problem == "empty"


def test_ffprobe_is_killed_when_its_time_is_up():
    started = time.perf_counter()  # an AVI: a sound MP4 is read from its boxes, without ffprobe
    result = probe("视频.avi", media.video(300, "avi"), Limits(probe_seconds=0.001))
    assert (result.decodable, result.problem) == (False, "timeout")
    assert time.perf_counter() - started < 2


def test_several_videos_are_probed_together_in_their_order():
    items = [attachment(f"{k}.mp4", media.video(seconds)) for k, seconds in enumerate((260, 300, 481, 525))]
    assert [round(p.seconds) for p in probe_many(items, LIMITS)] == [260, 300, 481, 525]


# --- photos ------------------------------------------------------------------------------------


def test_a_jpeg_is_decoded_in_full():
    result = probe("工作照.jpg", media.jpeg(1, (320, 240)))
    assert (result.kind, result.format, result.width, result.height, result.decodable) == ("photo", "JPEG", 320, 240, True)
    assert result.bytes > 1000 and not result.page_like and not result.portrait_like


@pytest.mark.parametrize("orientation, size", [(1, (64, 32)), (3, (64, 32)), (6, (32, 64)), (8, (32, 64)), (5, (32, 64))])
def test_exif_orientation_is_applied_to_width_and_height(orientation, size):
    result = probe("手机照片.jpg", media.jpeg(2, (64, 32), orientation=orientation))
    assert (result.width, result.height, result.orientation) == (*size, orientation)


def test_heic_from_a_phone_is_read():
    result = probe("IMG_0001.HEIC", media.heic((96, 64)))
    assert (result.format, result.width, result.height, result.decodable) == ("HEIF", 96, 64, True)


def test_a_png_declaring_40000_by_40000_pixels_is_a_bomb_refused_before_decoding():
    started = time.perf_counter()
    result = probe("大图.png", media.png_declaring(40_000, 40_000))
    assert time.perf_counter() - started < 2
    assert (result.problem, result.unsafe, result.decodable) == ("image_too_large", True, False)
    assert result.pixels == 1_600_000_000


def test_a_picture_just_over_the_limit_is_a_bomb_too():
    result = probe("大图.png", media.png_declaring(10_001, 10_000))
    assert result.problem == "image_too_large" and result.pixels == 100_010_000
    assert probe("图.png", media.png_declaring(100, 100), Limits(image_max_pixels=9_999)).unsafe


def test_a_truncated_jpeg_is_corrupt():
    result = probe("照片.jpg", media.truncated(media.jpeg(3, (200, 150))))
    assert (result.decodable, result.problem) == (False, "corrupt")


def test_a_scanned_page_looks_like_a_page_and_a_portrait_like_a_portrait():
    assert probe("附件2.jpg", media.page_scan()).page_like
    assert probe("附件2.jpg", media.page_scan((1240, 1754), grey=235)).page_like
    portrait = probe("附件3.jpg", media.id_portrait())
    assert portrait.portrait_like and not portrait.page_like
    photo = probe("照片.jpg", media.jpeg(4, (300, 420)))  # upright, but a noisy scene
    assert not photo.portrait_like and not photo.page_like


def test_a_batch_that_runs_out_of_memory_is_retried_photo_by_photo_and_never_hangs():
    # whether a child still finds room depends on the heap it inherits: either outcome is fine,
    # an exception or a wait for the time limit is not
    items = [attachment(f"{k}.jpg", media.jpeg(k, (1600, 1200))) for k in range(3)]
    started = time.perf_counter()
    results = probe_many(items, Limits(file_parse_memory_bytes=1_000_000, file_parse_seconds=20))
    assert time.perf_counter() - started < 10
    assert [p.filename for p in results] == ["0.jpg", "1.jpg", "2.jpg"]
    assert all(p.decodable or p.problem == "memory" for p in results)
