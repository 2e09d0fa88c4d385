"""One OCR engine kept warm in a worker process that reads scans message after message, with its page count.

Starting an OCR process costs about a second and a half (the interpreter, OpenCV, the ONNX
runtime and the models) before the first page; a worker that keeps a `WarmOcr` pays that
once. What reading pages leaves behind in the process (the allocator's high-water mark,
the runtime's caches) is given back only when the process ends, so whoever owns the worker
should replace it after some hundreds of `pages`. Only bench/ocr_speed.py uses it so far: the
service still reads each scan in a fresh sandboxed child (parsers/ocr.py read_scans).

The engine is loaded in the process that reads, never inherited through a fork (the ONNX
runtime's threads do not survive one: parsers/ocr_engine.py). A warm worker has no time or
memory limit of its own: its owner keeps those (the time per page is limits.ocr_seconds_per_page,
the address space limits.ocr_memory_bytes) and replaces a worker that overruns them.
"""

from __future__ import annotations

from campaigns.limits import Limits
from parsers import ocr, ocr_engine
from parsers.types import ParsedDocument


class WarmOcr:
    """Reads scans in this process with one engine loaded once; counts the pages it gave the engine."""

    def __init__(self, limits: Limits, engine: str | None = None):
        self.limits = limits
        self.engine = engine or ocr_engine.default_engine()
        self._pages_at_start = ocr_engine.pages_read()
        self.scans = 0

    @property
    def pages(self) -> int:
        """Pages read by the engine since this worker began (a page without the form's grid never reaches it)."""
        return ocr_engine.pages_read() - self._pages_at_start

    def load(self) -> None:
        """Load the models now, so that the first scan does not wait for them."""
        if self.engine == "rapidocr":
            ocr_engine._rapid()

    def read(self, files: list[tuple[bytes, str]], form_keywords: tuple[str, ...]) -> list[ParsedDocument | None]:
        """Each scan (bytes, file name) read as parsers.ocr.read_scans reads it; None for one that
        could not be read, and for all where no engine is installed."""
        if self.engine is None:
            return [None] * len(files)
        read = ocr.read_scans_here(files, form_keywords, self.limits.image_max_pixels, ocr.scan_pages(self.limits),
                                   self.engine)
        self.scans += len(files)
        return read
