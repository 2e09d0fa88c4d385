"""Read a form that arrived only as a scan (an image-only PDF, a photo of the page) with offline OCR.

The page is put straight (the skew measured on its ruled lines), the seal's red ink is
dropped (the red channel shows black print and hides red), the table's ruled grid is found
(long horizontal and vertical strokes), and each cell of the grid becomes a cell of a
`Table` as the .docx reader would give it: the label cell 姓名 with 张三 to its right. The
text itself comes from an OCR engine that runs from what pip or apt installed, nothing
downloaded at run time:

- `rapidocr` (rapidocr-onnxruntime: PaddleOCR's PP-OCRv4 Chinese detection and recognition
  models converted to ONNX, shipped inside the wheel): the default. It reads the printed
  forms almost without error, also after JPEG quality 60, blur and uneven light, and gives
  a box for every character, so that text running across a cell border is split where the
  border is;
- `tesseract` (Debian's tesseract-ocr with tesseract-ocr-chi-sim): kept for comparison
  (`bench/seal_eval.py` measures both) and as a fallback where the ONNX runtime is missing.

The engines themselves are in parsers/ocr_engine.py; parsers/ocr_worker.py keeps one warm
for a worker that reads scan after scan.

Characters are placed in the cell that holds their centre; text outside the grid (the
title, 推荐单位（盖章）：… under the table) becomes paragraphs. `parsers.fields.extract_fields`
then reads the fields as from any document, and the nominee's fields carry the source "ocr"
(a rule they fail asks staff rather than rejecting: OCR may have misread).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# OpenBLAS (inside OpenCV's wheel) starts worker threads as it loads, and a forked reader that
# calls it afterwards may crash: one thread, set before OpenCV loads
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from parsers.ocr_engine import Glyph, available_engines, default_engine, rapid_glyphs, tesseract_glyphs
from parsers.ocr_grid import Cell, grid_cells, prepared
from parsers.types import DocumentContent, DocumentUnreadable, ParsedDocument, Table

__all__ = ["Glance", "Glyph", "available_engines", "default_engine", "grid_cells", "prepared", "read_scan", "read_scans"]

# OpenCV's own thread pool does not survive a fork (readers run in forked children, and a
# process that used it once would hand them a broken one): one thread, pages are small
cv2.setNumThreads(1)

OCR_SIDE = 2000  # long side of the page given to the OCR engine (≈ 170 dpi for A4)
# a 推荐表/申报表 is a ruled table of a dozen cells or more; a page without one is not read by
# OCR at all (seconds saved on every scanned letter, certificate or newspaper cutting)
FORM_MIN_CELLS = 12
# beside several complete typed forms a scan is first read only down to here: the title and the
# table's first row (姓名 and the name, 性别 …) tell the form's page from a letter or a 汇总表 and
# whose form it is, at about a third of a whole page's reading; beside one, the title alone
# (GLANCE_ROWS_ONE: the rows of the table read, none) tells what it is (see `Glance`)
GLANCE_ROWS = 1
GLANCE_ROWS_ONE = 0
# the opening's text lines are looked for at half the size of a whole page's (ocr_engine.DET_SIDE):
# the title's characters are large, the first row's as large as a cell's text, and the strip
# across the page's width cost most of a glance's detection at full size (77 of 117 ms of a
# glance's OCR). What a glance misses is read whole, as without it (`Glance`)
GLANCE_DET_SIDE = 640
# a glance is first taken on the page made this long: the title's characters are large, the first
# row's still read (bench.ocr_speed: 24 of 24 degraded scans with the right name), and the page's
# drawing, preparation and grid cost a quarter of those at OCR_SIDE; a page where that does not
# settle it is glanced at again, or read whole, at OCR_SIDE
GLANCE_SIDE = 1000
# a box in front of an option, read as the character 口 by OCR: ☐ when the line ticks an option too
_BOXED_OPTION = re.compile(r"口(?=[\u4e00-\u9fff])")
_TICKS = "■☑☒√✓✔▇◼●◉▣"


def glyphs_of(page: np.ndarray, engine: str, detect_side: int | None = None) -> list[Glyph]:
    if engine == "rapidocr":
        return rapid_glyphs(cv2.cvtColor(page, cv2.COLOR_GRAY2RGB), detect_side)
    if engine == "tesseract":
        return tesseract_glyphs(page)
    raise ValueError(f"unknown OCR engine {engine}")


# ---------------------------------------------------------------- the page: straight, without red, its grid


# ---------------------------------------------------------------- from characters to the form's blocks


def page_blocks(glyphs: list[Glyph], cells: list[Cell]) -> list[str | Table]:
    """Paragraphs above the table, the table, paragraphs below: as the .docx reader gives them."""
    inside: dict[int, list[Glyph]] = {}
    outside: list[Glyph] = []
    for glyph in glyphs:
        x, y = glyph.centre
        home = next((k for k, cell in enumerate(cells)
                     if cell.box[0] <= x <= cell.box[2] and cell.box[1] <= y <= cell.box[3]), None)
        if home is None:
            outside.append(glyph)
        else:
            inside.setdefault(home, []).append(glyph)
    if not cells:
        return [line for line in _lines(outside) if line]
    top = min(cell.box[1] for cell in cells)
    above = [g for g in outside if g.centre[1] < top]
    below = [g for g in outside if g.centre[1] >= top]
    rows: dict[int, list[tuple[int, str]]] = {}
    for k, cell in enumerate(cells):
        rows.setdefault(cell.row, []).append((cell.column, _repaired_label("\n".join(_lines(inside.get(k, []))))))
    ordered = [sorted(rows[r]) for r in sorted(rows)]
    table = Table(tuple(tuple(text for _, text in row) for row in ordered),
                  tuple(tuple(column for column, _ in row) for row in ordered))
    return [*_lines(above), table, *_lines(below)]


def _repaired_label(text: str) -> str:
    """A label cell that lost one character at its edge (政治面 for 政治面貌: the last glyph
    squeezed against the rule) read as the label it can only be; other text as it is."""
    from parsers.fields import LABELS, OTHER_LABELS, is_label

    key = re.sub(r"[\s:：]", "", text)
    if len(key) < 3 or is_label(text):
        return text
    known = [label for label in (*LABELS, *OTHER_LABELS)
             if len(label) == len(key) + 1 and (label.startswith(key) or label.endswith(key))]
    return known[0] if len(known) == 1 else text


def _lines(glyphs: list[Glyph]) -> list[str]:
    """Characters grouped into lines (by height), each line left to right; a wide gap is a space."""
    if not glyphs:
        return []
    height = float(np.median([g.height for g in glyphs])) or 10.0
    lines: list[list[Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: g.centre[1]):
        if lines and abs(glyph.centre[1] - np.mean([g.centre[1] for g in lines[-1]])) <= 0.5 * height:
            lines[-1].append(glyph)
        else:
            lines.append([glyph])
    texts = []
    for line in lines:
        line.sort(key=lambda g: g.box[0])
        text = line[0].text
        for before, glyph in zip(line, line[1:]):
            gap = glyph.box[0] - before.box[2]
            text += ("  " if gap > 1.2 * height else "") + glyph.text
        texts.append(_checkboxes(text.strip()))
    return texts


def _checkboxes(line: str) -> str:
    """■组织推荐 口社会举荐: the empty boxes OCR reads as 口 become ☐ where a line ticks an option."""
    if "口" in line and any(mark in line for mark in _TICKS + "☐□"):
        line = _BOXED_OPTION.sub("☐", line)
    return line


# ---------------------------------------------------------------- a whole scan


def with_ticks(page: np.ndarray, glyphs: list[Glyph]) -> list[Glyph]:
    """The ticked box ■ of an option row, which OCR engines often leave out (it is no character
    to them): solid dark squares the size of a character, put in as ■ where no glyph stands."""
    if not glyphs:
        return glyphs
    size = float(np.median([g.height for g in glyphs]))
    ink = (page < 128).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    added = []
    for x, y, w, h, area in stats[1:]:
        if not (0.35 * size <= w <= 1.1 * size and 0.35 * size <= h <= 1.1 * size and 0.75 <= w / h <= 1.33):
            continue
        if area < 0.8 * w * h:
            continue
        box = (float(x), float(y), float(x + w), float(y + h))
        centre = (x + w / 2, y + h / 2)
        if any(g.box[0] <= centre[0] <= g.box[2] and g.box[1] <= centre[1] <= g.box[3] for g in glyphs):
            continue
        added.append(Glyph("■", box))
    return glyphs + added


def read_pages(pages: list[tuple[np.ndarray, list[Cell]]], engine: str, detect_side: int | None = None) -> DocumentContent:
    """Prepared pages (see `prepared`) with their grid cells, read by the engine."""
    blocks: list[str | Table] = []
    texts: list[str] = []
    for page, cells in pages:
        glyphs = with_ticks(page, glyphs_of(page, engine, detect_side))
        page_blocks_ = page_blocks(glyphs, cells)
        blocks.extend(page_blocks_)
        texts.append("\n".join(_block_text(block) for block in page_blocks_))
    return DocumentContent(tuple(blocks), "\n".join(texts), image_count=len(pages), page_count=len(pages))


def _block_text(block: str | Table) -> str:
    if isinstance(block, Table):
        return "\n".join("  ".join(row) for row in block.rows)
    return block


@dataclass(frozen=True)
class Glance:
    """Read a scan's opening first, and the whole page only where the opening does not settle it.

    Beside a typed form that has every field a rule reads, a scan is wanted for two things only:
    is it the form's (stamped) page rather than a cover letter, and whose form is it (CONTRACT
    §3: the seal must be on the form; a district's batch joins each scan to its person). Beside
    one typed form every scan is that person's (nominees/people.py), and the title above the
    table says what the page is; beside several, the title and the table's first GLANCE_ROWS
    rows must also show the name of one of them. Otherwise (no title above the table, a misread
    name, a form whose first row names nobody) the whole page is read, as without a glance, and
    the person is found as before, by ID number or name. The fields of the rows read still count,
    after the typed form's (nominees/people.py)."""

    names: tuple[str, ...] = ()  # the typed forms' names, where there are several; spaces removed


