"""A document's pages as pictures, for the seal detector and for OCR.

A PDF's pages are rendered with PDFium (form fields and annotations drawn, so a stamp in a
signature's appearance shows); a .docx gives the pictures pasted into it (a stamp picture,
a pasted scan, the one-inch portrait); a JPEG/PNG/HEIC is one page, turned upright by its
EXIF orientation. Pictures are decoded under the pixel limit and made smaller on the way
(a JPEG is decoded at a reduced scale directly), so a 12-megapixel phone photo costs little.
For the seal (`for_seal=True`), what is printed on every page is left out: the pictures of a
.docx's headers and footers (letterhead logos) and the running-header band of a PDF page
that has a text layer (CONTRACT §3: those are never seals).
"""

from __future__ import annotations

import io
import posixpath
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

Context = Literal["page", "picture"]
# picture formats Word keeps in word/media that Pillow reads; EMF/WMF/SVG are drawings, not stamps
_DOCX_PICTURES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
_RUNNING_PART = re.compile(r"(header|footer)\d*\.xml$")
RUNNING_HEADER = 0.07  # of a text PDF page's height: the band a running header or letterhead logo sits in


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


def pictures_of(data: bytes, filename: str, *, long_side: int, max_pixels: int, max_pages: int,
                for_seal: bool = False) -> list[PagePicture]:
    """Every page or pasted picture of a file, at most `long_side` pixels on the long side;
    `for_seal`: without headers and footers (see the module's docstring)."""
    kind = kind_of(data, filename)
    if kind == "pdf":
        return pdf_pages(data, filename, long_side=long_side, max_pages=max_pages, for_seal=for_seal)
    if kind == "docx":
        return docx_pictures(data, filename, long_side=long_side, max_pixels=max_pixels, limit=max_pages,
                             for_seal=for_seal)
    if kind == "image":
        return [PagePicture(filename, image_pixels(data, long_side=long_side, max_pixels=max_pixels), "page")]
    raise PagesUnreadable(f"{filename}: neither a PDF, a .docx nor a picture")


def pdf_pages(data: bytes, filename: str, *, long_side: int, max_pages: int,
              for_seal: bool = False) -> list[PagePicture]:
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
            if for_seal:  # a scan is drawn at its own pixels (up to twice the size asked), and made
                # smaller as a picture file is: PDFium's drawing smaller loses a pale thin ring,
                # drawing it larger than it was taken only blurs one
                native = _scan_scale(page, width * height)
                scale = min(native, 2 * scale) if native != float("inf") else scale
            try:
                pixels = _rgb(page.render(scale=scale, draw_annots=True, may_draw_forms=True))
            except pypdfium2.PdfiumError as error:  # no bitmap for it: a page too large for the memory left
                raise PagesUnreadable(f"{filename} p{index + 1}: {error}") from None
            if max(pixels.shape[:2]) > long_side:
                factor = long_side / max(pixels.shape[:2])
                height, width = pixels.shape[:2]
                pixels = np.array(Image.fromarray(pixels).resize(
                    (max(1, round(width * factor)), max(1, round(height * factor))), Image.Resampling.BILINEAR))
            if for_seal and _has_text(page):  # a scan's page is a picture and has no running header
                pixels[: int(RUNNING_HEADER * pixels.shape[0])] = 255
            pages.append(PagePicture(f"{filename} p{index + 1}", pixels, "page"))
        return pages
    finally:
        document.close()


# the RGB channels of PDFium's bitmap modes, in order
_CHANNELS = {"BGR": [2, 1, 0], "BGRA": [2, 1, 0], "BGRX": [2, 1, 0], "RGB": [0, 1, 2], "RGBA": [0, 1, 2],
             "RGBX": [0, 1, 2]}


def _rgb(bitmap) -> np.ndarray:
    """The rendered page as RGB pixels taken from PDFium's buffer: Pillow's image of it, converted
    and copied out, cost 19 ms of a 2000-pixel page's 40, this about 2, for the same pixels."""
    pixels = bitmap.to_numpy()
    if pixels.ndim == 2:
        return np.repeat(pixels[..., np.newaxis], 3, axis=2)
    channels = _CHANNELS.get(bitmap.mode)
    if channels is None:  # a mode PDFium was not asked for: as Pillow converts it
        return np.array(bitmap.to_pil().convert("RGB"))
    return pixels[..., channels]


def _scan_scale(page, area: float) -> float:
    """Pixels per point of a picture that covers the page (an image-only PDF's scan), else no limit."""
    import pypdfium2.raw as pdfium_raw

    try:
        for item in page.get_objects(max_depth=1):
            if item.type != pdfium_raw.FPDF_PAGEOBJ_IMAGE:
                continue
            left, bottom, right, top = item.get_bounds()
            if (right - left) * (top - bottom) >= 0.8 * area:
                pixels = max(item.get_px_size())
                return pixels / max(right - left, top - bottom, 1)
    except Exception:  # noqa: BLE001 - PDFium on a broken page: draw it at the usual size
        pass
    return float("inf")


def _has_text(page) -> bool:
    try:
        textpage = page.get_textpage()
        try:
            return textpage.count_chars() > 0
        finally:
            textpage.close()
    except Exception:  # noqa: BLE001 - PDFium on a broken page: treat it as a picture
        return False


def docx_has_pictures(data: bytes, for_seal: bool = False) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            running = running_media(package) if for_seal else set()
            return any(name.startswith("word/media/") and name.lower().endswith(_DOCX_PICTURES)
                       and name not in running for name in package.namelist())
    except zipfile.BadZipFile:
        return False


def running_media(package: zipfile.ZipFile) -> set[str]:
    """The word/media pictures that only headers and footers show (a letterhead's logo);
    a picture also placed in the body, or placed nowhere, stays."""
    users: dict[str, set[str]] = {}
    for name in package.namelist():
        if not (name.startswith("word/_rels/") and name.endswith(".rels")):
            continue
        part = name[len("word/_rels/"):-len(".rels")]
        for target in re.findall(rb'Target="([^"]+)"', package.read(name)):
            text = target.decode("utf-8", "replace")
            path = text.lstrip("/") if text.startswith("/") else posixpath.normpath(posixpath.join("word", text))
            users.setdefault(path, set()).add(part)
    return {path for path, parts in users.items() if all(_RUNNING_PART.match(part) for part in parts)}


def docx_pictures(data: bytes, filename: str, *, long_side: int, max_pixels: int, limit: int,
                  for_seal: bool = False) -> list[PagePicture]:
    """The pictures in word/media (body, headers, text boxes alike; `for_seal`: not those of
    headers and footers), in the package's order."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise PagesUnreadable(f"{filename}: {error}") from None
    pictures = []
    with package:
        running = running_media(package) if for_seal else set()
        names = [info for info in package.infolist()
                 if info.filename.startswith("word/media/") and info.filename.lower().endswith(_DOCX_PICTURES)
                 and info.filename not in running]
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
