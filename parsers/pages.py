"""A document's pages as pictures, for the seal detector and for OCR.

A PDF's pages are rendered with PDFium (form fields and annotations drawn, so a stamp in a
signature's appearance shows); a .docx gives the pictures pasted into it (a stamp picture,
a pasted scan, the one-inch portrait); a JPEG/PNG/HEIC is one page, turned upright by its
EXIF orientation. Pictures are decoded under the pixel limit and made smaller on the way
(a JPEG is decoded at a reduced scale directly), so a 12-megapixel phone photo costs little.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

Context = Literal["page", "picture"]
# picture formats Word keeps in word/media that Pillow reads; EMF/WMF/SVG are drawings, not stamps
_DOCX_PICTURES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")


class PagesUnreadable(Exception):
    """The file gives no picture: not a PDF/docx/image we can open, or over the pixel limit."""


@dataclass(frozen=True)
class PagePicture:
    """One page (or one pasted picture) as RGB pixels, and where it is, as staff would say it."""

    where: str  # "推荐表.pdf p1", "推荐表.docx 图2", "推荐表.jpg"
    image: np.ndarray  # H × W × 3, uint8
    context: Context  # "page": a whole page; "picture": a picture pasted into a document


def kind_of(data: bytes, filename: str = "") -> str | None:
    """"pdf", "docx", "image" from the bytes (the extension only breaks a tie), else None."""
    if data[:1024].lstrip().startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                return "docx" if "word/document.xml" in package.namelist() else None
        except zipfile.BadZipFile:
            return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(data))
        return "image"
    except Exception:  # noqa: BLE001 - not a picture Pillow knows
        return None


def pictures_of(data: bytes, filename: str, *, long_side: int, max_pixels: int, max_pages: int) -> list[PagePicture]:
    """Every page or pasted picture of a file, at most `long_side` pixels on the long side."""
    kind = kind_of(data, filename)
    if kind == "pdf":
        return pdf_pages(data, filename, long_side=long_side, max_pages=max_pages)
    if kind == "docx":
        return docx_pictures(data, filename, long_side=long_side, max_pixels=max_pixels, limit=max_pages)
    if kind == "image":
        return [PagePicture(filename, image_pixels(data, long_side=long_side, max_pixels=max_pixels), "page")]
    raise PagesUnreadable(f"{filename}: neither a PDF, a .docx nor a picture")


def pdf_pages(data: bytes, filename: str, *, long_side: int, max_pages: int) -> list[PagePicture]:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        raise PagesUnreadable(f"{filename}: {error}") from None
    try:
        try:
            document.init_forms()  # draw form fields, signature appearances among them
        except pypdfium2.PdfiumError:
            pass
        pages = []
        for index in range(min(len(document), max_pages)):
            page = document[index]
            width, height = page.get_size()
            scale = long_side / max(width, height, 1)
            bitmap = page.render(scale=scale, draw_annots=True, may_draw_forms=True)
            pages.append(PagePicture(f"{filename} p{index + 1}", np.array(bitmap.to_pil().convert("RGB")), "page"))
        return pages
    finally:
        document.close()


def docx_has_pictures(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return any(name.startswith("word/media/") and name.lower().endswith(_DOCX_PICTURES)
                       for name in package.namelist())
    except zipfile.BadZipFile:
        return False


def docx_pictures(data: bytes, filename: str, *, long_side: int, max_pixels: int, limit: int) -> list[PagePicture]:
    """The pictures in word/media (body, headers, text boxes alike), in the package's order."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise PagesUnreadable(f"{filename}: {error}") from None
    pictures = []
    with package:
        names = [info for info in package.infolist()
                 if info.filename.startswith("word/media/") and info.filename.lower().endswith(_DOCX_PICTURES)]
        for number, info in enumerate(names[:limit], start=1):
            if info.file_size > 64 * 1024 * 1024:
                continue
            try:
                pixels = image_pixels(package.read(info), long_side=long_side, max_pixels=max_pixels)
            except PagesUnreadable:
                continue
            pictures.append(PagePicture(f"{filename} 图{number}", pixels, "picture"))
    return pictures


def image_pixels(data: bytes, *, long_side: int, max_pixels: int) -> np.ndarray:
    """A picture decoded upright, transparent parts as white paper, at most `long_side` on the long side."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise PagesUnreadable(f"{width}×{height} pixels, over the limit of {max_pixels}")
            if image.format == "JPEG" and max(width, height) > 2 * long_side:
                image.draft("RGB", (width * long_side // max(width, height), height * long_side // max(width, height)))
            image = ImageOps.exif_transpose(image)
            image.load()
    except PagesUnreadable:
        raise
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - Pillow raises anything on hostile bytes
        raise PagesUnreadable(f"{type(error).__name__}: {error}"[:300]) from None
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    image = image.convert("RGB")
    if max(image.size) > long_side:
        factor = long_side / max(image.size)
        image = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                             Image.Resampling.BILINEAR)
    return np.asarray(image)
