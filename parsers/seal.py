"""Is there an official seal (公章) on the form? Seen on its pages, or signed into the PDF.

`read_seal(data, filename, limits)` looks at one file of the nominee's form material: every
rendered page of a PDF (and its signature fields, parsers/esign.py), every picture pasted
into a .docx (a .doc/.wps through its LibreOffice conversion), or the page a JPEG/PNG shows.
It runs in a sandboxed child under the time and memory limits and never raises for a bad
file. The answer is a `SealReading`: present or not, a confidence 0..1, and where
(`"推荐表.pdf p1"`, `"推荐表.docx 图1"`, `"推荐表.pdf p1 电子签章 Signature1"`).

On a picture the detector is classical image analysis on the CPU, about a tenth of a second
a page, no model to download (parsers/seal_features.py and seal_shape.py measure,
parsers/seal_detector.py decides, parsers/seal_colour.py names the ink): a seal is a ring of
red ink, hollow, round or oval, with the unit's name along it, of any size from a stamp on a
page to a close-up that the ring fills or overflows. A ring in grey or black (a photocopy),
blue or another ink, a ring cut by the edge or without text is never a pass by itself: its
confidence stays in the review band (at most DOUBTFUL) with a reason for staff (REASONS).
Pictures in a .docx's headers and footers and a text PDF's running-header band are not
looked at. Where the PDF's text layer says 盖章 / 推荐单位意见, a ring near it gains a little;
nowhere is a seal refused for its position. `combine` takes the most confident page over all
the files. One picture alone: parsers/seal_page.py `judge_page`.
"""

from __future__ import annotations

from dataclasses import dataclass

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# below this confidence a page shows no seal; the profile's uncertain band decides the rest
PRESENT = 0.5
# The presets' review band is 0.35–0.65. What is not clearly a unit's red seal (a grey or black
# ring on a copy, a blue stamp, a ring cut by the edge) is never above DOUBTFUL, inside the band,
# so it goes to staff and never passes by itself; CLEAR is where the detector itself is sure.
DOUBTFUL = 0.6
DOUBT_FLOOR = 0.35
CLEAR = 0.65
# why a sighting is in doubt, as staff read it (SEAL_UNCERTAIN's detail)
REASONS = {
    "grey_copy": "印章为灰色或黑色（复印件或黑白扫描），公章应为红色，请核对原件",
    "blue_stamp": "印章为蓝色，单位公章应为红色，请人工确认",
    "other_colour": "印章不是红色，单位公章应为红色，请人工确认",
    "partial": "印章不完整（被裁切或只盖上一部分），请人工确认",
    "no_text": "有红色圆圈，但看不出单位名称或五角星，可能不是公章，请人工确认",
    "faint": "红色印章很淡，或盖在彩色印刷上（如票据的彩色底纹），看不清楚，请人工确认",
    "unclear": "有类似印章的红色圆形，但不够清楚，请人工确认",
    "unreadable": "推荐表未能完成印章检查，请人工查看",
    "e_signature": "电子签章未能通过校验，请人工确认",
}


@dataclass(frozen=True)
class SealSighting:
    """The best seal-like thing on one page or picture."""

    where: str
    confidence: float
    electronic: bool = False
    kind: str = ""  # "red" | "grey" | "signature" | "sm2" …
    box: tuple[int, int, int, int] | None = None  # in the working copy, for staff and tests
    seconds: float = 0.0
    reason: str = ""  # why it is in doubt (a key of REASONS), "" when it is clearly a seal or clearly none

    @property
    def doubtful(self) -> bool:
        """Never a pass by itself: not red ink (CONTRACT §3), or red but not clearly a seal."""
        return bool(self.reason)


@dataclass(frozen=True)
class SealReading:
    """What one file (or a nominee's whole form material) shows about the seal."""

    present: bool
    confidence: float
    where: str = ""
    electronic: bool = False
    verified: bool | None = None  # electronic seals: the signature checked (None: cannot check, e.g. SM2)
    sightings: tuple[SealSighting, ...] = ()
    problems: tuple[str, ...] = ()  # files or pages that could not be looked at, for staff
    pages: int = 0
    reason: str = ""  # the best sighting's doubt (REASONS), for SEAL_UNCERTAIN's detail

    def as_json(self) -> dict:
        """CONTRACT §4's `seal` object."""
        return {"present": self.present, "confidence": round(self.confidence, 2), "where": self.where,
                "electronic": self.electronic}


NO_SEAL = SealReading(False, 0.0)


# ---------------------------------------------------------------- a nominee's form material


def combine(readings: list[SealReading]) -> SealReading:
    """The nominee's seal: the most confident sighting over all the files of their form."""
    readings = [r for r in readings if r is not None]
    if not readings:
        return NO_SEAL
    best = max(readings, key=lambda r: (r.present, r.confidence))
    return SealReading(
        present=best.present,
        confidence=best.confidence,
        where=best.where,
        electronic=best.electronic,
        verified=best.verified,
        sightings=tuple(s for r in readings for s in r.sightings),
        problems=tuple(p for r in readings for p in r.problems),
        pages=sum(r.pages for r in readings),
        reason=best.reason,
    )


