"""Read a plain-text attachment: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030."""

from __future__ import annotations

import codecs

from parsers.types import DocumentContent

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_text(data: bytes) -> DocumentContent:
    """Each non-blank line is a paragraph block."""
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    lines = tuple(line.strip() for line in text.split("\n") if line.strip())
    return DocumentContent(lines, text)


def decode_text(data: bytes) -> str:
    # a BOM settles it; then UTF-8, which rarely decodes anything else by accident; then the
    # Chinese Windows code page (GBK's superset), which nearly always decodes
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")
