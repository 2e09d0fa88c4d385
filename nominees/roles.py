"""What each file of a message is to the nomination: the form, a scan of it, a photo, a video,
the write-up, or something else (CONTRACT §3). Content first, the file's name second."""

from __future__ import annotations

import io
import warnings

from ingest.types import Attachment
from nominees.normalise import clean_id_number, clean_name
from nominees.types import NominationFile, Role
from parsers.classify import LETTER_TITLE, heading
from parsers.fields import extract_fields
from parsers.media import MediaProbe
from parsers.types import ParsedDocument

# a picture inside the HTML body is a photo from 0.3 megapixels up (640×480); logos and banners are smaller
INLINE_PHOTO_MIN_PIXELS = 300_000
# A file whose name says it is the form counts as the form even when it cannot be read.
FORM_FILE_WORDS = ("推荐表", "申报表", "登记表", "推荐人选")
# an ID portrait (for the form's 照片 cell) is not a photo of the nominee's deeds
PORTRAIT_FILE_WORDS = ("一寸", "二寸", "寸照", "证件照", "免冠", "登记照")


def source_of(attachment: Attachment) -> str:
    media = attachment.media_type
    if media == "application/pdf":
        return "pdf"
    if media == "text/plain":
        return "text"
    return "docx"


def is_signature_image(attachment: Attachment) -> bool:
    """Logos and banners shown inside the HTML body are not nomination material; a photo put into
    the body (QQ Mail's and Foxmail's 插入图片) is, like an attached one (CONTRACT §3)."""
    if not (attachment.content_id and attachment.inline and attachment.category == "image"):
        return False
    return _pixels(attachment.data) < INLINE_PHOTO_MIN_PIXELS


def _pixels(data: bytes) -> int:
    """Width × height from the picture's header, without decoding it; a picture that does not
    open counts as large, so that it is probed and judged like an attachment."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a bomb's warning: the probe judges it
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Exception:  # noqa: BLE001 - Pillow raises anything on hostile bytes
        return INLINE_PHOTO_MIN_PIXELS
    return width * height


def name_says_form(filename: str) -> bool:
    return any(word in filename for word in FORM_FILE_WORDS)


def is_textless_pdf(nf: NominationFile) -> bool:
    document = nf.document
    return (
        nf.attachment.media_type == "application/pdf"
        and document is not None
        and document.unreadable is None
        and document.content is not None
        and not document.content.text.strip()
    )


def _image_role(attachment: Attachment, probe: MediaProbe | None) -> Role:
    """A picture is the form's page, an ID portrait, or a photo: by its content first, its name second.

    Content (parsers.photo): mostly white, unsaturated, with several lines of dark ink is a
    page (a scan, or a photo of the printed form) → `form_scan`; small, upright about 5:7 with
    a plain even background above and beside the head is a one-inch portrait → `other`.
    What the content does not settle (a page photographed on a desk, a picture that does not
    decode) the name settles: 推荐表/申报表… → `form_scan`, 一寸/证件照… → `other`.
    Everything else is a photo.
    """
    if probe is not None and probe.decodable:
        if probe.page_like and not (LETTER_TITLE.search(attachment.filename) and not name_says_form(attachment.filename)):
            return "form_scan"
        if probe.portrait_like:
            return "other"
    if name_says_form(attachment.filename):
        return "form_scan"
    if LETTER_TITLE.search(attachment.filename):
        return "other"  # 推荐函.jpg: a letter, not the form, whatever its page looks like
    if any(word in attachment.filename for word in PORTRAIT_FILE_WORDS):
        return "other"
    return "photo"


def role_of(attachment: Attachment, document: ParsedDocument | None, probe: MediaProbe | None = None) -> Role:
    kind = attachment.category
    if kind == "image":
        return _image_role(attachment, probe)
    if kind == "video":
        return "video"
    if document is None:
        return "other"
    if document.unreadable is None and document.content is not None and not document.content.text.strip():
        # a scanned PDF: no text layer to read
        return "form_scan" if name_says_form(attachment.filename) else "other"
    if document.kind == "writeup":
        return "writeup"
    if document.kind == "form" and document.unreadable is None:
        return "form"
    if document.kind == "photo_document":
        return "photo"  # 照片.docx, 工作照.pdf: its pictures count as photos
    return "other"


def form_page(read: ParsedDocument, filename: str) -> bool:
    """Whether a scan read by OCR is a page of the form: read as the form, or a ruled table with
    the form's labels (the second page: 主要事迹, 推荐单位意见 and the seal) under no letter's title.
    A page without a ruled table (a cover letter, an envelope) is not, unless its name says it is
    the form: a scan OCR could not make out stays the form's, for staff."""
    if read.kind == "form":
        return True
    if read.content is None:
        return name_says_form(filename)
    if LETTER_TITLE.search(heading(read.content)):
        return False
    return bool(extract_fields(read.content))


def blank_form(nf: NominationFile) -> bool:
    """A form with neither a name nor an ID number written in: the empty form itself."""
    fields = nf.document.fields if nf.document is not None else {}
    return (nf.role == "form" and nf.unreadable is None
            and not clean_name(fields.get("name", "")) and not clean_id_number(fields.get("id_number", "")))