def reading_of(sightings: list[SealSighting], problems: tuple[str, ...] = (), pages: int = 0,
               verified: bool | None = None) -> SealReading:
    """One file's reading from its sightings: the highest confidence; where and how from a
    signature when the PDF is signed (its stamp may show on the page too), else from the page."""
    if not sightings:
        return SealReading(False, 0.0, problems=problems, pages=pages)
    confidence = max(s.confidence for s in sightings)
    signed = [s for s in sightings if s.electronic and s.confidence >= PRESENT]
    best = max(signed, key=lambda s: s.confidence) if signed else max(sightings, key=lambda s: s.confidence)
    return SealReading(
        present=confidence >= PRESENT and not best.doubtful,
        confidence=confidence,
        where=best.where if confidence > 0 else "",
        electronic=best.electronic,
        verified=verified if best.electronic else None,
        sightings=tuple(sightings),
        problems=problems,
        pages=pages,
        reason=best.reason,
    )


def read_seal_here(data: bytes, filename: str, max_pixels: int, max_pages: int) -> SealReading:
    """In this process: every page or picture of one file, and a PDF's signature fields."""
    from parsers import esign
    from parsers.pages import PagesUnreadable, kind_of, pictures_of
    from parsers.seal_detector import look
    from parsers.seal_ink import WORK_SIDE

    kind = kind_of(data, filename)
    sightings: list[SealSighting] = []
    problems: list[str] = []
    verified = None
    if kind == "pdf":
        signatures = esign.pdf_signatures(data)
        for signature in signatures:
            sightings.append(SealSighting(f"{filename} {signature.where}", signature.confidence, electronic=True,
                                           kind=signature.kind))
        verified = esign.all_verified(signatures)
    try:
        pictures = pictures_of(data, filename, long_side=WORK_SIDE, max_pixels=max_pixels,
                               max_pages=max_pages, for_seal=True)
    except PagesUnreadable as unreadable:
        problems.append(str(unreadable))
        pictures = []
    hints = esign.stamp_hints(data, max_pages) if kind == "pdf" else {}
    for number, picture in enumerate(pictures):
        sightings.append(look(picture, hints.get(number, ())))
    return reading_of(sightings, tuple(problems), len(pictures), verified)


def load_for_children() -> None:
    """Import here, once, what `read_seal_here` uses, so that each forked child starts with it
    loaded: imported in the child, it was imported again in every child, for every file (PDFium's
    bindings ~25 ms, numpy.ma, which np.median loads on first use, ~20 ms: a third of a child's CPU)."""
    import numpy.ma  # noqa: F401 - np.median (seal_features) loads it on first use
    import pillow_heif  # noqa: F401 - pages.image_pixels
    import pypdfium2  # noqa: F401 - pages.pdf_pages, esign.stamp_hints

    from parsers import esign, pages, seal_detector  # noqa: F401


def read_seal(data: bytes, filename: str, limits) -> SealReading:
    """One file, in a sandboxed child under the limits; a failure is a problem for staff, not a seal."""
    return read_seals([(data, filename)], limits)[0]


def read_seals(files: list[tuple[bytes, str]], limits) -> list[SealReading]:
    """A message's seal material, (data, filename) each, in order: all of it in one sandboxed
    child (one fork a message, not one a file), each file under its own time and memory limit
    (core/children.run_each: a file that exhausts them, or kills the child, costs its own
    reading only, and the rest go on in a new child). As `read_seal` for each file."""
    from core import children

    steps = [_without_child(data, filename, limits) for data, filename in files]
    wanted = [index for index, step in enumerate(steps) if not isinstance(step, SealReading)]
    if not wanted:
        return steps
    load_for_children()
    max_pages = min(limits.pdf_max_pages, 20)
    seconds = limits.file_parse_seconds + limits.seal_seconds_per_page * max_pages
    outcomes = children.run_each(read_seal_here, [(*steps[i], limits.image_max_pixels, max_pages) for i in wanted],
                                 seconds=seconds, memory_bytes=limits.file_parse_memory_bytes)
    for index, outcome in zip(wanted, outcomes):
        data, filename = steps[index]
        try:
            steps[index] = outcome.get()
        except children.LimitExceeded as failure:
            steps[index] = SealReading(False, 0.0, problems=(f"{filename}: {failure}"[:300],))
        except children.ChildCrashed:
            # a native library died: once more, alone in a clean process, in case the parent's state did it
            steps[index] = _in_a_fresh_child(data, filename, limits, max_pages, seconds + 10)
    return steps


def _without_child(data: bytes, filename: str, limits) -> SealReading | tuple[bytes, str]:
    """What is known before the sandbox (an old Word form that does not convert, a .docx with
    no picture pasted in), else (data, filename) for the child, an old Word form as its .docx."""
    from parsers import pages

    kind = pages.kind_of(data, filename)
    if kind is None and data.startswith(_OLE2):  # an old Word/WPS form: its .docx, as the reader had it
        from parsers.legacy import convert_to_docx
        from parsers.types import DocumentUnreadable

        try:
            data, kind = convert_to_docx(data, limits.convert_seconds), "docx"
        except DocumentUnreadable as unreadable:
            return SealReading(False, 0.0, problems=(f"{filename}: {unreadable.explanation}"[:300],))
    if kind == "docx" and not pages.docx_has_pictures(data, for_seal=True):
        return SealReading(False, 0.0)  # nothing pasted in: no stamp picture to look at
    return data, filename


def _in_a_fresh_child(data: bytes, filename: str, limits, max_pages: int, seconds: float) -> SealReading:
    from core import children

    try:
        return children.run(read_seal_here, data, filename, limits.image_max_pixels, max_pages,
                            seconds=seconds, memory_bytes=limits.file_parse_memory_bytes, fresh=True)
    except children.ChildFailed as failure:
        return SealReading(False, 0.0, problems=(f"{filename}: {failure}"[:300],))
