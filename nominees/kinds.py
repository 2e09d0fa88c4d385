"""What broad kind of file a sniffed media type is, as far as a nomination is concerned."""

from __future__ import annotations

from typing import Literal

from ingest.types import Attachment

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
        "application/x-ms-office-encrypted",  # a password-protected .docx
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
VIDEO_TYPES = frozenset({"application/mp4", "application/vnd.ms-asf", "video/x-ms-asf", "video/x-ms-wmv"})
# What the bytes cannot tell (empty, truncated, an unknown OLE2 file): the extension decides.
UNKNOWN_TYPES = frozenset({"application/octet-stream", "application/x-ole-storage", "application/x-empty"})
_BY_EXTENSION: dict[str, Category] = {
    **dict.fromkeys(("docx", "doc", "wps", "pdf", "txt", "rtf", "odt", "docm"), "document"),
    **dict.fromkeys(("xlsx", "xls", "et", "csv"), "spreadsheet"),
    **dict.fromkeys(("zip", "rar", "7z"), "archive"),
    **dict.fromkeys(("jpg", "jpeg", "png", "heic", "heif", "bmp", "gif", "webp", "tif", "tiff"), "image"),
    **dict.fromkeys(("mp4", "mpg4", "m4v", "mov", "avi", "wmv", "flv", "3gp", "mkv", "mpg", "mpeg"), "video"),
}


def category(media_type: str, filename: str = "") -> Category:
    if media_type in UNKNOWN_TYPES:
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return _BY_EXTENSION.get(extension, "other")
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


def category_of(attachment: Attachment) -> Category:
    return category(attachment.media_type, attachment.filename)


def is_parsed_as_document(media_type: str, filename: str) -> bool:
    """Whether the document reader should look at it (forms, write-ups, summary sheets)."""
    return category(media_type, filename) in ("document", "spreadsheet")
