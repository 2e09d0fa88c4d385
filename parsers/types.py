"""What the parsers hand on: a document's text and structure, and what kind of document it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Checkbox states are written into the text as these two characters, whatever the source
# used (a glyph, a content control, a FORMCHECKBOX field, a Wingdings symbol), so that the
# field reader and the normaliser see one convention.
CHECKED = "☑"
UNCHECKED = "☐"

Kind = Literal["form", "writeup", "photo_document", "summary", "other"]


@dataclass(frozen=True)
class FileData:
    """What a parser is given: the bytes, where the sender put the file (`材料.zip/张三/推荐表.docx`,
    for people and for the extension), and the media type sniffed from the bytes."""

    path: str
    data: bytes = field(repr=False)
    media_type: str

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Table:
    """A table as rows of cell texts; a merged cell appears once, where it starts."""

    rows: tuple[tuple[str, ...], ...]
    # the grid column where each cell starts, row by row, so that a value written under its
    # label can be found when merged cells make rows of different lengths; empty = by index
    columns: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class DocumentContent:
    """A readable document reduced to what the form reader needs, in reading order.

    `blocks` interleaves paragraphs (str) and tables (Table) as they stand in the document.
    `text` is all of it as plain text (body and tables, not headers or footers), used for
    counting a write-up and for recognising the form.
    """

    blocks: tuple[str | Table, ...]
    text: str
    image_count: int = 0  # pictures embedded in the body (photo documents, pasted stamps)
    page_count: int | None = None


class DocumentUnreadable(Exception):
    """The file is a document but cannot be read. `reason` is one of UNREADABLE_REASONS."""

    def __init__(self, reason: str, explanation: str = ""):
        super().__init__(explanation or reason)
        self.reason = reason
        self.explanation = explanation or reason

    def __reduce__(self):
        # readers run in a child process; the default pickling would pass only the message
        return (type(self), (self.reason, self.explanation))


UNREADABLE_REASONS = (
    "empty",  # zero bytes
    "corrupt",  # not a valid file of its type
    "encrypted",  # password-protected
    "timeout",  # took longer than the per-file limit
    "memory",  # needed more than the per-file memory limit
    "legacy_no_converter",  # .doc/.wps and no converter on this machine (needs_review)
    "unsupported",
)


@dataclass(frozen=True)
class ParsedDocument:
    """One attachment after reading: its content, its kind, and the form fields if it is a form."""

    filename: str
    kind: Kind
    content: DocumentContent | None
    fields: dict[str, str] = field(default_factory=dict)  # raw values keyed by CONTRACT §2 names
    form_score: float = 0.0  # how strongly the content says "this is the form", 0..1
    unreadable: DocumentUnreadable | None = None
