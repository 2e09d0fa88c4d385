"""Photos read with Pillow (HEIC/HEIF through pillow-heif): the header against the pixel limit, then a decode.

All photos of a message are decoded in one sandboxed child by a few threads (Pillow
releases the GIL while decoding), so five 12-megapixel camera JPEGs cost about two decodes
of wall time and one fork. The pixel count the header declares is checked before anything
is decoded: a bomb costs nothing. A JPEG is decoded at the reduced scale the content check
needs (1/2, 1/4 or 1/8, libjpeg's scaled decoding): the decoder still reads and entropy-
decodes the whole bitstream, so a truncated or broken file fails exactly as in a full
decode, but the full-size picture is never made (a page photo read by OCR later is decoded
at full size there, once). Other formats are decoded in full. The content is looked at on a
small copy, for what the grouping needs: does it look like a page of a document (a scan or
a photo of the form), or like a one-inch ID portrait.
"""

from __future__ import annotations

import _thread
import io
import math
import threading
import warnings
from dataclasses import replace
from typing import Callable

import pillow_heif
from PIL import Image, ImageStat, UnidentifiedImageError

from campaigns.limits import Limits
from core import children
from parsers.media import Budget, MediaProbe

pillow_heif.register_heif_opener()
Image.init()  # every plugin imported here, in the parent: forked children never import

# a camera JPEG with a second frame (a depth map, a preview) is still a JPEG
_FORMAT_NAMES = {"MPO": "JPEG"}
_ORIENTATION_TAG = 0x0112
# what ImageOps.exif_transpose does for each EXIF orientation, applied to the small copy only
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ANALYSIS_SIDE = 400  # the longest side of the copy the content is judged on
_JPEG_SCALES = (8, 4, 2)  # the reductions libjpeg makes while decoding, largest first


def probe_photos(items: list[tuple[str, bytes]], limits: Limits, workers: int = 2,
                 budget: Budget | None = None) -> list[MediaProbe]:
    """Probe (path, bytes) pairs in one child; a batch that fails is retried one file at a time.
    What the message's `budget` cannot pay for is not decoded; the child's time ends with it."""
    budget = budget or Budget.of(limits)
    if budget.left() <= 0:
        return [budget.refusal(path, "photo", len(data)) for path, data in items]  # type: ignore[misc]
    workers = max(1, min(workers, len(items)))
    rounds = math.ceil(len(items) / workers)
    seconds = min(limits.file_parse_seconds * rounds, budget.left() + limits.file_parse_seconds)
    try:
        return children.run(_probe_batch, items, limits.image_max_pixels, workers, budget,
                            seconds=seconds, memory_bytes=limits.file_parse_memory_bytes)
    except children.ChildFailed as failure:
        if len(items) > 1:
            probes = []
            for item in items:
                probes += probe_photos([item], limits, 1, budget)
                budget = budget.after(probes[-1:])
            return probes
        path, data = items[0]
        if isinstance(failure, children.LimitExceeded) and failure.kind == "timeout" and budget.left() <= 0:
            return [budget.refusal(path, "photo", len(data))]  # type: ignore[list-item]
        problem = failure.kind if isinstance(failure, children.LimitExceeded) else "corrupt"
        return [MediaProbe(path, "photo", bytes=len(data), problem=problem, explanation=str(failure)[:300])]


