"""Read a .docx with python-docx: paragraphs and tables in order, checkboxes as ☑/☐, pictures counted.

python-docx parses the main part into its Document and gives the body, its paragraphs, runs,
tables, rows and cells (their grid span, the columns before a row, vertical merges). Its
element tree (`element`, lxml) is read directly only for what it does not model: content
controls (block, row and inline, the checkbox ones among them), legacy FORMCHECKBOX fields,
w:sym and text typed in a symbol font (Wingdings), horizontal merges, text boxes, equations
and the pictures counted.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from typing import Iterator

from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.table import Table as DocxTable
from docx.table import _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from parsers.types import CHECKED, UNCHECKED, DocumentContent, DocumentUnreadable, Table

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
V = "urn:schemas-microsoft-com:vml"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# ISO 29500 Strict packages (docx2python's strict.docx) differ from Transitional only in these
# namespace names; renaming them in the bytes lets one reader serve both.
_STRICT_TO_TRANSITIONAL = (
    (b"http://purl.oclc.org/ooxml/wordprocessingml/main", W.encode()),
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships", R.encode()),
    (b"http://purl.oclc.org/ooxml/drawingml/main", A.encode()),
    (b"http://purl.oclc.org/ooxml/officeDocument/math", M.encode()),
)

# Package relationships are read with no DTD, no entities, no network. python-docx parses the
# main part with entities left unresolved and no network either: a document declaring an
# external entity (XXE) is read as if the reference were absent, nothing fetched or expanded.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True
)


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


P, TBL, TR, TC, R_, T = _w("p"), _w("tbl"), _w("tr"), _w("tc"), _w("r"), _w("t")
SDT, SDT_PR, SDT_CONTENT = _w("sdt"), _w("sdtPr"), _w("sdtContent")
TXBX = _w("txbxContent")
VAL = _w("val")
ALTERNATE, CHOICE = f"{{{MC}}}AlternateContent", f"{{{MC}}}Choice"
BLIP, IMAGEDATA = f"{{{A}}}blip", f"{{{V}}}imagedata"
EMBED, RID = f"{{{R}}}embed", f"{{{R}}}id"
W14_CHECKBOX, W14_CHECKED, W14_VAL = f"{{{W14}}}checkbox", f"{{{W14}}}checked", f"{{{W14}}}val"

# elements that only wrap block or inline content: walk through them
_WRAPPERS = {_w("customXml"), _w("ins"), _w("moveTo"), _w("smartTag"), _w("hyperlink"),
             _w("fldSimple"), _w("bdo"), _w("dir"), SDT_CONTENT}
_BREAKS = {_w("br"): "\n", _w("cr"): "\n", _w("tab"): "\t", _w("ptab"): "\t",
           _w("noBreakHyphen"): "-"}
# what python-docx's Run.text leaves out or gets wrong: such a run is read from its XML
_UNMODELLED_IN_RUN = {_w("sym"), _w("fldChar"), _w("drawing"), _w("pict"), ALTERNATE}

# Symbol fonts put their glyphs at 0x20-0xFF (or 0xF020-0xF0FF); only the marks a form uses for
# a choice matter here. Mappings after the Unicode 7 Wingdings tables: Wingdings 6F-72/A8 are
# white squares, 78/FD box with X, FC check, FE box with check, 6E black square; Wingdings 2
# 50 check, 51/53/54 box with X, 52 box with check, A2 black square, A3 white square,
# A8 square with a black square inside.
_WINGDINGS = {0x6F: UNCHECKED, 0x70: UNCHECKED, 0x71: UNCHECKED, 0x72: UNCHECKED, 0xA8: UNCHECKED,
              0x78: CHECKED, 0xFD: CHECKED, 0xFE: CHECKED, 0xFC: CHECKED, 0x6E: CHECKED}
_WINGDINGS_2 = {0x50: CHECKED, 0x51: CHECKED, 0x52: CHECKED, 0x53: CHECKED, 0x54: CHECKED,
                0xA2: CHECKED, 0xA3: UNCHECKED, 0xA8: CHECKED}
_SYMBOL_FONTS = {"wingdings": _WINGDINGS, "wingdings2": _WINGDINGS_2}
# a private-use glyph whose font comes from a style we do not read: the common checkbox codes
# of both fonts do not collide except A8, which Word's symbol dialog gives from Wingdings
_ANY_SYMBOL_FONT = {**_WINGDINGS_2, **_WINGDINGS}
_PRIVATE_USE = re.compile("[\uf000-\uf0ff]")
_BOX_GLYPHS = set("☐☑☒□■√✓✔") | {CHECKED, UNCHECKED}


def read_docx(data: bytes) -> DocumentContent:
    """The body of a WordprocessingML package (not headers, footers or notes)."""
    document = _open(data)
    body = document.element.body
    if body is None:
        raise DocumentUnreadable("corrupt", "the main part has no w:body")
    walker = _Walker(document)
    blocks = walker.blocks(body)
    text = "\n".join(_block_text(block) for block in blocks)
    return DocumentContent(tuple(blocks), text, image_count=walker.images)


def _open(data: bytes) -> DocxDocument:
    """python-docx's Document over the package's main part, found through the package
    relationships (a main part under another name, ISO Strict, a template or a macro document
    alike). Only the main part is parsed: docx.Document() parses every part of the package,
    and Word's styles.xml alone (350 KB) costs each form 10 ms that the fields do not need."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = package.read(_main_part_name(package))
    if b"purl.oclc.org/ooxml" in xml:
        for strict, transitional in _STRICT_TO_TRANSITIONAL:
            xml = xml.replace(strict, transitional)
    root = parse_xml(xml)
    if root.tag != _w("document"):
        raise DocumentUnreadable("corrupt", f"the main part is no w:document ({root.tag})")
    return DocxDocument(root, None)


