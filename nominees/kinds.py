"""What broad kind of file a sniffed media type is, as far as a nomination is concerned."""

from __future__ import annotations

from typing import Literal

Category = Literal["document", "image", "video", "spreadsheet", "archive", "other"]

DOCUMENT_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-works",
        "application/wps-office.wps",
        "application/rtf",
        "text/plain",
        "application/vnd.oasis.opendocument.text",
    }
)
SPREADSHEET_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/wps-office.et",
        "text/csv",
    }
)
ARCHIVE_TYPES = frozenset(
    {"application/zip", "application/x-7z-compressed", "application/vnd.rar", "application/x-rar-compressed"}
)
# video/* and audio-free containers that people send as "the video"
VIDEO_TYPES = frozenset({"application/vnd.ms-asf", "video/x-ms-asf", "video/x-ms-wmv", "video/x-flv"})


def category(media_type: str) -> Category:
    if media_type in DOCUMENT_TYPES:
        return "document"
    if media_type in SPREADSHEET_TYPES:
        return "spreadsheet"
    if media_type in ARCHIVE_TYPES:
        return "archive"
    if media_type.startswith("image/"):
        return "image"
    if media_type.startswith("video/") or media_type in VIDEO_TYPES:
        return "video"
    return "other"


def is_parsed_as_document(media_type: str) -> bool:
    """Whether the document reader should look at it (forms, write-ups, summary sheets)."""
    return category(media_type) in ("document", "spreadsheet")