def read_scan_here(data: bytes, filename: str, form_keywords: tuple[str, ...], max_pixels: int, max_pages: int,
                   engine: str, glance: Glance | None = None) -> ParsedDocument:
    """In this process: the scan's pages read by OCR, then its fields and kind as for any document."""
    if glance is not None:
        small = _prepared_pages(data, filename, GLANCE_SIDE, max_pixels, max_pages)
        if (opened := _glanced(small, glance, filename, form_keywords, engine)) is not None:
            return opened
    pages = _prepared_pages(data, filename, OCR_SIDE, max_pixels, max_pages)
    if not any(len(cells) >= FORM_MIN_CELLS for _, cells in pages):
        return ParsedDocument(filename, "other", None)  # no ruled table: a letter, a certificate, not the form
    if glance is not None and (opened := _glanced(pages, glance, filename, form_keywords, engine)) is not None:
        return opened
    return _as_document(filename, read_pages(pages, engine), form_keywords)


def _prepared_pages(data: bytes, filename: str, side: int, max_pixels: int,
                    max_pages: int) -> list[tuple[np.ndarray, list[Cell]]]:
    from parsers.pages import PagesUnreadable, pictures_of

    try:
        pictures = [p for p in pictures_of(data, filename, long_side=side, max_pixels=max_pixels,
                                           max_pages=max_pages) if p.context == "page"]
    except PagesUnreadable as unreadable:
        raise DocumentUnreadable("corrupt", str(unreadable)) from None
    return [(page, grid_cells(page)) for page in map(prepared, (p.image for p in pictures))]