def _main_part_name(package: zipfile.ZipFile) -> str:
    # the main part is found through the package relationships, not by its usual name
    names = {name.lower(): name for name in package.namelist()}
    target = "word/document.xml"
    rels = names.get("_rels/.rels")
    if rels is not None:
        for rel in etree.fromstring(package.read(rels), _PARSER):
            if rel.get("Type", "").endswith("/officeDocument") and rel.get("Target"):
                target = posixpath.normpath(rel.get("Target").lstrip("/"))
                break
    name = names.get(target.lower())
    if name is None:
        raise DocumentUnreadable("corrupt", f"no main document part ({target})")
    return name


def _block_text(block: str | Table) -> str:
    if isinstance(block, Table):
        return "\n".join("\t".join(row) for row in block.rows)
    return block


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _on(element: etree._Element, attribute: str = VAL) -> bool:
    """An OOXML on/off value: present without a value means on."""
    value = element.get(attribute)
    return value is None or value.strip().lower() not in ("0", "false", "off")


def _children(element: etree._Element) -> Iterator[etree._Element]:
    """Children, looking through wrappers (content controls, custom XML, insertions), which
    python-docx does not model: a form's table inside a content control is still the form."""
    for child in element:
        tag = child.tag
        if tag == SDT:
            content = child.find(SDT_CONTENT)
            if content is not None:
                yield from _children(content)
        elif tag in _WRAPPERS:
            yield from _children(child)
        elif tag == ALTERNATE:
            choice = child.find(CHOICE)
            if choice is not None:
                yield from _children(choice)
        else:
            yield child


