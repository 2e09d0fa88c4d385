"""The seal evaluation set, built by code from a seed: stamped and unstamped forms, and the traps.

Every page is drawn with the CJK font at 150 dpi (A4 = 1240 × 1754 pixels) and handed on as
units send it: an image-only PDF from a scanner, a JPEG photo of the page taken with a phone
(quality 60, blur, uneven light, a little turned), a .docx with pictures pasted in (a stamp
picture, the one-inch portrait, a work photo), or a text PDF with a stamp picture on it.

Seals: round (star, the unit's name along the arc) and oval, in vermilion, faint, pinkish or
faded ink, partly over the text, turned, and a grey photocopy of a stamped page. Traps, none
of which is a seal: a red title (红头, with its red rule and star), red table lines, a red
signature, the red-background one-inch ID photo (红底证件照) in the form's 照片 cell, a
photo with a red helmet, red lanterns and a red badge.

`evaluation_set(range(0, 300))` is the tuning part; `HELD_OUT` seeds are measured only.
The case of a seed is `CASES[seed % len(CASES)]`, so any run of seeds covers every case
evenly; everything else about the page (values, sizes, angles, ink) comes from the seed.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from typing import Iterator

from PIL import Image

from testing.builders.forms import FormValues
from testing.builders.seal_drawing import PAGE_SIZE, font, random_values, seal_style, stamp_picture, stamp_png
from testing.builders.seal_pages import (
    PageTraps,
    form_docx,
    form_page,
    helmet_photo,
    id_photo,
    jpeg_bytes,
    lantern_photo,
    photo_jpeg,
    png_bytes,
    scan,
    scan_pdf,
    stamp_page,
    text_pdf_with_stamp,
    to_grey_copy,
)
from testing.builders.seal_pictures import REAL_CASES, REAL_HELD_OUT, REAL_TUNING, real_picture
from testing.builders.seal_receipts import RECEIPT_HELD_OUT, RECEIPT_TUNING, receipt_picture

# the tests and benches know the whole set's builders by this one module
__all__ = [
    "CASES", "HELD_OUT", "PAGE_SIZE", "REAL_CASES", "REAL_HELD_OUT", "REAL_TUNING", "RECEIPT_HELD_OUT", "RECEIPT_TUNING",
    "SEAL_CASES", "TRAP_CASES", "TUNING",
    "case_seed", "eval_page", "evaluation_set", "font", "form_docx", "form_page", "helmet_photo", "id_photo",
    "jpeg_bytes", "lantern_photo", "ocr_scan", "random_values", "real_picture", "scan_pdf", "seal_style", "signed_pdf",
    "receipt_picture", "sm2_signed_pdf", "stamp_page", "stamp_picture", "stamp_png", "tampered",
]

TUNING = range(0, 300)
HELD_OUT = range(10_000, 10_240)

# ---------------------------------------------------------------- the evaluation set


@dataclass(frozen=True)
class EvalPage:
    """One page (or one .docx) of the evaluation set, with the truth about it."""

    seed: int
    case: str  # e.g. "round/scan_pdf", "trap:red_title/photo_jpg"
    variant: str  # the seal's kind or the trap's name
    medium: str  # scan_pdf | photo_jpg | scan_png | docx | text_pdf | photo (a picture, not a page)
    filename: str
    data: bytes
    has_seal: bool
    values: FormValues = field(default_factory=FormValues)
    traps: tuple[str, ...] = ()

    @property
    def is_trap(self) -> bool:
        return bool(self.traps) and not self.has_seal


# (variant, medium): seals of every kind, and every trap, each through the ways pages travel
SEAL_CASES = (
    ("round", "scan_pdf"), ("round", "photo_jpg"), ("oval", "scan_pdf"), ("oval", "photo_jpg"),
    ("faint", "scan_pdf"), ("faint", "photo_jpg"), ("pink", "scan_pdf"), ("pink", "photo_jpg"),
    ("faded", "scan_pdf"), ("faded", "photo_jpg"), ("over_text", "scan_pdf"), ("over_text", "photo_jpg"),
    ("rotated", "scan_pdf"), ("rotated", "scan_png"), ("photocopy", "scan_pdf"), ("photocopy", "photo_jpg"),
    ("stamp_picture", "docx"), ("stamp_picture", "text_pdf"), ("scan_in_docx", "docx"),
    ("round_on_red_title", "scan_pdf"), ("round_on_red_lines", "photo_jpg"), ("round_with_id_photo", "scan_pdf"),
)
TRAP_CASES = (
    ("plain", "scan_pdf"), ("plain", "photo_jpg"), ("plain", "docx"), ("plain", "text_pdf"),
    ("red_title", "scan_pdf"), ("red_title", "photo_jpg"), ("red_title", "text_pdf"),
    ("red_lines", "scan_pdf"), ("red_lines", "photo_jpg"),
    ("red_signature", "scan_pdf"), ("red_signature", "photo_jpg"),
    ("red_id_photo", "scan_pdf"), ("red_id_photo", "photo_jpg"), ("red_id_photo", "docx"),
    ("helmet_photo", "scan_pdf"), ("helmet_photo", "docx"), ("helmet_photo", "photo"),
    ("lantern_photo", "photo_jpg"), ("lantern_photo", "photo"),
    ("photocopy_red_title", "scan_pdf"), ("all_traps", "scan_pdf"), ("all_traps", "photo_jpg"),
)
CASES = tuple((v, m, True) for v, m in SEAL_CASES) + tuple((v, m, False) for v, m in TRAP_CASES)

_PAGE_TRAPS = {
    "red_title": PageTraps(red_title=True),
    "red_lines": PageTraps(red_lines=True),
    "red_signature": PageTraps(red_signature=True),
    "red_id_photo": PageTraps(id_photo="red"),
    "helmet_photo": PageTraps(work_photo="helmet"),
    "lantern_photo": PageTraps(work_photo="lantern"),
    "photocopy_red_title": PageTraps(red_title=True),
    "all_traps": PageTraps(red_title=True, red_lines=True, red_signature=True, id_photo="red", work_photo="helmet"),
    "round_on_red_title": PageTraps(red_title=True),
    "round_on_red_lines": PageTraps(red_lines=True, red_signature=True),
    "round_with_id_photo": PageTraps(id_photo="red"),
}
_SEAL_STYLE_OF = {"over_text": "round", "rotated": "rotated", "photocopy": "round", "stamp_picture": "round",
                  "scan_in_docx": "round", "round_on_red_title": "round", "round_on_red_lines": "round",
                  "round_with_id_photo": "round"}


def eval_page(seed: int) -> EvalPage:
    """The page of one seed (see the module docstring)."""
    variant, medium, has_seal = CASES[seed % len(CASES)]
    rng = random.Random(seed * 7919 + 17)
    values = random_values(rng, channel="组织推荐")
    traps = _PAGE_TRAPS.get(variant, PageTraps())
    trap_names = tuple(name for name, on in (
        ("red_title", traps.red_title), ("red_lines", traps.red_lines), ("red_signature", traps.red_signature),
        ("red_id_photo", traps.id_photo == "red"), (traps.work_photo or "", bool(traps.work_photo))) if on)
    case = f"{'seal' if has_seal else 'trap'}:{variant}/{medium}"
    make = lambda data, name: EvalPage(seed, case, variant, medium, name, data, has_seal, values, trap_names)  # noqa: E731
    style = seal_style(rng, _SEAL_STYLE_OF.get(variant, variant)) if has_seal else None

    if medium == "photo":  # a nominee's photo, not a page: the detector must stay quiet on it
        picture = helmet_photo(rng) if variant == "helmet_photo" else lantern_photo(rng)
        return make(jpeg_bytes(picture, 80), f"{values.name}工作照.jpg")
    if medium == "docx":
        pictures: list[tuple[str, bytes, float]] = []
        if variant == "stamp_picture":
            pictures.append(("opinion", stamp_picture(values.recommending_unit, style, rng, rng.random() < 0.6), 4.2))
        elif variant == "scan_in_docx":
            page, layout = form_page(values, rng)
            stamp_page(page, layout, values.recommending_unit, style, rng)
            pictures.append(("after", jpeg_bytes(scan(page, rng), 70), 15.0))
        elif variant == "red_id_photo":
            pictures.append(("photo", jpeg_bytes(id_photo(rng, "red", scale=rng.uniform(6, 12)), 85), 2.5))
        elif variant == "helmet_photo":
            pictures.append(("photo", jpeg_bytes(id_photo(rng, "blue", scale=8), 85), 2.5))
            pictures.append(("after", jpeg_bytes(helmet_photo(rng), 80), 12.0))
        return make(form_docx(values, pictures), f"{values.name}推荐表.docx")
    if medium == "text_pdf":
        stamp = None
        if has_seal:
            stamp = stamp_picture(values.recommending_unit, style, rng, transparent=rng.random() < 0.5)
        return make(text_pdf_with_stamp(values, stamp, red_title=variant == "red_title"), f"{values.name}推荐表.pdf")

    page, layout = form_page(values, rng, traps)
    if has_seal:
        stamp_page(page, layout, values.recommending_unit, style, rng, over_text=variant in ("over_text", "rotated"))
    if variant.startswith("photocopy"):
        page = to_grey_copy(page, rng)
    if medium == "scan_pdf":
        return make(scan_pdf(page, rng), f"{values.name}推荐表扫描件.pdf")
    if medium == "scan_png":
        return make(png_bytes(scan(page, rng)), f"{values.name}推荐表.png")
    return make(photo_jpeg(page, rng), f"{values.name}推荐表.jpg")


def evaluation_set(seeds: range) -> Iterator[EvalPage]:
    for seed in seeds:
        yield eval_page(seed)


def case_seed(case: str, seeds: range = TUNING) -> int:
    """The first seed of `seeds` whose case is `case` (e.g. "trap:red_title/scan_pdf")."""
    for seed in seeds:
        variant, medium, has_seal = CASES[seed % len(CASES)]
        if f"{'seal' if has_seal else 'trap'}:{variant}/{medium}" == case:
            return seed
    raise KeyError(case)


# ---------------------------------------------------------------- scanned forms for OCR


def ocr_scan(seed: int, medium: str = "scan_pdf", stamped: bool = True,
             values: FormValues | None = None) -> tuple[bytes, FormValues, str]:
    """A filled form, stamped, that travels as an image only: for reading its fields with OCR."""
    rng = random.Random(seed * 104729 + 3)
    values = values or random_values(rng)
    page, layout = form_page(values, rng)
    if stamped:
        stamp_page(page, layout, values.recommending_unit, seal_style(rng, "round"), rng)
    if medium == "scan_pdf":
        return scan_pdf(page, rng, quality=60), values, f"{values.name}推荐表.pdf"
    return photo_jpeg(page, rng), values, f"{values.name}推荐表.jpg"


# ---------------------------------------------------------------- electronic seals (PDF signatures)


def self_signed(folder, common_name: str = "重庆市沙坪坝区总工会") -> tuple[str, str]:
    """A key and a self-signed certificate as PEM files in `folder` (the unit's signing key)."""
    import datetime as dt
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")])
    now = dt.datetime(2017, 1, 1, tzinfo=dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(2017).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
                   .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), True)
                   .sign(key, hashes.SHA256()))
    key_path, cert_path = Path(folder) / "unit.key.pem", Path(folder) / "unit.cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


