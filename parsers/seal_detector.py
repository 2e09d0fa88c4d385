"""The seal detector on one picture: classical image analysis on the CPU, no model to download.

parsers/seal_features.py measures, this module decides. Each candidate (a blob of red ink,
or a circle the Hough transform found in the ink's strength) gets soft scores between 0 and
1, and the confidence is their product, a little raised by the star and the arc text:

- ink all round the outline, no long piece of it missing;
- a thin band, denser than the inside (hollow apart from the arc text and the star), and
  nothing just outside it (the corners of a red-background ID photo are);
- the outer edge follows the ellipse, or the ring stands clearly above what lies beside it
  all round (a red signature drawn across the seal spoils one side only);
- round or oval, axes up to about 1.7 : 1 (a red title is long and flat);
- big enough to be a stamp and no upper bound: every picture is judged as a page and as a
  close-up (a photo of the seal alone, a strip of the page cut through it).

Then what lies inside and how the ring is drawn (`judged`, parsers/seal_shape.py): a unit's
name along the ring (a strongly inked ring without one is a logo or a rim: staff decide at
most), nothing straight across it (a road sign's bar or slash), a thin line rather than a
thick solid rim, something inside at all (a plate's rim has nothing). A ring cut by the
picture's edge is in doubt.

A seal stamped over coloured print (a ticket's green band) is not red to the red-ink test: its
ink only shifts the print's colour towards red (seal_ink.tint_shift). A ring seen only with
that shift added is a weaker sighting, which a red thing on coloured print can give too: at
most DOUBTFUL, reason "faint".

Rings in any other ink (grey or black on a copy, blue, gold) are searched only where the
picture is mostly paper (parsers/seal_colour.py) and never score above DOUBTFUL: CONTRACT §3
sends them to staff. So are framed stamps in such ink (a fee seal printed in black on an
e-receipt, parsers/seal_rect.py): a rectangle standing on its own with two or three lines of
characters filling it; a red frame is left alone (red print is framed as often as not).
Every doubtful sighting carries a reason (parsers.seal.REASONS). The thresholds were set on
the tuning parts of the evaluation sets (testing/builders/seals.py: TUNING, REAL_TUNING and
RECEIPT_TUNING) and measured on the held-out parts and on the real development pictures
(bench/seal_eval.py).
"""

from __future__ import annotations

import time

import numpy as np

from parsers import seal_colour as colour
from parsers import seal_features as features
from parsers import seal_ink
from parsers import seal_rect as rect
from parsers import seal_shape as shape
from parsers.pages import PagePicture
from parsers.seal import CLEAR, DOUBT_FLOOR, DOUBTFUL, SealSighting


def _ramp(value: float, low: float, high: float) -> float:
    """0 at or below `low`, 1 at or above `high`, straight in between."""
    if value <= low:
        return 0.0
    if value >= high:
        return 1.0
    return (value - low) / (high - low)


def score(candidate: features.Candidate, context: str) -> float:
    """How much a candidate looks like a seal, 0..1 (see the module's docstring)."""
    if candidate.mask == "grey":
        return grey_score(candidate, context)
    c = candidate
    parts = (
        _ramp(c.ring_coverage, 0.55, 0.85),  # ink all round the outline
        1 - _ramp(c.longest_gap, 0.2, 0.4),  # no long piece of the outline missing
        _ramp(c.ring_density, 0.07, 0.16) * (1 - _ramp(c.ring_density, 0.72, 0.85)),  # a band, not a fill
        1 - _ramp(c.inner_density, 0.32, 0.48),  # hollow inside
        _ramp(c.hollowness, 0.02, 0.1),  # the ring denser than the inside
        1 - _ramp(c.outside_density, 0.06, 0.18),  # nothing just outside (ID photo corners)
        # the outer edge follows the ellipse, or a ring clearly drawn on it (other red ink nearby)
        max(1 - _ramp(c.edge_spread, 0.07, 0.14), _ramp(c.ring_contrast, 0.2, 0.4)),
        1 - _ramp(c.axis_ratio, 1.7, 2.1),  # round or oval, not long
        _size_fit(c, context),
    )
    confidence = float(np.prod(parts))
    return max(confidence, ring_score(c, context)) * (0.85 + 0.15 * _extras(c))


