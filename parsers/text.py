"""Read a plain-text attachment: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030."""

from __future__ import annotations

import codecs
import re

from parsers.types import DocumentContent, ParsedDocument

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


# A form typed into the mail's body (CONTRACT §3): under its title, or 5 or more labels with values
PASTED_FORM_LABELS = 5
PASTED_FORM_NAME = "邮件正文"
PASTED_FORM_MAX_CHARS = 30_000
_TITLE_CHARS = 40


def pasted_form(body: str, form_keywords: tuple[str, ...]) -> ParsedDocument | None:
    """The form as read from a mail body that carries one, else None.

    A question about the form (请问推荐表怎么填？) names it but fills nothing in: a title counts
    only as a line of its own with the nominee's name filled in below it."""
    from parsers.classify import GENERIC_FORM_TITLE, form_score
    from parsers.fields import extract_fields

    if len(body) > PASTED_FORM_MAX_CHARS:
        return None  # a newsletter or spam: no form runs this long
    content = read_text(body.encode("utf-8"))
    fields = extract_fields(content)
    filled = {key for key, value in fields.items() if value.strip(" \u3000_（）()")}
    titled = any(_is_title(line, form_keywords, GENERIC_FORM_TITLE) for line in content.blocks)
    if not ((titled and "name" in filled) or len(filled) >= PASTED_FORM_LABELS):
        return None
    score = form_score(PASTED_FORM_NAME, content, fields, form_keywords)
    return ParsedDocument(f"{PASTED_FORM_NAME}.txt", "form", content, fields, score)


def _is_title(line, form_keywords: tuple[str, ...], generic) -> bool:
    if not isinstance(line, str) or len(line) > _TITLE_CHARS or re.search(r"[？?]|请问|怎么|如何", line):
        return False
    return bool(form_keywords and all(k in line for k in form_keywords)) or generic.search(line) is not None
