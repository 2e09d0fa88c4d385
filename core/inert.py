"""Text from mail made inert before people see it: in a terminal, a log, a reply, a spreadsheet, a page.

Mail is hostile input all the way to every output. A subject or a form field can carry
terminal escape sequences (ESC, BEL), line breaks that forge log entries, right-to-left
overrides that make `gpj.exe` read as `exe.jpg`, and spreadsheet formulas that Excel and WPS
run when the sheet is opened. Every value shown to a person goes through one of these.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls (tab and newline are kept where a value may have lines), DEL, the
# bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) with the marks,
# and what no XML file may hold (lone surrogates from undecodable bytes, U+FFFE, U+FFFF): a
# spreadsheet or a page with one of those cannot be written at all
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
                       "\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")
# what Excel and WPS read as the start of a formula (after NFKC: ＝ is =), and tab/CR before one
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# the most characters an Excel cell holds; a longer one makes Excel "repair" (empty) the sheet
CELL_CHARS = 32_767


def text(value: str | None) -> str:
    """Lines kept (tab and newline), every other control character gone; CRLF and CR become newlines."""
    if not value:
        return ""
    return _CONTROLS.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n"))


def one_line(value: str | None) -> str:
    """One line: subjects, names, file names. Line breaks and runs of white space become one space."""
    return _SPACES.sub(" ", text(value)).strip()


def line(value: str | None) -> str:
    """A line as built, its indentation kept: line breaks and tabs become spaces, controls go."""
    return text(value).replace("\n", " ").replace("\t", " ")


def is_formula_like(value: str) -> bool:
    return unicodedata.normalize("NFKC", value).startswith(_FORMULA_START) or value.startswith(_FORMULA_START)


def cell_text(value: str) -> str:
    """A value for a spreadsheet cell: lines kept, no control character (openpyxl refuses to write
    them), no longer than a cell holds. Whether it must be marked as text is `is_formula_like`."""
    return text(value)[:CELL_CHARS]


def cut_bytes(value: str, budget: int) -> str:
    """At most `budget` bytes of UTF-8, cut between characters."""
    return value.encode("utf-8")[:max(budget, 0)].decode("utf-8", "ignore")
