"""Read a PDF's text layer with pdfplumber: ruled tables as Table blocks, the other lines as text."""

from __future__ import annotations

import io

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError
from pdfminer.pdftypes import resolve1
from pdfminer.psparser import PSException
from pdfplumber.utils.exceptions import PdfminerException

from parsers.types import DocumentContent, DocumentUnreadable, Table


def read_pdf(data: bytes, max_pages: int) -> DocumentContent:
    """The first `max_pages` pages. A scan without a text layer gives empty text, not an error.

    pdfminer (under pdfplumber) finds the tables; where it gives up on the file or on a page,
    PDFium reads the text alone, as a browser would show it.
    """
    try:
        pdf = _open(data, max_pages)
        with pdf:
            return _read_plumber(pdf, data, max_pages)
    except (DocumentUnreadable, PdfminerException) as failure:
        if isinstance(failure, DocumentUnreadable) and failure.reason != "corrupt":
            raise
        return _read_pdfium(data, max_pages, failure)


def _read_plumber(pdf: pdfplumber.PDF, data: bytes, max_pages: int) -> DocumentContent:
    blocks: list[str | Table] = []
    page_texts: list[str] = []
    images = 0
    fallback = None
    for index, page in enumerate(pdf.pages):
        try:
            page_blocks, text = _read_page(page)
            images += len(page.images)
        except PdfminerException:  # one broken page (a bad colour space) spoils only itself
            fallback = fallback or _pdfium_document(data)
            text = _pdfium_text(fallback, index)
            page_blocks = [line.strip() for line in text.splitlines() if line.strip()]
        blocks.extend(page_blocks)
        page_texts.append(text)
    page_count = _page_count(pdf) or len(page_texts)
    return DocumentContent(tuple(blocks), "\n".join(page_texts), image_count=images, page_count=page_count)


def _read_pdfium(data: bytes, max_pages: int, failure: Exception) -> DocumentContent:
    """Text only, for a file pdfminer cannot parse (junk before %PDF, a broken xref)."""
    document = _pdfium_document(data, failure)
    texts = [_pdfium_text(document, index) for index in range(min(len(document), max_pages))]
    lines = tuple(line.strip() for text in texts for line in text.splitlines() if line.strip())
    return DocumentContent(lines, "\n".join(texts), page_count=len(document))


def _pdfium_document(data: bytes, failure: Exception | None = None):
    import pypdfium2  # only for the rare file pdfminer gives up on

    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        reason = "encrypted" if "password" in str(error).lower() else "corrupt"
        raise DocumentUnreadable(reason, f"{failure or error}"[:300]) from None


def _pdfium_text(document, index: int) -> str:
    page = document[index]
    return page.get_textpage().get_text_range().replace("\r\n", "\n").replace("\r", "\n")


def _open(data: bytes, max_pages: int) -> pdfplumber.PDF:
    # pdfminer tries the empty user password itself: owner-password-only files open as usual
    try:
        return pdfplumber.open(io.BytesIO(data), pages=range(1, max_pages + 1))
    except PdfminerException as wrapped:
        cause = wrapped.args[0] if wrapped.args else wrapped
        if isinstance(cause, PDFEncryptionError):  # includes PDFPasswordIncorrect
            explanation = f"password-protected PDF ({type(cause).__name__})"
            raise DocumentUnreadable("encrypted", explanation) from None
        if isinstance(cause, (PSException, ValueError, KeyError, TypeError, IndexError, AttributeError)):
            raise DocumentUnreadable("corrupt", f"not a readable PDF: {cause!r}"[:300]) from None
        raise


def _page_count(pdf: pdfplumber.PDF) -> int | None:
    """The page tree's own count; a broken tree leaves it to the pages we could read."""
    try:
        count = resolve1(resolve1(pdf.doc.catalog["Pages"])["Count"])
    except (KeyError, TypeError, PSException):
        return None
    return count if isinstance(count, int) and count > 0 else None


def _read_page(page) -> tuple[list[str | Table], str]:
    """A page's tables and its lines outside them, top to bottom; and all its text."""
    tables = page.find_tables()
    placed: list[tuple[float, str | Table]] = []
    for table in tables:
        rows, columns = _table_rows(table.extract())
        if rows:
            placed.append((table.bbox[1], Table(rows, columns)))
    boxes = [table.bbox for table in tables]
    lines = page.extract_text_lines(return_chars=False)
    for line in lines:
        text = line["text"].strip()
        if text and not _inside_any(line, boxes):
            placed.append((line["top"], text))
    placed.sort(key=lambda item: item[0])
    return [block for _, block in placed], "\n".join(line["text"] for line in lines)


def _table_rows(cells: list[list[str | None]]) -> tuple[tuple, tuple]:
    """(rows, columns) as Table holds them."""
    # pdfplumber gives None where a merged cell continues: keep each cell once, where it starts
    rows, columns = [], []
    for row in cells:
        kept = [(index, cell) for index, cell in enumerate(row) if cell is not None]
        if kept:
            rows.append(tuple(cell for _, cell in kept))
            columns.append(tuple(index for index, _ in kept))
    return tuple(rows), tuple(columns)


def _inside_any(obj: dict, boxes: list[tuple[float, float, float, float]]) -> bool:
    if "x0" not in obj or "top" not in obj:
        return False
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)
