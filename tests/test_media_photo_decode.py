"""A JPEG photo is checked at a reduced scale: never a full-size picture in memory, truncation still caught.

libjpeg's scaled decoding (Pillow's draft) skips the full-size inverse DCT but reads and
entropy-decodes the whole bitstream, so a file cut short fails exactly as a full decode does.
"""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from parsers.photo import probe_photo
from testing.builders import media

ROOT = Path(__file__).resolve().parent.parent
PEAK = """
import sys
from pathlib import Path
from parsers.photo import probe_photo
def high_water():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]) / 1024
data = Path(sys.argv[1]).read_bytes()
before = high_water()
probe = probe_photo("IMG_0001.jpg", data, 100_000_000)
print(probe.decodable, probe.problem, high_water() - before)
"""


def progressive(data: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, "JPEG", quality=90, progressive=True)
    return buffer.getvalue()


def decoded(data: bytes, scale: int) -> str:
    try:
        image = Image.open(io.BytesIO(data))
        if scale > 1:
            image.draft(None, (image.width // scale, image.height // scale))
            assert image.width == -(-1600 // scale)  # the decoder really reduces
        image.load()
        return "read"
    except OSError as error:
        return type(error).__name__


@pytest.mark.parametrize("scale", [2, 4, 8])
@pytest.mark.parametrize("kind", ["baseline", "progressive"])
def test_a_reduced_jpeg_decode_still_reads_the_whole_bitstream(kind, scale):
    whole = media.camera_jpeg(5, (1600, 1200))
    whole = progressive(whole) if kind == "progressive" else whole
    assert decoded(whole, scale) == "read"
    for keep in (0.1, 0.5, 0.9, 0.99):
        assert decoded(media.truncated(whole, keep), scale) == "OSError"
    assert decoded(whole[:-2], scale) == "OSError"  # only the end-of-image marker missing


def _peak(tmp_path, data: bytes) -> tuple[str, str, float]:
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", PEAK, str(path)], cwd=ROOT, capture_output=True, text=True, check=True)
    decodable, problem, megabytes = done.stdout.split()
    return decodable, problem, float(megabytes)


def test_an_8_megapixel_phone_photo_is_checked_without_a_full_size_picture_in_memory(tmp_path):
    # a full decode holds 3264 × 2448 × 3 bytes = 24 MB (measured: 32 MB added to the peak)
    decodable, problem, megabytes = _peak(tmp_path, media.camera_jpeg(3, (3264, 2448)))
    assert (decodable, problem) == ("True", "None")
    assert megabytes < 10


def test_the_same_photo_cut_short_is_corrupt_though_read_at_a_reduced_scale(tmp_path):
    decodable, problem, megabytes = _peak(tmp_path, media.truncated(media.camera_jpeg(3, (3264, 2448)), 0.7))
    assert (decodable, problem) == ("False", "corrupt")
    assert megabytes < 10


def test_what_a_reduced_photo_is_taken_for_is_what_a_full_decode_made_of_it():
    # the size, orientation and the page and portrait hints (bench/photo_decode.py compares 626 pictures)
    page = probe_photo("推荐表.jpg", media.page_scan((2480, 3508), grey=245), 100_000_000)
    assert (page.width, page.height, page.decodable, page.page_like) == (2480, 3508, True, True)
    turned = probe_photo("IMG.jpg", media.jpeg(2, (3200, 1600), orientation=6), 100_000_000)
    assert (turned.width, turned.height, turned.orientation, turned.page_like) == (1600, 3200, 6, False)
    camera = probe_photo("工作照.jpg", media.camera_jpeg(1, (4000, 3000)), 100_000_000)
    assert (camera.width, camera.height, camera.page_like, camera.portrait_like) == (4000, 3000, False, False)