class _Walker:
    """Walks a body in reading order with python-docx's objects; counts pictures as it meets them."""

    def __init__(self, document: DocxDocument) -> None:
        self.document = document
        self.images = 0

    def blocks(self, container: etree._Element) -> list[str | Table]:
        out: list[str | Table] = []
        for child in _children(container):
            if child.tag == P:
                pieces: list[str] = []
                boxes: list[str | Table] = []
                self.inline(Paragraph(child, self.document), child, pieces, boxes)
                text = "".join(pieces).strip()
                if text:
                    out.append(text)
                out.extend(boxes)  # text boxes anchored in the paragraph come after it
            elif child.tag == TBL:
                out.extend(self.table(DocxTable(child, self.document)))
            elif child.tag == _w("pict"):  # misplaced at block level by some writers, still shown
                self.graphic(child, out)
        return out

    def table(self, table: DocxTable) -> list[str | Table]:
        rows: list[tuple[str, ...]] = []
        columns: list[tuple[int, ...]] = []
        inner: list[str | Table] = []  # nested tables and text boxes, read after this table
        for tr in (child for child in _children(table._tbl) if child.tag == TR):
            texts, starts = self.row(_Row(tr, table), inner)
            rows.append(texts)
            columns.append(starts)
        return [Table(tuple(rows), tuple(columns)), *inner]

    def row(self, row: _Row, inner: list) -> tuple[tuple[str, ...], tuple[int, ...]]:
        column = row.grid_cols_before
        texts: list[str] = []
        starts: list[int] = []
        for tc in (child for child in _children(row._tr) if child.tag == TC):
            cell = _Cell(tc, row.table)
            span = max(1, cell.grid_span)
            if not _continues_merge(tc):  # a merged cell's text stands once, in the cell where it starts
                cell_blocks = _boxes_as_text(self.blocks(tc))
                texts.append("\n".join(b for b in cell_blocks if isinstance(b, str)))
                inner.extend(b for b in cell_blocks if isinstance(b, Table))
                starts.append(column)
            column += span
        return tuple(texts), tuple(starts)

    def inline(self, paragraph: Paragraph, element: etree._Element, pieces: list[str], boxes: list) -> None:
        """A paragraph's content: python-docx's runs, and what wraps runs in the XML (content
        controls, insertions, smart tags, fields, hyperlinks) walked through."""
        for child in element:
            tag = child.tag
            if tag == R_:
                self.run(Run(child, paragraph), pieces, boxes)
            elif tag == SDT:
                self.content_control(paragraph, child, pieces, boxes)
            elif tag in _WRAPPERS:
                self.inline(paragraph, child, pieces, boxes)
            elif tag == ALTERNATE:
                choice = child.find(CHOICE)
                if choice is not None:
                    self.inline(paragraph, choice, pieces, boxes)
            elif isinstance(tag, str) and tag.startswith(f"{{{M}}}"):  # equations: their text runs are m:t
                pieces.extend(t.text or "" for t in child.iter(f"{{{M}}}t"))
            # w:del, w:moveFrom, w:pPr, bookmarks and the like carry no visible text

    def content_control(self, paragraph: Paragraph, sdt: etree._Element, pieces: list[str], boxes: list) -> None:
        content = sdt.find(SDT_CONTENT)
        checkbox = sdt.find(f"{SDT_PR}/{W14_CHECKBOX}")
        inner: list[str] = []
        if content is not None:
            self.inline(paragraph, content, inner, boxes)
        if checkbox is None:
            pieces.extend(inner)
            return
        # the control's displayed glyph duplicates its state: say the state once
        checked = checkbox.find(W14_CHECKED)
        pieces.append(CHECKED if checked is not None and _on(checked, W14_VAL) else UNCHECKED)
        pieces.append("".join(ch for ch in "".join(inner) if ch not in _BOX_GLYPHS))

    def run(self, run: Run, pieces: list[str], boxes: list) -> None:
        if run.font.hidden:
            return
        properties = run._r.rPr
        symbols = _symbol_table(properties)
        if symbols is None and not any(child.tag in _UNMODELLED_IN_RUN for child in run._r):
            pieces.append(_map_symbols(run.text, None))  # python-docx models all of this run
            return
        self.run_content(run._r, symbols, pieces, boxes)

    def run_content(self, run: etree._Element, symbols: dict | None, pieces: list[str], boxes: list) -> None:
        for child in run:
            tag = child.tag
            if tag == T:
                pieces.append(_map_symbols(child.text or "", symbols))
            elif tag in _BREAKS:
                pieces.append(_BREAKS[tag])
            elif tag == _w("sym"):
                pieces.append(_sym_glyph(child))
            elif tag == _w("fldChar"):
                pieces.append(_form_checkbox_glyph(child))
            elif tag in (_w("drawing"), _w("pict")):
                self.graphic(child, boxes)
            elif tag == ALTERNATE:
                choice = child.find(CHOICE)
                if choice is not None:
                    self.run_content(choice, symbols, pieces, boxes)

    def graphic(self, element: etree._Element, boxes: list) -> None:
        """Count the pictures in a drawing; read its text boxes as blocks."""
        for child in element:
            tag = child.tag
            if tag == TXBX:
                boxes.extend(self.blocks(child))
            elif tag == BLIP:
                self.images += child.get(EMBED) is not None
            elif tag == IMAGEDATA:
                self.images += child.get(RID) is not None
            elif tag == ALTERNATE:
                choice = child.find(CHOICE)
                if choice is not None:
                    self.graphic(choice, boxes)
            elif tag != _w("object"):  # an embedded object's preview is not a picture
                self.graphic(child, boxes)


