"""The OCR engines: which are installed, RapidOCR's models loaded once per process, the characters each reads.

- `rapidocr` (rapidocr-onnxruntime: PaddleOCR's PP-OCRv4 Chinese detection and recognition
  models converted to ONNX, shipped inside the wheel), the default: text lines are found at
  DET_SIDE, then read from the full page;
- `tesseract` (Debian's tesseract-ocr with tesseract-ocr-chi-sim), the fallback.

Nothing is downloaded at run time. parsers/ocr.py turns the characters into the form;
parsers/ocr_worker.py keeps one engine warm across scans and counts its pages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# OpenBLAS (inside OpenCV's wheel) starts worker threads as it loads, and a forked reader that
# calls it afterwards may crash: one thread, set before OpenCV loads
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from core.children import give_back_memory, large_blocks_apart  # noqa: E402 - around each page: 717 MB peak on 12 scans without, 530 with
from parsers.ocr_grid import without_rules  # noqa: E402
from parsers.types import DocumentUnreadable  # noqa: E402

# the long side text lines are looked for at (bench/ocr_speed.py: fields read, time, peak memory)
DET_SIDE = 1280
# text lines read in one go by the recogniser: the widest line of a batch sets every line's tensor
# width, so RapidOCR's 6 made the largest tensors of a page, and with them its peak (below)
REC_BATCH = 3
# threads of each ONNX session. One: the judging workers already keep every core busy, and a
# second thread spins between runs on a core another worker needs. bench/ocr_speed.py, 8 scans
# at 1280: two threads read a page in 0.68 s for 1.25 s of CPU, glanced beside one typed form
# in 0.39 s for 0.56 s and beside several in 0.51 s for 0.82 s; one thread 0.88 s for 0.88 s,
# 0.36 s and 0.51 s for as much CPU
INTRA_OP_THREADS = 1
# allocations from this size on get pages of their own, returned when freed (core/children.py
# `large_blocks_apart`): the detector's large buffers apart, the recogniser's in the heap
DETECTION_MMAP_BYTES = 1 << 20
READING_MMAP_BYTES = 32 << 20


@dataclass(frozen=True)
class Glyph:
    """One character read, and where (pixels of the straightened page)."""

    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


# ---------------------------------------------------------------- engines


def available_engines() -> list[str]:
    """The OCR engines installed here, the preferred first (found, not loaded: the ONNX runtime
    is loaded only in the child that reads a scan)."""
    from importlib.util import find_spec

    found = ["rapidocr"] if find_spec("rapidocr_onnxruntime") and find_spec("onnxruntime") else []
    if shutil.which("tesseract") and _tesseract_has_chinese():
        found.append("tesseract")
    return found


def _tesseract_has_chinese() -> bool:
    try:
        listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "chi_sim" in listed.stdout.split()


def default_engine() -> str | None:
    from importlib.util import find_spec

    if find_spec("rapidocr_onnxruntime") and find_spec("onnxruntime"):
        return "rapidocr"
    engines = available_engines()
    return engines[0] if engines else None


_RAPID = None
_RAPID_PID = None
_PAGES_READ = 0  # pages given to an engine in this process, for a worker that recycles itself


def _rapid():
    """The ONNX models, loaded once per process (in the child or worker that reads scans).

    Never one inherited through fork: the ONNX runtime's thread pools do not survive it."""
    global _RAPID, _RAPID_PID
    if _RAPID is None or _RAPID_PID != os.getpid():
        _RAPID_PID = os.getpid()
        import logging

        from rapidocr_onnxruntime import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        engine = RapidOCR(intra_op_num_threads=INTRA_OP_THREADS, inter_op_num_threads=1)
        engine.text_rec.rec_batch_num = REC_BATCH
        engine.text_det = _ApartPages(engine.text_det)
        engine.text_det.detect_at(DET_SIDE)
        _RAPID = engine
    return _RAPID


def load_rapid() -> None:
    """Load RapidOCR's models now, so that the first page does not wait for them."""
    _rapid()


def _detect_at(detector, side: int) -> None:
    """Text found on the page made at most `side` pixels long (the characters are then read from
    the page itself, at its full OCR_SIDE). RapidOCR 1.4 ignores its det_limit_side_len under
    limit type "max" and picks 960, 1500 or 2000 from the picture's long side: a 2000-pixel page
    was detected at 2000, the OCR process's ~850 MB peak. Its choice is replaced by ours; 0
    keeps the library's (for bench/ocr_speed.py)."""
    if not side:
        vars(detector).pop("get_preprocess", None)
        return
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    class InSinglePrecision(DetPreProcess):
        """The library's preparation of the page, in float32 and in place. Its own took the mean and
        spread as float64 arrays, so the page went through float64 copies: 0.19 s of a whole
        page's 2.2 s of CPU, where this takes about 0.02 s for the same tensor to 1e-6."""

        def __call__(self, picture: np.ndarray) -> np.ndarray | None:
            resized = self.resize(picture)
            if resized is None:
                return None
            tensor = resized.astype(np.float32)
            tensor *= (self.scale / self.std).astype(np.float32)
            tensor -= (self.mean / self.std).astype(np.float32)
            return np.ascontiguousarray(tensor.transpose((2, 0, 1)))[np.newaxis]

    detector.get_preprocess = lambda longest: InSinglePrecision(side, "max", detector.mean, detector.std)