def signed_pdf(pdf: bytes, folder, stamp: bytes | None = None) -> bytes:
    """The PDF signed with pyHanko (a /Sig field), its appearance the stamp picture when given."""
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    key, cert = self_signed(folder)
    signer = signers.SimpleSigner.load(key, cert)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name="电子签章")
    if stamp is None:
        fields.append_signature_field(writer, fields.SigFieldSpec("电子签章"))
        return signers.sign_pdf(writer, meta, signer=signer).getvalue()
    spec = fields.SigFieldSpec("电子签章", on_page=0, box=(300, 150, 420, 270))
    style = StaticStampStyle(background=PdfImage(Image.open(io.BytesIO(stamp))), background_opacity=1.0)
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style, new_field_spec=spec)
    return pdf_signer.sign_pdf(writer).getvalue()


SM2_WITH_SM3 = bytes.fromhex("06082a811ccf5501833d")  # OID 1.2.156.10197.1.501 (SM2 signature with SM3)


def sm2_signed_pdf(pdf: bytes, folder) -> bytes:
    """A GB/T 38540-style seal as pyHanko sees one: a signature whose CMS names SM2 with SM3
    (here a signed PDF whose signature bytes are overwritten with such a structure)."""
    signed = signed_pdf(pdf, folder)
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    der = bytes.fromhex("3082000c") + SM2_WITH_SM3 + b"\x05\x00"
    patched = der.hex().encode()
    return signed[:start] + patched + signed[start + len(patched):]


def tampered(signed: bytes) -> bytes:
    """A signed PDF changed afterwards inside the signed bytes (a name typed over)."""
    at = signed.index(b"/Producer") if b"/Producer" in signed else 200
    return signed[:at + 2] + (b"X" if signed[at + 2:at + 3] != b"X" else b"Y") + signed[at + 3:]