def ring_score(c: features.Candidate, context: str) -> float:
    """A ring drawn clearly all round, whatever lies near it (a red signature across the seal,
    a red rule through it): on its own it makes a seal, a little less surely."""
    parts = (
        _ramp(c.ring_coverage, 0.85, 0.95),
        _ramp(c.ring_contrast, 0.2, 0.35),
        1 - _ramp(c.inner_density, 0.35, 0.5),
        1 - _ramp(c.axis_ratio, 1.7, 2.1),
        _size_fit(c, context),
    )
    return 0.9 * float(np.prod(parts))


def grey_score(c: features.Candidate, context: str) -> float:
    """A circle in a black-and-white copy, measured on all its ink (text included): the ring
    must be drawn all round and stand out from what lies beside it."""
    parts = (
        _ramp(c.ring_coverage, 0.7, 0.85),
        _ramp(c.ring_contrast, 0.08, 0.24),
        1 - _ramp(c.inner_density, 0.35, 0.5),
        _size_fit(c, context),
    )
    return float(np.prod(parts)) * (0.85 + 0.15 * _extras(c))


def ink_judged(c: features.Candidate, context: str, inside: tuple[float, float] = (1.0, 0.0)) -> float:
    """A ring in grey, blue or other ink: at most DOUBTFUL, for staff. Measured on all the
    page's dark ink, so only a ring seen whole counts (a circle through a table's rules and
    the page's edge is not one)."""
    return min(DOUBTFUL, grey_score(c, context) * (1 - _thick(c)) * _ramp(c.inside, 0.8, 0.95))


def _thick(c: features.Candidate) -> float:
    """How much the ring is a thick, solid rim rather than a stamp's thin line, 0..1. A stamp's
    line looks wider where a small or soft picture blurs it, but then its ink is not as
    saturated as a printed sign's rim."""
    printed = _ramp(c.redness, 50, 90) if c.mask == "red" else 1.0
    return max(_ramp(c.ring_width, 0.12, 0.18) * printed, _ramp(c.ring_width, 0.16, 0.24),
               _ramp(c.ring_density, 0.55, 0.75) * _ramp(c.ring_width, 0.09, 0.12))


def _extras(c: features.Candidate) -> float:
    """The star at the centre, or the unit's name along the arc."""
    return max(_ramp(c.star_density, 0.1, 0.3), _ramp(c.text_coverage, 0.2, 0.5))


def _frame_size(f: rect.Frame, context: str) -> float:
    """A stamp's size: on a page a small part of it (a certificate's printed border is no stamp);
    a stamp picture pasted into Word is the stamp alone, any size but a speck."""
    if context == "picture":
        return _ramp(f.height, 20, 30)
    return _ramp(f.relative_height, 0.04, 0.06) * _ramp(f.height, 16, 24) * (1 - _ramp(f.relative_height, 0.45, 0.6))


def _size_fit(c: features.Candidate, context: str) -> float:
    """Big enough to be a stamp, and no upper bound: a close-up photo of the seal, or a strip
    of the page cut through it, shows a ring as large as the picture or larger."""
    if context == "picture":  # a stamp picture pasted into Word: any size, but not a speck
        return _ramp(c.diameter, 30, 55)
    return _ramp(c.relative_size, 0.05, 0.08) * _ramp(c.diameter, 24, 40)


