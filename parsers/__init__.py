"""Read an attachment as a document and say whether it is the form, a write-up, or something else."""

from __future__ import annotations

import os

# OpenBLAS (numpy's, and the copy inside OpenCV's wheel) starts worker threads as it loads, and the
# readers run in forked children: one thread, set here because this package is imported before
# any of its modules loads numpy or OpenCV (the modules that use them repeat it for bench scripts)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import zipfile  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Callable  # noqa: E402

from lxml import etree  # noqa: E402

from campaigns.limits import Limits  # noqa: E402
from core import children, filekinds  # noqa: E402
from parsers.classify import classify  # noqa: E402
from parsers.fields import extract_fields  # noqa: E402
from parsers.types import DocumentContent, DocumentUnreadable, FileData, ParsedDocument  # noqa: E402

__all__ = ["parse_document", "parse_documents", "DocumentUnreadable", "FileData", "ParsedDocument"]

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # stream name in an encrypted OOXML

_PARSERS_DIR = os.path.dirname(os.path.abspath(__file__))


def parse_document(file: FileData, form_keywords: tuple[str, ...], limits: Limits) -> ParsedDocument:
    """Read one file; never raises for a bad file (see ParsedDocument.unreadable)."""
    return parse_documents([file], form_keywords, limits)[0]


def parse_documents(files: list[FileData], form_keywords: tuple[str, ...], limits: Limits) -> list[ParsedDocument]:
    """Read a message's files, in order: the .docx and PDF readers of them all in one child
    process (one fork a message, not one a file), each file under its own time and memory limit
    (core/children.run_each: a file that exhausts them costs its own reading only)."""
    routes = [_route(file) for file in files]
    steps = [_first_step(route, file.data, limits) for route, file in zip(routes, files)]
    sandboxed = [index for index, step in enumerate(steps) if isinstance(step, _InChild)]
    if sandboxed:
        outcomes = children.run_each(_guarded, [(steps[i].reader, steps[i].args) for i in sandboxed],
                                     seconds=limits.file_parse_seconds, memory_bytes=limits.file_parse_memory_bytes)
        for index, outcome in zip(sandboxed, outcomes):
            steps[index] = _content_or_why(outcome)
    return [_parsed(file, route, step, form_keywords) for file, route, step in zip(files, routes, steps)]


def _parsed(file: FileData, route: str, step, form_keywords: tuple[str, ...]) -> ParsedDocument:
    if route in ("other", "summary"):
        return ParsedDocument(file.filename, route, None)
    if isinstance(step, DocumentUnreadable):
        kind, score = classify(file.filename, None, {}, form_keywords)
        return ParsedDocument(file.filename, kind, None, {}, score, step)
    fields = extract_fields(step)
    kind, score = classify(file.filename, step, fields, form_keywords)
    return ParsedDocument(file.filename, kind, step, fields if kind == "form" else {}, score)


def _route(file: FileData) -> str:
    """docx, pdf, text, legacy, encrypted, empty; or other/summary for what is no document."""
    data = file.data
    if file.media_type == filekinds.ENCRYPTED_OFFICE or (data.startswith(_OLE2_MAGIC) and _ENCRYPTED_PACKAGE in data):
        return "encrypted"  # a password-protected .docx, whatever the sniffer called it
    route = filekinds.route(file.media_type if data else "application/x-empty", file.filename)
    if not data and route not in ("summary", "other"):
        return "empty"
    return route


@dataclass(frozen=True)
class _InChild:
    """A reader still to run, in the sandbox."""

    reader: Callable
    args: tuple


def _first_step(route: str, data: bytes, limits: Limits) -> DocumentContent | DocumentUnreadable | _InChild | None:
    """What can be known without the sandbox: the content of plain text, why a file cannot be read,
    or the reader to run on it in the child (None for what is no document)."""
    if route in ("other", "summary"):
        return None
    try:
        return _without_sandbox(route, data, limits)
    except DocumentUnreadable as unreadable:
        return unreadable


def _without_sandbox(route: str, data: bytes, limits: Limits) -> DocumentContent | _InChild:
    if route == "empty":
        raise DocumentUnreadable("empty", "the file has zero bytes")
    if route == "encrypted":
        raise DocumentUnreadable("encrypted", "password-protected Office document (EncryptedPackage)")
    if route == "legacy":
        from parsers.legacy import convert_to_docx

        data, route = convert_to_docx(data, limits.convert_seconds), "docx"
    if route == "text":
        from parsers.text import read_text  # trivial and safe: no child process needed

        return read_text(data)
    return _InChild(*_reader(route, data, limits))


def _content_or_why(outcome: children.Outcome) -> DocumentContent | DocumentUnreadable:
    try:
        return outcome.get()
    except DocumentUnreadable as unreadable:
        return unreadable
    except children.LimitExceeded as exceeded:
        return DocumentUnreadable(exceeded.kind, str(exceeded))
    except children.ChildCrashed as crashed:  # a C library died on the file's bytes
        return DocumentUnreadable("corrupt", f"the reader crashed: {crashed}"[:300])


def _reader(route: str, data: bytes, limits: Limits) -> tuple[Callable, tuple]:
    # imported here, in the parent, so that each forked child starts with them loaded
    if route == "docx":
        from parsers.docx import read_docx

        return read_docx, (data,)
    from parsers.pdf import read_pdf  # pdfplumber costs ~0.1 s to import: only when a PDF comes

    return read_pdf, (data, limits.pdf_max_pages)


def _guarded(reader: Callable, args: tuple) -> DocumentContent:
    """Run a reader (in the child); a library choking on the file's bytes makes it corrupt.

    Our own mistakes are not hidden: an exception raised from code in parsers/ goes on as it is.
    """
    try:
        return reader(*args)
    except DocumentUnreadable:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, etree.XMLSyntaxError) as exc:
        raise DocumentUnreadable("corrupt", f"{type(exc).__name__}: {exc}"[:300]) from None
    except RecursionError:
        raise DocumentUnreadable("corrupt", "structure nested too deep") from None
    except MemoryError:
        raise
    except Exception as exc:
        if _raised_in_parsers(exc):
            raise
        raise DocumentUnreadable("corrupt", f"{type(exc).__name__}: {exc}"[:300]) from None


def _raised_in_parsers(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is our code rather than a library's."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return True
    filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
    return os.path.dirname(filename) == _PARSERS_DIR