class _Allowance:
    """The message's budget as the child's threads draw on it, one photo at a time."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.lock = threading.Lock()

    def take(self, path: str, size: int, pixels: int) -> MediaProbe | None:
        """None, with the pixels taken: decode it; else the probe of a photo left unread."""
        with self.lock:
            refused = self.budget.refusal(path, "photo", size, pixels)
            self.budget = self.budget.spend(pixels) if refused is None else self.budget.close()
            return refused


def _probe_batch(items: list[tuple[str, bytes]], max_pixels: int, workers: int, budget: Budget) -> list[MediaProbe]:
    """In the child: every photo of the batch, by up to `workers` threads (the main one included).

    Helpers are started with `_thread`, which does not wait for them: under a tight memory
    limit a thread may die before it runs (threading.Thread.start() would then wait for ever);
    the main thread takes whatever no helper took. An exception in any worker (MemoryError)
    fails the batch, which is then read photo by photo.
    """
    saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, max_pixels  # Pillow's own bomb check agrees with ours
    try:
        return _probe_with_threads(items, max_pixels, workers, _Allowance(budget))
    finally:
        Image.MAX_IMAGE_PIXELS = saved  # the child may read the message's seal material next


def _probe_with_threads(items: list[tuple[str, bytes]], max_pixels: int, workers: int,
                        allowance: _Allowance) -> list[MediaProbe]:
    results: list[MediaProbe | None] = [None] * len(items)
    pending = list(range(len(items)))
    failures: list[BaseException] = []
    changed = threading.Condition()

    def work() -> None:
        while True:
            with changed:
                if not pending or failures:
                    return
                k = pending.pop(0)
            try:
                probe = probe_photo(items[k][0], items[k][1], max_pixels, allowance.take)
            except BaseException as exc:  # noqa: BLE001 - re-raised below, in the main thread
                with changed:
                    failures.append(exc)
                    changed.notify_all()
                return
            with changed:
                results[k] = probe
                changed.notify_all()

    for _ in range(workers - 1):
        try:
            _thread.start_new_thread(work, ())
        except RuntimeError:  # "can't start new thread": fewer workers, that is all
            break
    work()
    with changed:
        changed.wait_for(lambda: failures or all(r is not None for r in results))
    if failures:
        raise failures[0]
    return results  # type: ignore[return-value]


def probe_photo(path: str, data: bytes, max_pixels: int,
                allowance: Callable[[str, int, int], MediaProbe | None] | None = None) -> MediaProbe:
    """One photo, in this process: header, pixel limit, the message's budget (counted at full
    size: what the sender sent), decode (a JPEG at a reduced scale), orientation, content.

    MemoryError is not caught: the batch fails and the photo is read again on its own.
    """
    if not data:
        return MediaProbe(path, "photo", problem="empty", explanation="zero bytes")
    size = len(data)
    width = height = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning, broken EXIF: judged below
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                return _bomb(path, size, width, height, max_pixels)
            if allowance is not None and (refused := allowance(path, size, width * height)) is not None:
                return replace(refused, width=width, height=height)
            factor = _analysis_factor(image.size)
            scale = _decode_smaller(image, factor)
            image.load()  # the whole file is read and decoded: truncation and bad data fail here
    except Image.DecompressionBombError as exc:  # over twice the limit: Pillow refused it in open()
        width, height = _declared_size(data)
        if width and height:
            return _bomb(path, size, width, height, max_pixels)
        return MediaProbe(path, "photo", bytes=size, problem="image_too_large", explanation=str(exc)[:300])
    except UnidentifiedImageError as exc:
        return MediaProbe(path, "photo", bytes=size, problem="unsupported", explanation=str(exc)[:300])
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow and its plugins raise anything on hostile bytes
        # the size its header declared stays on the probe: decoding up to the damage cost those
        # pixels, and the message's budget counts them (Budget.after)
        return MediaProbe(path, "photo", width=width, height=height, bytes=size, problem="corrupt",
                          explanation=f"{type(exc).__name__}: {exc}"[:300])
    orientation = _orientation(image)
    if orientation in (5, 6, 7, 8):  # a quarter turn: the photo stands the other way up
        width, height = height, width
    small = _small_copy(image, orientation, factor // scale)
    return MediaProbe(
        path, "photo", format=_FORMAT_NAMES.get(image.format, image.format), width=width, height=height,
        bytes=size, decodable=True, orientation=orientation,
        page_like=small is not None and page_like(small),
        portrait_like=small is not None and portrait_like(small, width, height),
    )


def _bomb(path: str, size: int, width: int, height: int, max_pixels: int) -> MediaProbe:
    return MediaProbe(path, "photo", width=width, height=height, bytes=size, problem="image_too_large",
                      explanation=f"{width}×{height} = {width * height} pixels declared, limit {max_pixels}")


def _declared_size(data: bytes) -> tuple[int | None, int | None]:
    """The size a header declares, read without Pillow's bomb check and without decoding anything."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # only for this header read; our own check has already failed it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data)).size
    except Exception:  # noqa: BLE001 - the figure is only for the finding
        return None, None
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - unreadable EXIF is no orientation
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _analysis_factor(size: tuple[int, int]) -> int:
    """The whole factor a picture is made smaller by for the content check (about _ANALYSIS_SIDE on its long side)."""
    return max(1, max(size) // _ANALYSIS_SIDE)


def _decode_smaller(image: Image.Image, factor: int) -> int:
    """Ask the JPEG decoder for the largest reduction (1/2, 1/4, 1/8) that `factor` is a multiple
    of, and say which (1: none; other formats have none). Only a whole part of the factor: the
    rest is done by Image.reduce as before, so that the small copy is made as before and the
    page and portrait hints drawn from it stay what they were with a full decode (the same on
    all 626 pictures of bench/photo_decode.py; a reduction past the factor changed 2%)."""
    scale = next((s for s in _JPEG_SCALES if factor % s == 0), 1) if image.format in ("JPEG", "MPO") else 1
    if scale > 1:
        width = image.width
        image.draft(None, (image.width // scale, image.height // scale))
        if image.width == width:  # a JPEG the decoder will not reduce: decoded in full
            return 1
    return scale


def _small_copy(image: Image.Image, orientation: int, factor: int) -> Image.Image | None:
    """An RGB copy of the (decoded) picture made `factor` times smaller, the right way up; None if it cannot be made."""
    try:
        if image.mode not in ("L", "RGB", "RGBA", "LA", "CMYK", "YCbCr"):
            image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
        small = image.reduce(factor) if factor > 1 else image.copy()
        if "A" in small.getbands():  # transparent parts read as white paper, not as black ink
            background = Image.new("RGBA", small.size, (255, 255, 255, 255))
            small = Image.alpha_composite(background, small.convert("RGBA"))
        small = small.convert("RGB")
        method = _TRANSPOSE.get(orientation)
        return small.transpose(method) if method is not None else small
    except Exception:  # noqa: BLE001 - an odd mode (16-bit, 1-bit TIFF…) only costs the content hints
        return None


def page_like(rgb: Image.Image) -> bool:
    """A page of a document: mostly white paper, unsaturated, with several separate lines of dark ink.

    Camera photos of people at work fail on paper or on colour; a product on a white table
    fails on the lines. A phone photo of the form on a desk may pass or not: its file name
    decides then (see nominees.assemble).
    """
    gray = rgb.convert("L")
    count = gray.width * gray.height
    levels = gray.histogram()
    paper = sum(levels[180:]) / count
    ink = sum(levels[:110]) / count
    saturation = rgb.convert("HSV").getchannel("S").histogram()
    unsaturated = sum(saturation[:60]) / count
    if paper < 0.5 or not 0.001 <= ink <= 0.35 or unsaturated < 0.85:
        return False
    return ink_lines(gray) >= 5


def ink_lines(gray: Image.Image) -> int:
    """How many separate bands of rows carry dark ink (text lines, table rules), top to bottom."""
    mask = gray.point(lambda value: 255 if value < 128 else 0)
    rows = mask.resize((1, gray.height), Image.Resampling.BOX).getdata()
    bands, inside = 0, False
    for value in rows:
        inked = value >= 3  # about 1 % of the row's width is ink
        if inked and not inside:
            bands += 1
        inside = inked
    return bands


def portrait_like(rgb: Image.Image, width: int, height: int) -> bool:
    """A one-inch (or two-inch) ID portrait: small, upright about 5:7, a plain even background above and beside the head."""
    if not (height <= 1000 and width < height and 0.6 <= width / height <= 0.85):
        return False
    w, h = rgb.size
    strips = (
        rgb.crop((0, 0, w, max(1, h // 8))),  # above the head
        rgb.crop((0, 0, max(1, w // 10), max(1, h // 3))),  # beside it, left
        rgb.crop((w - max(1, w // 10), 0, w, max(1, h // 3))),  # and right
    )
    stats = [ImageStat.Stat(strip) for strip in strips]
    if any(max(stat.stddev) > 14 for stat in stats):
        return False
    first = stats[0].mean
    return all(abs(a - b) <= 20 for stat in stats[1:] for a, b in zip(first, stat.mean))