class _ApartPages:
    """The text detector, run with its large buffers in pages of their own (given back as each is
    freed), the rest of the process as glibc keeps it.

    The OCR process's peak was the detector's run: its feature maps, carved out of heaps glibc
    keeps, left them scattered with holes, the page's ~165 MB grew by ~320 MB where ~220 were
    in use at once (bench/ocr_speed.py, 24 scans, VmHWM reset around each step: detection 489 MB,
    recognition 471, decoding and the grid under 320). Pages of its own for every block from 1 MB
    on hold the detector to what it uses (397 MB); the fresh pages cost 1.94 s a page against 1.86
    on a quiet machine (more under load: up to ~1 s of CPU a page with 5 processes on 2 cores). The
    recogniser, run dozens of times a page, keeps the reused heap: with pages of its own too it cost
    twice the CPU."""

    def __init__(self, detector):
        self._detector = detector
        self._side: int | None = None

    def detect_at(self, side: int) -> None:
        if side != self._side:
            _detect_at(self._detector, side)
            self._side = side

    def __getattr__(self, name):
        return getattr(self._detector, name)

    def __call__(self, picture):
        large_blocks_apart(DETECTION_MMAP_BYTES)
        try:
            return self._detector(picture)
        finally:
            large_blocks_apart(READING_MMAP_BYTES)


def pages_read() -> int:
    """How many pages this process has given to an OCR engine."""
    return _PAGES_READ


def _counted() -> None:
    global _PAGES_READ
    _PAGES_READ += 1


def rapid_glyphs(page: np.ndarray, detect_side: int | None = None) -> list[Glyph]:
    """The characters RapidOCR reads on the page, its text lines found at `detect_side` (DET_SIDE)."""
    _counted()
    give_back_memory()
    engine = _rapid()
    engine.text_det.detect_at(DET_SIDE if detect_side is None else detect_side)
    try:
        result, _ = engine(page, use_cls=False, return_word_box=True)
    finally:
        give_back_memory()
    glyphs: list[Glyph] = []
    for item in result or []:
        box, text = item[0], item[1]
        words = item[3] if len(item) > 3 else None
        if words and len(words) == len(text):
            for char, quad in zip(text, words):
                xs, ys = [p[0] for p in quad], [p[1] for p in quad]
                glyphs.append(Glyph(char, (min(xs), min(ys), max(xs), max(ys))))
        else:  # the engine grouped letters or digits: spread the box over its characters
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            glyphs.extend(_spread(text, (min(xs), min(ys), max(xs), max(ys))))
    return glyphs


def tesseract_glyphs(page: np.ndarray) -> list[Glyph]:
    """Tesseract's characters with their boxes (the `makebox` output), on the page less its rules."""
    _counted()
    height = page.shape[0]
    with tempfile.TemporaryDirectory(prefix="intake-ocr-") as folder:
        source = Path(folder) / "page.png"
        cv2.imwrite(str(source), without_rules(page))
        done = subprocess.run(["tesseract", str(source), str(Path(folder) / "out"), "-l", "chi_sim", "--psm", "6",
                               "makebox"], capture_output=True, timeout=120)
        if done.returncode != 0:
            raise DocumentUnreadable("corrupt", f"tesseract failed: {done.stderr[-200:]!r}")
        lines = (Path(folder) / "out.box").read_text(encoding="utf-8", errors="replace").splitlines()
    glyphs = []
    for line in lines:
        parts = line.rsplit(" ", 5)
        if len(parts) != 6 or not parts[0].strip():
            continue
        char, left, bottom, right, top = parts[0], *map(int, parts[1:5])
        glyphs.append(Glyph(char, (left, height - top, right, height - bottom)))
    return glyphs


def _spread(text: str, box: tuple[float, float, float, float]) -> list[Glyph]:
    x0, y0, x1, y1 = box
    step = (x1 - x0) / max(len(text), 1)
    return [Glyph(char, (x0 + k * step, y0, x0 + (k + 1) * step, y1)) for k, char in enumerate(text)]