def look(picture: PagePicture, hints: tuple[tuple[float, float], ...] = ()) -> SealSighting:
    """The best seal candidate of one picture, judged both as a page and as a close-up (no size
    is too big). `hints` are (x, y) in 0..1 of the picture where the form says 盖章 / 推荐单位意见:
    a ring near one gains a little. Red rings are judged as seals; a ring in other ink only where
    the picture is mostly paper, and then never above DOUBTFUL (staff decide, CONTRACT §3)."""
    started = time.perf_counter()
    image = seal_ink.working_copy(picture.image)
    flat = seal_ink.flatten_light(image)
    mask, faint, strength = seal_ink.red_ink(flat)
    found = []
    if features.ring_possible(faint):  # the strong mask lies inside the faint one: else nothing to fit
        lines = seal_ink.long_lines(faint)
        # an oval that fills a small picture has long sides as straight as a table's rule: its
        # blobs are taken with the lines left in too
        found = features.candidates(mask, "red", strength, limit=6) if lines.any() else []
        mask, faint = mask & ~lines, faint & ~lines
        found += features.candidates(mask, "red", strength)
        found += features.hough_rings(seal_ink.strength_picture(strength, faint), faint, "red", strength)
    best = (0.0, "", None, "")
    for candidate in found:
        value, reason = judged(candidate, picture.context, shape.inside_features(faint, candidate))
        value = _with_hints(value, candidate, image.shape, hints)
        if value > best[0]:
            best = (value, reason, candidate.box, colour.RED)
    if best[0] < DOUBTFUL:
        best = max(best, _over_print(image, mask, faint, strength, picture.context, hints),
                   key=lambda found: found[0])
    if best[0] < CLEAR and colour.papery(image):
        best = max(best, _other_ink(flat, picture.context), key=lambda found: found[0])
    value, reason, box, ink = best
    return SealSighting(
        where=picture.where,
        confidence=round(value, 4),
        kind=ink if box is not None else "",
        box=box,
        seconds=time.perf_counter() - started,
        reason=reason if value >= DOUBT_FLOOR else "",
    )


def _other_ink(flat: np.ndarray, context: str) -> tuple[float, str, tuple | None, str]:
    """The best ring or framed stamp in ink that is not red, on a picture that is mostly paper:
    (confidence, reason, box, colour), the confidence never above DOUBTFUL (CONTRACT §3)."""
    ink_mask = colour.grey_of(flat) < colour.INK_GREY
    best = (0.0, "", None, "")
    for candidate in colour.ink_rings(flat):
        ink = colour.ring_colour(flat, candidate)
        if ink == colour.RED:
            continue  # red ink is the red search's business, on its own mask
        value = ink_judged(candidate, context, shape.inside_features(ink_mask, candidate))
        if value > best[0]:
            best = (value, _DOUBT_REASON[ink], candidate.box, ink)
    for frame in rect.frames(ink_mask):
        value = frame_judged(frame, context)
        ink = colour.frame_colour(flat, ink_mask, frame.box) if value > best[0] else colour.RED
        if ink != colour.RED:  # a red frame is red print as often as a stamp: it is not looked at as one
            best = (value, _DOUBT_REASON[ink], frame.box, ink)
    return best


TINT_LEAST = 200  # pixels of red seen only over coloured print before it is searched for rings
TINT_RING = 0.2  # share of a ring's ink seen only over coloured print for it to be such a sighting


def _over_print(image: np.ndarray, mask: np.ndarray, faint: np.ndarray, strength: np.ndarray, context: str,
                hints: tuple[tuple[float, float], ...]) -> tuple[float, str, tuple | None, str]:
    """The best red ring that is seen only with the ink stamped over coloured print (a seal on a
    ticket's green band, seal_ink.tint_shift) added to the red ink: (confidence, reason, box,
    colour). That is a weaker test than red ink's own, which a red thing on coloured print (a
    logo, a sign in a photo) can meet as well: never above DOUBTFUL ("faint"), staff decide."""
    nothing = (0.0, "", None, "")
    shift = seal_ink.tint_shift(image)
    tint = (shift >= seal_ink.TINT_SHIFT) & ~faint  # the shift is 0 off coloured print
    if tint.sum() < TINT_LEAST:
        return nothing
    tint &= ~seal_ink.long_lines(tint)
    ink = faint | tint
    seen = np.maximum(strength, shift * 255)  # the shift on the strength's scale
    found = features.candidates(mask | tint, "red", seen, limit=6)
    found += features.hough_rings(seal_ink.strength_picture(seen, ink), ink, "red", seen)
    best = nothing
    for candidate in found:
        if features.ring_share(tint, ink, candidate) < TINT_RING:
            continue  # the red ink alone shows this one, and the red search has judged it
        value, reason = judged(candidate, context, shape.inside_features(ink, candidate))
        value = min(DOUBTFUL, _with_hints(value, candidate, image.shape, hints))
        if value > best[0]:
            best = (value, reason if reason in ("partial", "no_text") else "faint", candidate.box, colour.RED)
    return best if best[0] >= DOUBT_FLOOR else (best[0], "", best[2], best[3])