def _boxes_as_text(blocks: list[str | Table]) -> list[str | Table]:
    """A cell holding only a one-row table of one-character boxes (an ID number typed into an
    inserted row of 18 boxes) holds those characters as its text."""
    if len(blocks) == 1 and isinstance(blocks[0], Table) and len(blocks[0].rows) == 1:
        row = blocks[0].rows[0]
        if len(row) >= 6 and all(len(cell.strip()) <= 1 for cell in row):
            return ["".join(cell.strip() for cell in row)]
    return blocks


def _continues_merge(tc) -> bool:
    """Whether a cell continues a merge from above (python-docx's vMerge) or from the left
    (w:hMerge, which python-docx does not model)."""
    v_merge = tc.vMerge
    if v_merge is not None and v_merge != "restart":
        return True
    properties = tc.tcPr
    h_merge = properties.find(_w("hMerge")) if properties is not None else None
    return h_merge is not None and h_merge.get(VAL, "continue") != "restart"


def _symbol_table(properties: etree._Element | None) -> dict | None:
    if properties is None:
        return None
    fonts = properties.find(_w("rFonts"))
    if fonts is None:
        return None
    for slot in ("ascii", "hAnsi", "cs", "eastAsia"):
        name = fonts.get(_w(slot))
        if name:
            table = _SYMBOL_FONTS.get(name.replace(" ", "").lower())
            if table is not None:
                return table
    return None


def _map_symbols(text: str, symbols: dict | None) -> str:
    """Text typed in a symbol font (WPS writes "R" in Wingdings 2 for ☑) becomes its mark."""
    if symbols is not None:
        return "".join(
            symbols.get(ord(ch) & 0xFF, "") if ord(ch) < 0x100 or 0xF000 <= ord(ch) <= 0xF0FF else ch
            for ch in text
        )
    if _PRIVATE_USE.search(text):
        return _PRIVATE_USE.sub(lambda m: _ANY_SYMBOL_FONT.get(ord(m.group()) - 0xF000, ""), text)
    return text


def _sym_glyph(sym: etree._Element) -> str:
    """A w:sym (python-docx drops these): a symbol-font glyph, or a plain character."""
    code = _int_hex(sym.get(_w("char")))
    if code is None:
        return ""
    table = _SYMBOL_FONTS.get((sym.get(_w("font")) or "").replace(" ", "").lower())
    if 0xF000 <= code <= 0xF0FF or (table is not None and code < 0x100):
        return (table if table is not None else _ANY_SYMBOL_FONT).get(code & 0xFF, "")
    return chr(code) if code < 0x110000 else ""


def _int_hex(value: str | None) -> int | None:
    try:
        return int(value, 16) if value else None
    except ValueError:
        return None


def _form_checkbox_glyph(fld_char: etree._Element) -> str:
    """A legacy FORMCHECKBOX field shows no text of its own: its state is in w:ffData."""
    if fld_char.get(_w("fldCharType")) != "begin":
        return ""
    box = fld_char.find(f"{_w('ffData')}/{_w('checkBox')}")
    if box is None:
        return ""
    checked = box.find(_w("checked"))
    if checked is None:
        checked = box.find(_w("default"))
    return CHECKED if checked is not None and _on(checked) else UNCHECKED
