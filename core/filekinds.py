"""What kind of file a sniffed media type is: one table for every stage that asks.

`category` is what a file is to a nomination (a document, a photo, a video, a summary sheet,
an archive); `route` is which document reader opens it. The bytes decide (ingest/sniff.py);
where they cannot tell (empty, truncated, an OLE2 box of unknown kind, a zip that may be a
cut-off .docx) the extension does.
"""

from __future__ import annotations

from typing import Literal

Category = Literal["document", "image", "video", "spreadsheet", "archive", "other"]
# the document reader: legacy is .doc/.wps/.rtf/.odt converted by LibreOffice, then read as docx
Route = Literal["docx", "pdf", "text", "legacy", "encrypted", "summary", "other"]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
ENCRYPTED_OFFICE = "application/x-ms-office-encrypted"  # an OOXML file saved with a password

# sniffed media type → (category, route); a route of None: the extension decides
TYPES: dict[str, tuple[Category, Route | None]] = {
    DOCX: ("document", "docx"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template": ("document", "docx"),
    "application/vnd.ms-word.document.macroenabled.12": ("document", "docx"),
    PDF: ("document", "pdf"),
    "text/plain": ("document", "text"),
    "application/msword": ("document", "legacy"),
    "application/vnd.ms-works": ("document", "legacy"),
    "application/wps-office.wps": ("document", "legacy"),
    "application/kswps": ("document", "legacy"),
    "application/rtf": ("document", "legacy"),
    "text/rtf": ("document", "legacy"),
    "application/vnd.oasis.opendocument.text": ("document", "legacy"),
    ENCRYPTED_OFFICE: ("document", "encrypted"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("spreadsheet", "summary"),
    "application/vnd.ms-excel": ("spreadsheet", "summary"),
    "application/vnd.oasis.opendocument.spreadsheet": ("spreadsheet", "summary"),
    "application/wps-office.et": ("spreadsheet", "summary"),
    "text/csv": ("spreadsheet", "other"),
    # a cut-off .docx is no valid zip any more: its extension says what it was meant to be
    "application/zip": ("archive", None),
    "application/x-zip-compressed": ("archive", None),
    "application/x-7z-compressed": ("archive", "other"),
    "application/vnd.rar": ("archive", "other"),
    "application/x-rar-compressed": ("archive", "other"),
    # containers that people send as "the video"
    "application/mp4": ("video", "other"),
    "application/vnd.ms-asf": ("video", "other"),
}
# what the bytes cannot tell: the extension decides both
UNKNOWN_TYPES = frozenset({"application/octet-stream", "application/x-ole-storage", "application/x-cfb",
                           "application/x-empty", "inode/x-empty", "archive"})

BY_EXTENSION: dict[str, tuple[Category, Route]] = {
    **dict.fromkeys(("docx", "docm", "dotx"), ("document", "docx")),
    "pdf": ("document", "pdf"),
    "txt": ("document", "text"),
    **dict.fromkeys(("doc", "wps", "rtf", "odt"), ("document", "legacy")),
    **dict.fromkeys(("xlsx", "xls", "et", "ods"), ("spreadsheet", "summary")),
    "csv": ("spreadsheet", "other"),
    **dict.fromkeys(("zip", "rar", "7z"), ("archive", "other")),
    **dict.fromkeys(("jpg", "jpeg", "png", "heic", "heif", "bmp", "gif", "webp", "tif", "tiff"), ("image", "other")),
    **dict.fromkeys(("mp4", "mpg4", "m4v", "mov", "avi", "wmv", "flv", "3gp", "mkv", "mpg", "mpeg"),
                    ("video", "other")),
}


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _bare(media_type: str) -> str:
    return media_type.split(";")[0].strip().lower()


def category(media_type: str, filename: str = "") -> Category:
    """What the file is to a nomination."""
    media_type = _bare(media_type)
    if media_type in UNKNOWN_TYPES:
        return BY_EXTENSION.get(extension(filename), ("other", "other"))[0]
    if media_type in TYPES:
        return TYPES[media_type][0]
    if media_type.startswith("image/"):
        return "image"
    if media_type.startswith("video/"):
        return "video"
    return "other"


def route(media_type: str, filename: str = "") -> Route:
    """Which document reader opens it; "other" when it is no document."""
    media_type = _bare(media_type)
    known = TYPES.get(media_type, (None, "other"))[1]
    if known is None or media_type in UNKNOWN_TYPES:
        return BY_EXTENSION.get(extension(filename), ("other", "other"))[1]
    return known


def is_read_as_document(media_type: str, filename: str) -> bool:
    """Whether the document reader looks at it (forms, write-ups, summary sheets)."""
    return category(media_type, filename) in ("document", "spreadsheet")
