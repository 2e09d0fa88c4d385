"""Read an attachment as a document and say whether it is the form, a write-up, or something else."""

from __future__ import annotations

import os
import zipfile
from typing import Callable

from lxml import etree

from campaigns.limits import Limits
from ingest.sandbox import ChildCrashed, LimitExceeded, run_limited
from ingest.types import Attachment
from parsers.classify import classify
from parsers.fields import extract_fields
from parsers.types import DocumentContent, DocumentUnreadable, ParsedDocument

__all__ = ["parse_document", "DocumentUnreadable", "ParsedDocument"]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"

# sniffed media type → reader. Everything not named here is not a document for this stage.
READERS: dict[str, str] = {
    DOCX: "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template": "docx",
    "application/vnd.ms-word.document.macroenabled.12": "docx",
    PDF: "pdf",
    "text/plain": "text",
}
# older Word and WPS files: converted to .docx by LibreOffice (parsers/legacy.py), then read as .docx
LEGACY = frozenset({
    "application/msword", "application/vnd.ms-works", "application/wps-office.wps",
    "application/kswps", "application/rtf", "text/rtf",
})
ENCRYPTED = frozenset({"application/x-ms-office-encrypted"})  # OOXML in an OLE2 EncryptedPackage
# a 汇总表 beside the forms: material, but no nominee (CONTRACT §3)
SUMMARY = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.spreadsheet", "application/wps-office.et",
})
# a sniffer that could not tell (a truncated docx is no valid zip any more): the extension decides
GENERIC = frozenset({"application/octet-stream", "application/zip", "application/x-zip-compressed",
                     "application/x-ole-storage", "application/x-cfb", "archive", "application/x-empty",
                     "inode/x-empty"})
BY_EXTENSION = {".docx": "docx", ".docm": "docx", ".dotx": "docx", ".pdf": "pdf", ".txt": "text",
                ".doc": "legacy", ".wps": "legacy", ".rtf": "legacy", ".xlsx": "summary",
                ".xls": "summary", ".et": "summary"}

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # stream name in an encrypted OOXML

_PARSERS_DIR = os.path.dirname(os.path.abspath(__file__))


def parse_document(attachment: Attachment, form_keywords: tuple[str, ...], limits: Limits) -> ParsedDocument:
    """Read one attachment; never raises for a bad file (see ParsedDocument.unreadable)."""
    filename = attachment.filename
    route = _route(attachment)
    if route in ("other", "summary"):
        return ParsedDocument(filename, route, None)
    try:
        content = _read(route, attachment.data, limits)
    except DocumentUnreadable as unreadable:
        kind, score = classify(filename, None, {}, form_keywords)
        return ParsedDocument(filename, kind, None, {}, score, unreadable)
    fields = extract_fields(content)
    kind, score = classify(filename, content, fields, form_keywords)
    return ParsedDocument(filename, kind, content, fields if kind == "form" else {}, score)


def _route(attachment: Attachment) -> str:
    """docx, pdf, text, legacy, encrypted, empty; or other/summary for what is no document."""
    data, media_type = attachment.data, attachment.media_type.split(";")[0].strip().lower()
    extension = os.path.splitext(attachment.filename)[1].lower()
    if media_type in ENCRYPTED or (data.startswith(_OLE2_MAGIC) and _ENCRYPTED_PACKAGE in data):
        return "encrypted"  # a password-protected .docx, whatever the sniffer called it
    route = READERS.get(media_type)
    if route is None and media_type in LEGACY:
        route = "legacy"
    if route is None and media_type in SUMMARY:
        route = "summary"
    if route is None and (media_type in GENERIC or not data):
        route = BY_EXTENSION.get(extension)
    if route is None:
        return "other"
    if not data and route != "summary":
        return "empty"
    return route


def _read(route: str, data: bytes, limits: Limits) -> DocumentContent:
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
    reader, args = _reader(route, data, limits)
    try:
        return run_limited(_guarded, reader, args, seconds=limits.file_parse_seconds,
                           memory_bytes=limits.file_parse_memory_bytes)
    except LimitExceeded as exceeded:
        raise DocumentUnreadable(exceeded.kind, str(exceeded)) from None
    except ChildCrashed as crashed:  # a C library died on the file's bytes
        raise DocumentUnreadable("corrupt", f"the reader crashed: {crashed}"[:300]) from None


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