def _glanced(pages: list[tuple[np.ndarray, list[Cell]]], glance: Glance, filename: str,
             form_keywords: tuple[str, ...], engine: str) -> ParsedDocument | None:
    """The pages read down to the rows the glance reads, as a document where that settles it (`Glance`)."""
    if not any(len(cells) >= FORM_MIN_CELLS for _, cells in pages):
        return None
    rows = GLANCE_ROWS if glance.names else GLANCE_ROWS_ONE
    # a table that starts at the page's top edge leaves nothing above it to read
    openings = [(top, cells) for top, cells in (opening(page, cells, rows) for page, cells in pages) if top.size]
    if not openings:
        return None
    opened = _as_document(filename, read_pages(openings, engine, GLANCE_DET_SIDE), form_keywords)
    return opened if _settled(opened, glance) else None


def opening(page: np.ndarray, cells: list[Cell], rows: int) -> tuple[np.ndarray, list[Cell]]:
    """The page down to the top of the table's row `rows`, and the cells of the rows above it."""
    below = [cell.box[1] for cell in cells if cell.row == rows]
    if not below:
        return page, cells
    return page[:min(below)], [cell for cell in cells if cell.row < rows]


def _settled(opened: ParsedDocument, glance: Glance) -> bool:
    if opened.kind != "form":
        return False
    return not glance.names or re.sub(r"\s+", "", opened.fields.get("name", "")) in glance.names


