"""The pictures the seal bench judges: the real-like generated set, the real development set, and their re-saves.

Each item is (name, kinds, expect, filename, bytes): `expect` is red | grey | blue | none and
`kinds` tags it page / closeup / grey / phone / trap. A re-save turns the bytes into what a
phone or mail app would send (`jpeg420`: 4:2:0 JPEG at quality 75) or a scanner app would
(`pdf`: that JPEG wrapped as an image-only PDF page). The real images are read from
../shared/seals-real at run time and never copied into the repository (their licences).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

REAL = Path(__file__).resolve().parents[2] / "shared" / "seals-real"
RESAVES = ("as found", "jpeg420", "pdf")


@dataclass(frozen=True)
class Item:
    name: str
    kinds: tuple[str, ...]
    expect: str  # red | grey (a seal); blue | colour (a stamp, not red); none
    filename: str
    data: bytes

    @property
    def has_seal(self) -> bool:
        return self.expect in ("red", "grey")


def real_items() -> list[Item]:
    """The 47 labelled real pictures, or none when ../shared/seals-real is not beside the checkout."""
    manifest = REAL / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    items = []
    with manifest.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            items.append(_real_item(row))
    return items


def _real_item(row: dict) -> Item:
    tags = set(row["kind"].split(";"))
    grey = bool(tags & {"grey-black", "photocopy", "black-printed-seal"})
    blue = "blue-stamp" in tags
    expect = ("grey" if grey else "red") if row["label"] == "seal" else ("blue" if blue else "none")
    kinds = [row["scope"]]
    if grey:
        kinds.append("grey")
    if "phone-photo" in tags or "photo" in tags or any(t.endswith("-photo") for t in tags):
        kinds.append("phone")
    if row["label"] != "seal":
        kinds.append("trap")
    data = (REAL / "images" / row["file"]).read_bytes()
    return Item(row["file"], tuple(kinds), expect, row["file"], data)


def generated_items(seeds: range) -> list[Item]:
    from testing.builders.seals import real_picture

    return _built(real_picture, seeds)


def receipt_items(seeds: range) -> list[Item]:
    """Phone photos of receipts with a black rectangular fee seal, and without one (testing/builders/seal_receipts.py)."""
    from testing.builders.seals import receipt_picture

    return _built(receipt_picture, seeds)


def _built(make, seeds: range) -> list[Item]:
    pictures = ((seed, make(seed)) for seed in seeds)
    return [Item(f"{p.case}#{seed}", p.kinds, p.expect, p.filename, p.data) for seed, p in pictures]


def resaved(item: Item, how: str) -> Item:
    """The item as found, or re-saved as a 4:2:0 JPEG (quality 75), or that JPEG as an image-only PDF."""
    if how == "as found":
        return item
    jpeg = jpeg420(item.data)
    stem = item.filename.rsplit(".", 1)[0]
    if how == "jpeg420":
        return Item(item.name, item.kinds, item.expect, stem + ".jpg", jpeg)
    picture = Image.open(io.BytesIO(jpeg))
    buffer = io.BytesIO()
    picture.save(buffer, "PDF", resolution=150)  # Pillow embeds the JPEG as it is (DCTDecode)
    return Item(item.name, item.kinds, item.expect, stem + ".pdf", buffer.getvalue())


def jpeg420(data: bytes, quality: int = 75) -> bytes:
    """Decoded as a viewer shows it (transparency over white paper), saved with 4:2:0 colour."""
    image = Image.open(io.BytesIO(data))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality, subsampling=2)
    return buffer.getvalue()
