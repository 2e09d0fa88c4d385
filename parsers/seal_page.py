"""One picture or page judged as a stamped form page candidate: its seal sighting, colour and confidence.

For the pipeline's search for the form's stamped page (a 推荐表.jpg sent alone, a scan beside
an unstamped .docx): `judge_page(picture, where)` looks at ONE picture, both as a whole page
and as a close-up, and says what seal it shows. It runs in this process and is quick (about
a tenth of a second); like `read_seal`, callers that take pictures from mail should call it
inside their sandboxed child. `read_seal(data, filename, limits)` stays the entry for files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parsers.seal import REASONS


@dataclass(frozen=True)
class PageSeal:
    """What one picture shows of a seal, and what a campaign's review band makes of it."""

    where: str
    confidence: float  # 0..1, calibrated to the presets' band: ≥ 0.65 a seal, 0.35–0.65 for staff
    colour: str  # red | grey | blue | colour (another ink) | "" (nothing ring-like)
    reason: str  # why it is in doubt (parsers.seal.REASONS), "" when clear either way
    verdict: str  # present | uncertain | none, by the band given
    box: tuple[int, int, int, int] | None = None  # in the working copy (long side 1000)

    @property
    def why(self) -> str:
        """The doubt in words for staff, "" when there is none."""
        return REASONS.get(self.reason, "")


def judge_page(picture: np.ndarray | bytes, where: str = "", *, context: str = "page",
               band: tuple[float, float] = (0.35, 0.65), max_pixels: int = 100_000_000) -> PageSeal:
    """ONE picture (RGB pixels, or the bytes of a JPEG/PNG/HEIC) judged as a stamped page.
    `context` is "page" for a page, scan or photo, "picture" for a picture pasted into a document."""
    from parsers.pages import PagePicture, image_pixels
    from parsers.seal_detector import look
    from parsers.seal_ink import WORK_SIDE

    if isinstance(picture, (bytes, bytearray)):
        picture = image_pixels(bytes(picture), long_side=WORK_SIDE, max_pixels=max_pixels)
    sighting = look(PagePicture(where, np.ascontiguousarray(picture[..., :3]), context))
    low, high = band
    value = sighting.confidence
    verdict = "present" if value >= high and not sighting.doubtful else "uncertain" if value >= low else "none"
    return PageSeal(where, value, sighting.kind, sighting.reason, verdict, sighting.box)