def _as_document(filename: str, content: DocumentContent, form_keywords: tuple[str, ...]) -> ParsedDocument:
    from parsers.classify import classify
    from parsers.fields import extract_fields

    fields = extract_fields(content)
    kind, score = classify(filename, content, fields, form_keywords)
    return ParsedDocument(filename, kind, content, fields if kind == "form" else {}, score)


def read_scans_here(files: list[tuple[bytes, str]], form_keywords: tuple[str, ...], max_pixels: int,
                    max_pages: int, engine: str, glance: Glance | None = None) -> list[ParsedDocument | None]:
    """In this process, one after the other: None for a scan that could not be read."""
    read: list[ParsedDocument | None] = []
    for data, filename in files:
        try:
            read.append(read_scan_here(data, filename, form_keywords, max_pixels, max_pages, engine, glance))
        except Exception:  # noqa: BLE001 - the engine gave up on this picture: it stays a scan, for staff
            read.append(None)
    return read


def read_scans(files: list[tuple[bytes, str]], form_keywords: tuple[str, ...], limits, engine: str | None = None,
               glance: Glance | None = None) -> list[ParsedDocument | None]:
    """The scans of one message read by OCR in one child process under the limits; None for
    each that could not be read, and for all where no engine is installed or the child failed
    (the scans then stay scans, for staff). One child for all: a district's zip of thirty
    scanned forms pays the interpreter's start and the models' load once, not thirty times.

    The child is spawned, not forked like the other readers' (core/children.py): the ONNX
    runtime's threads do not survive a fork, and a process that has run it once (a test, a
    benchmark) would hand a broken runtime to every forked child. A judging worker keeps one
    such process warm across messages instead (parsers/ocr_worker.py), under the same limits."""
    engine = engine or default_engine()
    if engine is None or not files:
        return [None] * len(files)
    pages = scan_pages(limits)
    from core import children
    from parsers import ocr_worker

    if (warm := ocr_worker.warm_reader(limits, engine)) is not None:
        try:
            return warm.read(files, form_keywords, pages, glance)
        except ocr_worker.OcrFailed:
            return [None] * len(files)
    try:
        return children.run(read_scans_here, files, form_keywords, limits.image_max_pixels, pages, engine, glance,
                            seconds=ocr_worker.time_allowed(limits, pages, len(files), starting=True),
                            memory_bytes=limits.ocr_memory_bytes, fresh=True)
    except Exception:  # noqa: BLE001 - the runtime died or the time ran out
        return [None] * len(files)


def scan_pages(limits) -> int:
    """The pages of one scan read by OCR: a form is one or two pages; more is not a form."""
    return min(limits.pdf_max_pages, 4)


def read_scan(data: bytes, filename: str, form_keywords: tuple[str, ...], limits, engine: str | None = None
              ) -> ParsedDocument | None:
    """One scan read by OCR (see `read_scans`)."""
    return read_scans([(data, filename)], form_keywords, limits, engine)[0]