def frame_judged(f: rect.Frame, context: str) -> float:
    """A framed stamp (a fee seal, parsers/seal_rect.py) in ink that is not red: at most DOUBTFUL, for staff."""
    parts = (
        _ramp(f.sides, 0.85, 0.95),  # a frame drawn all round
        1 - _ramp(f.gap, 0.05, 0.12),  # in one line (a line of text breaks between its characters)
        float(f.runs_on <= 1),  # on its own: a table's cell shares its sides with the next cells
        1 - _ramp(f.touched, 0.35, 0.6),  # standing apart (the text it was pressed on touches a side or two)
        _ramp(f.fill, 0.06, 0.12) * (1 - _ramp(f.fill, 0.5, 0.65)),  # characters, neither empty nor solid
        _ramp(f.across, 0.7, 0.85) * _ramp(f.down, 0.55, 0.7),  # filling it side to side and top to bottom
        float(2 <= f.lines <= 3),  # the unit's name, then what the seal is for (收费专用章)
        _ramp(f.aspect, 1.3, 1.6) * (1 - _ramp(f.aspect, 4.5, 6)),  # wider than tall, as fee seals are
        _frame_size(f, context),
    )
    return DOUBTFUL * float(np.prod(parts))


ARC_TEXT = 0.35  # share of the ring's directions with characters inside it, for a strongly inked ring
_DOUBT_REASON = {colour.GREY: "grey_copy", colour.BLUE: "blue_stamp", colour.OTHER: "other_colour"}


def judged(c: features.Candidate, context: str, inside: tuple[float, float] = (1.0, 0.0)) -> tuple[float, str]:
    """A red candidate's confidence and, when it is in doubt, why. `inside` is (arc coverage,
    straightness) from parsers/seal_shape.py. A ring with no name along it (a logo, a clock's
    rim, or a seal so pale that its characters are gone) is for staff at most; a ring cut by
    the picture's edge or pressed in part too; a slash or bar across it (a road sign) and a
    thick, solid rim are no stamp."""
    arc, straight = inside
    value = score(c, context) * (1 - _thick(c)) * (1 - _ramp(straight, 0.7, 0.85))
    # every seal carries its unit's name along the ring; a strongly inked ring without one is a
    # printed logo or a rim, while a pale impression may have lost its characters and not its ring
    need = ARC_TEXT * _ramp(c.redness, 40, 80)
    if c.inner_density < 0.003:  # nothing at all inside the ring: a plate's rim, a drawn circle
        arc, need = 0.0, 1.0
    if arc < need:
        value, why = min(value, 0.3 + 0.3 * arc / need), "no_text"
    elif c.inside < 0.6 or c.longest_gap > 0.3:
        value, why = min(value, DOUBTFUL), "partial"
    else:
        why = "unclear"
    return value, ("" if value >= CLEAR else why)


def _with_hints(value: float, candidate: features.Candidate, shape: tuple[int, ...],
                hints: tuple[tuple[float, float], ...]) -> float:
    if not hints or value <= 0:
        return value
    height, width = shape[:2]
    cx, cy = candidate.centre
    reach = candidate.diameter * 1.5
    near = any(abs(cx - hx * width) <= reach and abs(cy - hy * height) <= reach for hx, hy in hints)
    return min(1.0, value * 1.1) if near else value
