"""A warm OCR process: one engine loaded once, reading the scans of message after message.

Starting an OCR process costs about a second and a half (the interpreter, OpenCV, the ONNX
runtime and the models) before its first page, and a message with a scan paid it every time
(parsers/ocr.py `read_scans`, one fresh child per message). A judging worker, which judges
one message after another, calls `keep_warm()` once; from then on the scans it meets are read
by a `WarmOcr`: a spawned process (never forked: the ONNX runtime's threads do not survive a
fork) that keeps its engine and takes its work over a pipe.

The limits are those of the fresh child: its address space is capped at
limits.ocr_memory_bytes for its whole life, each request is given
limits.ocr_seconds_per_page for each page it may read, and a process that overruns either, or
dies, is killed and its scans stay scans for staff; the next scan starts a fresh one. What
reading leaves behind (the allocator's high-water mark, a picture that might have disturbed
the decoder) goes with the process: it is replaced after limits.ocr_pages_per_process pages.
It dies with the worker that started it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
from dataclasses import dataclass

from campaigns.limits import Limits
from parsers.types import ParsedDocument

STARTUP_SECONDS = 15.0  # the interpreter and the models, on the first request of a process

_kept: WarmOcr | None = None
_wanted: Limits | None = None


def time_allowed(limits: Limits, pages: int, scans: int, starting: bool) -> float:
    """The wall time reading `scans` scans of at most `pages` pages may take, with the process's start."""
    return limits.ocr_seconds_per_page * pages * scans + (STARTUP_SECONDS if starting else 0.0)


class OcrFailed(Exception):
    """The warm process overran its time or memory, or died: the scans it was given are not read."""


def keep_warm(limits: Limits) -> None:
    """From now on this process reads scans through a warm OCR process (started at the first scan)."""
    global _wanted
    _wanted = limits


def warm_reader(limits: Limits, engine: str) -> WarmOcr | None:
    """The warm process for these limits and this engine, when this process keeps one."""
    global _kept
    if _wanted is None or limits != _wanted:
        return None
    if _kept is not None and (_kept.engine != engine or _kept.worn_out() or not _kept.alive()):
        _kept.stop()
        _kept = None
    if _kept is None:
        _kept = WarmOcr(limits, engine)
    return _kept


def stop_warm() -> None:
    global _kept, _wanted
    if _kept is not None:
        _kept.stop()
    _kept, _wanted = None, None


@dataclass(frozen=True)
class _Request:
    files: list[tuple[bytes, str]]
    form_keywords: tuple[str, ...]
    max_pixels: int
    max_pages: int
    glance: object  # parsers.ocr.Glance or None (not imported here: the worker's parent never loads OpenCV)


class WarmOcr:
    """A spawned process with one engine, reading the scans it is sent; counts the pages it read."""

    def __init__(self, limits: Limits, engine: str):
        self.limits, self.engine = limits, engine
        context = multiprocessing.get_context("spawn")
        # its own temporary folder, gone when it stops: the ONNX runtime leaves files in TMPDIR, and a
        # process killed on its time limit removes nothing (core/children.py's fresh child does the same)
        self._scratch = tempfile.TemporaryDirectory(prefix="intake-ocr-")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, engine, limits.ocr_memory_bytes,
                                                             self._scratch.name, os.getpid()),
                                        name="intake-ocr", daemon=True)
        self._process.start()
        theirs.close()
        self.pages = 0
        self._served = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def read(self, files: list[tuple[bytes, str]], form_keywords: tuple[str, ...], max_pages: int,
             glance=None) -> list[ParsedDocument | None]:
        """As parsers.ocr.read_scans_here would read them; OcrFailed when the process overran or died."""
        seconds = time_allowed(self.limits, max_pages, len(files), starting=self._served == 0)
        try:
            self._pipe.send(_Request(files, form_keywords, self.limits.image_max_pixels, max_pages, glance))
            if not self._pipe.poll(seconds):
                raise OcrFailed(f"OCR took longer than {seconds:g} s")
            outcome, pages = self._pipe.recv()
        except (OSError, EOFError) as exc:
            self.stop()
            raise OcrFailed(f"the OCR process died ({exc.__class__.__name__})") from None
        except OcrFailed:
            self.stop()
            raise
        self._served += 1
        self.pages = pages
        if isinstance(outcome, BaseException):
            self.stop()  # out of memory inside: what it holds now is not to be trusted
            raise OcrFailed(f"the OCR process failed: {outcome!r}"[:300])
        return outcome

    def worn_out(self) -> bool:
        return self.pages >= self.limits.ocr_pages_per_process

    def alive(self) -> bool:
        return self._process.is_alive()

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)
        self._pipe.close()
        self._scratch.cleanup()


def _serve(pipe, engine: str, memory_bytes: int, scratch: str, owner: int) -> None:
    """The warm process: capped, tied to the worker that started it, reading requests until the pipe closes."""
    from core.children import die_with_parent

    die_with_parent(owner)  # before loading anything: a worker killed while this one started is noticed
    from parsers import ocr, ocr_engine

    os.environ.update(TMPDIR=scratch, TEMP=scratch, TMP=scratch)
    tempfile.tempdir = scratch
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if engine == "rapidocr":
        ocr_engine.load_rapid()
    while True:
        try:
            request: _Request = pipe.recv()
        except EOFError:
            return
        try:
            outcome = ocr.read_scans_here(request.files, request.form_keywords, request.max_pixels,
                                          request.max_pages, engine, request.glance)
        except MemoryError as exc:
            outcome = exc
        pipe.send((outcome, ocr_engine.pages_read()))
        if isinstance(outcome, BaseException):
            os._exit(1)
