"""Electronic seals in a PDF: signed signature fields (/Sig), listed and checked with pyHanko.

A unit that stamps electronically (电子签章) signs the PDF; the stamp picture is the
signature's appearance, which the page render shows and the picture detector sees too. Here
every filled signature field counts as an electronic seal, reported with whether it checks:

- a CMS signature pyHanko can check: `verified` when the signed bytes are intact and the
  signature is cryptographically valid. Trust in the signer's certificate is not judged
  (the units' CAs are not ours to list), and nothing is fetched from the network;
- a Chinese seal after GB/T 38540 signs with SM2/SM3, which pyHanko cannot check: present,
  `verified` None (not checked);
- a signature whose bytes were changed after signing: present but not verified, and with a
  lower confidence, so that staff look.

`stamp_hints` finds where the text layer says 盖章 or 推荐单位意见, for the picture detector.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

# OID arc 1.2.156.10197 (China's commercial cryptography: SM2, SM3, SM4) as DER bytes
_SM_OID_ARC = bytes.fromhex("2a811ccf55")
_SM_SUBFILTER_WORDS = ("SM2", "GB", "SES")
# how sure a signature makes us that the form carries its unit's seal
CONFIDENCE = {"verified": 0.95, "sm2": 0.9, "unchecked": 0.8, "broken": 0.5}
_STAMP_WORDS = ("盖章", "公章", "推荐单位意见", "所在单位意见")


@dataclass(frozen=True)
class Signature:
    field: str
    subfilter: str
    signer: str  # the certificate's subject, as people read it
    kind: str  # "verified" | "sm2" | "unchecked" | "broken"
    page: int | None = None  # 0-based page of its widget, when known

    @property
    def where(self) -> str:
        page = f"p{self.page + 1} " if self.page is not None else ""
        return f"{page}电子签章 {self.field}".strip()

    @property
    def confidence(self) -> float:
        return CONFIDENCE[self.kind]

    @property
    def verified(self) -> bool | None:
        return {"verified": True, "broken": False}.get(self.kind)


def pdf_signatures(data: bytes) -> list[Signature]:
    """Every filled signature field of a PDF; [] for a PDF without one or that pyHanko cannot read."""
    if b"/Sig" not in data and b"/ByteRange" not in data:
        return []  # no signature dictionary anywhere (unless in a compressed object stream)
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            reader.decrypt(b"")  # an owner-password-only PDF opens with the empty user password
        embedded = list(reader.embedded_signatures)
    except Exception:  # noqa: BLE001 - pyHanko cannot walk the file or parse a signature in it
        return _raw_signatures(data)
    return [_signature(item) for item in embedded]


_RAW_CONTENTS = re.compile(rb"/ByteRange\s*\[[\d\s]+\][^<]{0,400}?/Contents\s*<([0-9A-Fa-f\s]{64,})>"
                           rb"|/Contents\s*<([0-9A-Fa-f\s]{64,})>[^<]{0,400}?/ByteRange\s*\[")


def _raw_signatures(data: bytes) -> list[Signature]:
    """Signature dictionaries found in the bytes themselves, for a file or a signature pyHanko
    cannot parse (Chinese e-seal software writes CMS that it does not know): present, unchecked."""
    found = []
    for number, match in enumerate(_RAW_CONTENTS.finditer(data), start=1):
        hex_digits = re.sub(rb"\s", b"", match.group(1) or match.group(2))
        try:
            contents = bytes.fromhex(hex_digits.decode("ascii"))
        except ValueError:
            continue
        kind = "sm2" if _SM_OID_ARC in contents else "unchecked"
        found.append(Signature(f"签名{number}", "", "", kind))
    return found


def _signature(embedded) -> Signature:
    sig = embedded.sig_object
    subfilter = str(sig.get("/SubFilter", "")).lstrip("/")
    try:
        contents = bytes(sig.get("/Contents", b""))
    except Exception:  # noqa: BLE001
        contents = b""
    try:
        signer = embedded.signer_cert.subject.human_friendly if embedded.signer_cert else ""
    except Exception:  # noqa: BLE001 - a certificate pyHanko cannot parse (SM2 curves often)
        signer = ""
    if _SM_OID_ARC in contents or any(word in subfilter.upper() for word in _SM_SUBFILTER_WORDS):
        kind = "sm2"
    else:
        kind = _checked(embedded)
    return Signature(str(embedded.field_name), subfilter, signer, kind, _page_of(embedded))


def _checked(embedded) -> str:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        context = ValidationContext(trust_roots=[], allow_fetching=False)  # integrity only; no CA list, no network
        status = validate_pdf_signature(embedded, context, skip_diff=True)
    except Exception:  # noqa: BLE001 - an algorithm it does not know, a malformed CMS
        return "unchecked"
    return "verified" if status.intact and status.valid else "broken"


def _page_of(embedded) -> int | None:
    try:
        widget = embedded.sig_field
        page_ref = widget.get("/P") if hasattr(widget, "get") else None
        if page_ref is None:
            return None
        pages = embedded.reader.root["/Pages"]
        return _page_index(pages, page_ref.get_object())
    except Exception:  # noqa: BLE001 - the page is a nicety for staff
        return None


def _page_index(pages, target) -> int | None:
    index = 0
    stack = [pages]
    while stack:
        node = stack.pop(0)
        kids = node.get("/Kids")
        if kids is None:
            if node == target:
                return index
            index += 1
            continue
        stack[0:0] = [kid.get_object() for kid in kids]
    return None


def all_verified(signatures: list[Signature]) -> bool | None:
    if not signatures:
        return None
    states = {s.verified for s in signatures}
    if False in states:
        return False
    return True if states == {True} else None


def stamp_hints(data: bytes, max_pages: int) -> dict[int, tuple[tuple[float, float], ...]]:
    """Page index → where (x, y in 0..1, y down) the text layer says 盖章 or 推荐单位意见."""
    import pypdfium2

    hints: dict[int, tuple[tuple[float, float], ...]] = {}
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        return hints
    try:
        for index in range(min(len(document), max_pages)):
            page = document[index]
            width, height = page.get_size()
            text_page = page.get_textpage()
            found = []
            for word in _STAMP_WORDS:
                searcher = text_page.search(word)
                while (hit := searcher.get_next()) is not None:
                    start, count = hit
                    left, bottom, right, top = text_page.get_charbox(start)
                    found.append(((left + right) / 2 / width, 1 - (top + bottom) / 2 / height))
            if found:
                hints[index] = tuple(found)
    except pypdfium2.PdfiumError:
        pass
    finally:
        document.close()
    return hints
