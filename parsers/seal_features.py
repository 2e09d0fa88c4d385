"""What the seal detector measures on a picture: the ink masks, the candidates, and each one's shape.

Numbers only, no decision (that is parsers/seal_detector.py). The picture is first made
into masks of red ink (parsers/seal_ink.py). Then:

- candidates: blobs of the mask after a closing that joins a seal's ring, arc text and star,
  with an ellipse fitted to the blob's convex hull; and circles the Hough transform finds in
  the ink's strength (or, on a black-and-white copy, in the grey picture), fitted again to
  the ink of their ring alone, which finds a seal that touches other ink;
- for each, how the ink lies in the ellipse's own frame (ρ = 1 on the fitted outline): how
  much of the outline is inked (ring coverage), how dense the ring band is against the inside
  (a seal is hollow, a helmet or a lantern is filled), how much ink lies just outside (the
  corners of a red-background ID photo), how closely the outer edge follows the ellipse (a
  rectangle's does not), how much the ring stands above the bands beside it, sector by
  sector, the star at the centre and the band of arc text.

A stamp on a page is a ring some 60–200 pixels across in the working copy, its line two or three
pixels wide, and is measured on every pixel. A ring FINE pixels across or more (a close-up, a
large circle the Hough transform found in a page's text) has a line and characters many pixels
wide: it is measured on every other pixel of each row and column, a quarter of the work, and
its shares and its profile come out the same to within a hundredth.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

# OpenBLAS (inside OpenCV's wheel) starts worker threads as it loads, and the detector runs in
# forked children that call it (the ellipse fits): one thread, set before OpenCV loads
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import cv2  # noqa: E402
import numpy as np  # noqa: E402

# OpenCV's own thread pool does not survive a fork (readers run in forked children, and a
# process that used it once would hand them a broken one): one thread, pages are small
cv2.setNumThreads(1)

SECTORS = 48  # the outline is judged in this many angular sectors
MIN_SEARCHED = 1  # pixels: a strip thinner than this once shrunk for the circle search is not searched (OpenCV raises)
FIT_LEAST = 30  # the fewest inked pixels an ellipse is fitted to (a blob's, or those near a Hough circle)


@dataclass(frozen=True)
class Candidate:
    """One blob that might be a seal, measured in the working copy's pixels."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the working copy
    centre: tuple[float, float]
    axes: tuple[float, float]  # full lengths of the fitted ellipse's axes, long first
    angle: float
    mask: str  # "red" | "grey"
    ring_coverage: float  # share of outline sectors with ink at 0.8 ≤ ρ ≤ 1.08
    longest_gap: float  # the longest run of empty sectors, as a share of the outline
    ring_density: float  # share of inked pixels in the band 0.84 ≤ ρ ≤ 1.02
    inner_density: float  # … at ρ < 0.7
    outside_density: float  # … at 1.12 ≤ ρ ≤ 1.45
    edge_spread: float  # spread of the outermost ink's ρ over the sectors (0 for a clean ellipse)
    star_density: float  # ink at ρ < 0.22
    text_density: float  # ink at 0.45 ≤ ρ ≤ 0.8 (arc text)
    text_coverage: float  # share of sectors with ink at 0.45 ≤ ρ ≤ 0.8
    diameter: float  # √(long × short axis), pixels
    relative_size: float  # diameter / the picture's short side
    redness: float  # mean R − max(G, B) of the ring's ink, 0..255 after flattening
    ink_pixels: int
    ring_contrast: float = 0.0  # the ring's peak of ink against the bands just inside and outside it
    ring_peak: float = 1.0  # ρ of the densest band near the outline (1 when the fit sits on the ring)
    inside: float = 1.0  # share of the outline inside the picture (a close-up cuts the ring at the edge)
    ring_width: float = 0.0  # the ring band's width in ρ, at half its peak (a seal's is thin; a sign's rim is not)
    ellipse: tuple = ()  # ((cx, cy), (d1, d2), angle°) as fitted, the frame every ρ above is measured in

    @property
    def axis_ratio(self) -> float:
        return self.axes[0] / max(self.axes[1], 1.0)

    @property
    def hollowness(self) -> float:
        return self.ring_density - self.inner_density


def ring_possible(mask: np.ndarray) -> bool:
    """Whether a mask holds ink enough for any candidate at all, a blob (`candidates`) or a
    circle (`hough_rings`): each is fitted to FIT_LEAST of its pixels at the fewest. Most pages
    of a form carry no red ink: the detector then leaves the red search out, whose answer would
    have been nothing."""
    return int(np.count_nonzero(mask)) >= FIT_LEAST


def candidates(mask: np.ndarray, kind: str, strength: np.ndarray | None = None, limit: int = 12) -> list[Candidate]:
    """Blobs big enough to be a seal, measured; the largest `limit` of them."""
    short = min(mask.shape)
    join = max(3, int(short * 0.02)) | 1
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (join, join)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    smallest = max(18, 0.045 * short)
    found = []
    order = sorted(range(1, count), key=lambda k: -stats[k, cv2.CC_STAT_AREA])
    for k in order[: limit * 3]:
        x, y, w, h, area = stats[k]
        if max(w, h) < smallest or min(w, h) < smallest * 0.5 or area < 60:
            continue
        measured = _measure(mask, labels == k, (x, y, w, h), kind, strength)
        if measured is not None:
            found.append(measured)
        if len(found) >= limit:
            break
    return found


def _measure(mask: np.ndarray, blob: np.ndarray, rect: tuple[int, int, int, int], kind: str,
             strength: np.ndarray | None) -> Candidate | None:
    """Fit an ellipse to the blob's ink (its convex hull, then again without the points that
    stick out: text touching the ring) and measure the ink around it."""
    x, y, w, h = (int(v) for v in rect)
    points = cv2.findNonZero((mask[y:y + h, x:x + w] & blob[y:y + h, x:x + w]).astype(np.uint8))
    if points is None or len(points) < FIT_LEAST:
        return None
    hull = cv2.convexHull(points)
    if len(hull) < 5:
        return None
    # a ring cut by the picture's edge: its hull runs along the edge, which is no part of the ellipse
    on_edge = _on_border(hull.reshape(-1, 2) + (x, y), mask.shape)
    if (~on_edge).sum() >= 8 and on_edge.any():
        hull = _densified(hull.reshape(-1, 2))
        hull = hull[~_on_border(hull + (x, y), mask.shape)].reshape(-1, 1, 2)
    ellipse = cv2.fitEllipseDirect(hull.astype(np.float32))
    (cx, cy), (d1, d2), angle = ellipse
    if not all(math.isfinite(v) for v in (cx, cy, d1, d2, angle)) or min(d1, d2) < 8:
        return None
    return measure(mask, ((cx + x, cy + y), (d1, d2), angle), (x, y, x + w, y + h), kind, strength)


def _on_border(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return ((points[:, 0] <= 1) | (points[:, 1] <= 1) | (points[:, 0] >= shape[1] - 2)
            | (points[:, 1] >= shape[0] - 2))


def _densified(polygon: np.ndarray, step: float = 4.0) -> np.ndarray:
    """Points every `step` pixels along a closed polygon (a hull has few vertices on a curve's long sides)."""
    out = []
    for a, b in zip(polygon, np.roll(polygon, -1, axis=0)):
        count = max(1, int(np.hypot(*(b - a)) / step))
        out.extend(a + (b - a) * (k / count) for k in range(count))
    return np.array(out, dtype=np.float32)


class _Frame:
    """The mask's window around an ellipse, each pixel's radius in the ellipse's own units (1 on
    the outline) and its angular sector, with the inked pixels' apart. Every `step`-th pixel of
    each row and column only, for a large ellipse (see `sampling`)."""

    def __init__(self, mask: np.ndarray, ellipse, corners: tuple[int, int, int, int], step: int = 1):
        (cx, cy), (d1, d2), angle = ellipse
        x0, y0, x1, y1 = corners
        self.step = step
        self.window = mask[y0:y1:step, x0:x1:step]
        yy, xx = np.mgrid[y0:y1:step, x0:x1:step].astype(np.float32)
        theta = math.radians(angle)
        dx, dy = xx - cx, yy - cy
        u = (dx * math.cos(theta) + dy * math.sin(theta)) / (d1 / 2)
        v = (-dx * math.sin(theta) + dy * math.cos(theta)) / (d2 / 2)
        self.rho = np.sqrt(u * u + v * v)
        self.sector = ((np.arctan2(v, u) + math.pi) * (SECTORS / (2 * math.pi))).astype(np.int32) % SECTORS
        inked = self.window & (self.rho < 1.6)
        self.rho_inked, self.sector_inked = self.rho[inked], self.sector[inked]

    def density(self, low: float, high: float) -> float:
        band = (self.rho >= low) & (self.rho <= high)
        total = int(band.sum())
        return float(np.count_nonzero(self.window & band)) / total if total else 0.0

    def coverage(self, low: float, high: float) -> np.ndarray:
        keep = (self.rho_inked >= low) & (self.rho_inked <= high)
        return np.bincount(self.sector_inked[keep], minlength=SECTORS) > 0


FINE = 300  # an ellipse this many pixels across, or more, is measured on every other pixel


def sampling(diameter: float) -> int:
    """Every how many pixels an ellipse's window is measured: every one for a stamp on a page;
    every other one of each row and column for a ring FINE pixels across or more (a close-up, a
    large circle in a page's text), whose ring and characters are many pixels wide."""
    return 2 if diameter >= FINE else 1


def _corners(shape: tuple[int, ...], ellipse) -> tuple[int, int, int, int] | None:
    """The window measured around an ellipse: three quarters of its long axis on each side."""
    (cx, cy), (d1, d2), _angle = ellipse
    margin = 0.75 * max(d1, d2)
    x0, y0 = max(0, int(cx - margin)), max(0, int(cy - margin))
    x1, y1 = min(shape[1], int(cx + margin) + 1), min(shape[0], int(cy + margin) + 1)
    return (x0, y0, x1, y1) if x1 - x0 >= 4 and y1 - y0 >= 4 else None


def measure(mask: np.ndarray, ellipse, box: tuple[int, int, int, int], kind: str,
            strength: np.ndarray | None = None) -> Candidate | None:
    """How the mask's ink lies around an ellipse ((cx, cy), (d1, d2), angle°), in its own frame."""
    (cx, cy), (d1, d2), angle = ellipse
    corners = _corners(mask.shape, ellipse) if min(d1, d2) >= 8 else None
    if corners is None:
        return None
    frame = _Frame(mask, ellipse, corners, sampling(min(d1, d2)))
    seen = _outline_inside(ellipse, mask.shape)
    ring = frame.coverage(0.8, 1.08)
    if seen.sum() >= SECTORS // 4:  # coverage of what the picture shows; the cut is `inside`
        ring = ring | ~seen
    profile, by_sector = _profiles(frame.rho, frame.window, frame.sector)
    outermost = np.zeros(SECTORS, np.float32)
    np.maximum.at(outermost, frame.sector_inked, frame.rho_inked)
    edge = outermost[ring & seen]
    return Candidate(
        box=box, centre=(float(cx), float(cy)), axes=(float(max(d1, d2)), float(min(d1, d2))), angle=float(angle),
        mask=kind,
        ring_coverage=float(ring[seen].mean()) if seen.any() else 0.0,
        longest_gap=_longest_gap(ring),
        ring_density=frame.density(0.84, 1.02),
        inner_density=frame.density(0.0, 0.7),
        outside_density=frame.density(1.12, 1.45),
        edge_spread=float(np.std(edge)) if len(edge) >= 4 else 1.0,
        star_density=frame.density(0.0, 0.22),
        text_density=frame.density(0.45, 0.8),
        text_coverage=float(frame.coverage(0.45, 0.8).mean()),
        diameter=float(math.sqrt(d1 * d2)),
        relative_size=float(math.sqrt(d1 * d2) / min(mask.shape)),
        redness=_redness(frame, strength, corners),
        ink_pixels=int(frame.window.sum()) * frame.step ** 2,
        ring_contrast=_contrast(profile, by_sector[seen] if seen.sum() >= SECTORS // 4 else by_sector),
        ring_peak=_peak(profile),
        inside=float(seen.mean()),
        ring_width=_width(profile),
        ellipse=((float(cx), float(cy)), (float(d1), float(d2)), float(angle)),
    )


def _redness(frame: _Frame, strength: np.ndarray | None, corners: tuple[int, int, int, int]) -> float:
    """How red the ring's inked pixels are, on average (0 without the colour strength)."""
    x0, y0, x1, y1 = corners
    ring_pixels = frame.window & (frame.rho >= 0.84) & (frame.rho <= 1.02)
    if strength is None or not ring_pixels.any():
        return 0.0
    return float(strength[y0:y1:frame.step, x0:x1:frame.step][ring_pixels].mean())


def _outline_inside(ellipse, shape: tuple[int, ...]) -> np.ndarray:
    """For each sector, whether the fitted outline's point there lies inside the picture."""
    (cx, cy), (d1, d2), angle = ellipse
    t = -math.pi + (np.arange(SECTORS) + 0.5) * (2 * math.pi / SECTORS)
    u, v = np.cos(t) * d1 / 2, np.sin(t) * d2 / 2
    theta = math.radians(angle)
    x = cx + u * math.cos(theta) - v * math.sin(theta)
    y = cy + u * math.sin(theta) + v * math.cos(theta)
    return (x >= 1) & (x <= shape[1] - 2) & (y >= 1) & (y <= shape[0] - 2)


_BIN = 0.02  # the radial profile's step in ρ


def _profiles(rho: np.ndarray, window: np.ndarray, sector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of inked pixels in each ring of width _BIN around the ellipse (ρ from 0 to 1.6):
    over the whole outline, and sector by sector (SECTORS × 80)."""
    bins = np.minimum((rho / _BIN).astype(np.int32), 80)
    cells = sector * 81 + bins
    everything = np.bincount(cells.ravel(), minlength=SECTORS * 81).reshape(SECTORS, 81)[:, :80]
    inked = np.bincount(cells[window], minlength=SECTORS * 81).reshape(SECTORS, 81)[:, :80]
    whole = inked.sum(axis=0) / np.maximum(everything.sum(axis=0), 1)
    return whole, inked / np.maximum(everything, 1)


def _band(profile: np.ndarray, low: float, high: float) -> np.ndarray:
    return profile[..., int(round(low / _BIN)): int(round(high / _BIN))]


def _peak(profile: np.ndarray) -> float:
    near = _band(profile, 0.8, 1.2)
    return 0.8 + (int(np.argmax(near)) + 0.5) * _BIN


def _width(profile: np.ndarray) -> float:
    """Width in ρ of the densest band near the outline, where its ink stays above half its peak."""
    peak = int(round(_peak(profile) / _BIN - 0.5))
    half = profile[peak] / 2
    if half <= 0:
        return 0.0
    low = high = peak
    while low > 0 and profile[low - 1] >= half:
        low -= 1
    while high < len(profile) - 1 and profile[high + 1] >= half:
        high += 1
    return (high - low + 1) * _BIN


def _contrast(profile: np.ndarray, by_sector: np.ndarray) -> float:
    """How much the densest band near the outline stands above the bands beside it, the median
    over the sectors: a drawn ring does all round, text lying about does not, a filled disc
    does not either, and a signature across one side of a seal spoils only that side."""
    centre = _peak(profile)
    peak = _band(by_sector, centre - 0.04, centre + 0.04).mean(axis=1)
    inside = _band(by_sector, centre - 0.2, centre - 0.08).mean(axis=1)
    outside = _band(by_sector, centre + 0.08, centre + 0.24).mean(axis=1)
    return float(np.median(peak - np.maximum(inside, outside)))


def refined(mask: np.ndarray, ellipse, box: tuple[int, int, int, int], kind: str,
            strength: np.ndarray | None = None) -> Candidate | None:
    """Measure around a circle (or an oval) from the Hough transform, fitted again to the ink of
    the ring alone (an ellipse through the inked pixels near it: other ink further in or out,
    a signature across it, text beside it, is left out), its outer edge then put at ρ = 1."""
    (cx, cy), (d1, d2), angle = ellipse
    margin = 0.7 * max(d1, d2)
    x0, y0 = max(0, int(cx - margin)), max(0, int(cy - margin))
    x1, y1 = min(mask.shape[1], int(cx + margin) + 1), min(mask.shape[0], int(cy + margin) + 1)
    ys, xs = np.nonzero(mask[y0:y1, x0:x1])
    if len(xs) < FIT_LEAST:
        return None
    xs, ys = xs + x0, ys + y0
    rho = _rho(xs, ys, ellipse)
    near = (rho >= 0.8) & (rho <= 1.15)
    if near.sum() < FIT_LEAST:
        return None
    points = np.stack([xs[near], ys[near]], axis=1).astype(np.float32)
    (fx, fy), (f1, f2), fangle = cv2.fitEllipseDirect(points)
    if not all(math.isfinite(v) for v in (fx, fy, f1, f2, fangle)) or min(f1, f2) < 8 or max(f1, f2) > 2.5 * max(d1, d2):
        return None
    first = measure(mask, ((fx, fy), (f1, f2), fangle), box, kind, strength)
    if first is None:
        return None
    scale = first.ring_peak + 0.04
    return measure(mask, ((fx, fy), (f1 * scale, f2 * scale), fangle), box, kind, strength)


def hough_rings(picture: np.ndarray, mask: np.ndarray, kind: str, strength: np.ndarray | None = None,
                limit: int = 6) -> list[Candidate]:
    """Round seals found as circles (the Hough transform's gradient method, on a half-size
    copy): a ring that touches other ink (a red signature across it, text in a photocopy)
    is found here when the blobs merge it with its neighbours."""
    short = min(picture.shape[:2])
    circles = _circles(picture, 2, max(8, int(0.0175 * short)), int(0.6 * short))[:limit]
    # a close-up's ring, pale and soft (a small picture enlarged, a PDF page drawn larger than
    # its scan), has too weak an edge at half size: large rings are looked for at a quarter too
    circles += _circles(picture, 4, max(8, int(0.02 * short)), int(0.3 * short))[:3]
    found = []
    for cx, cy, r in circles:
        box = (int(cx - r), int(cy - r), int(cx + r), int(cy + r))
        measured = refined(mask, ((cx, cy), (2 * r, 2 * r), 0.0), box, kind, strength)
        if measured is not None:
            found.append(measured)
    return found


def hough_ovals(picture: np.ndarray, mask: np.ndarray, kind: str, squeeze: float, standing: bool = False,
                limit: int = 6) -> list[Candidate]:
    """Level ovals `squeeze` times wider than tall (an invoice seal's, 财务专用章's), and with
    `standing` also ones as much taller than wide (a page photographed a quarter turned), found as
    circles on a copy squeezed that much along their length: an oval touching text is neither a
    circle to `hough_rings` nor a blob of its own."""
    short = min(picture.shape[:2])
    found = []
    for across, down in [(squeeze, 1.0)] + ([(1.0, squeeze)] if standing else []):
        for cx, cy, r in _circles(picture, 2, max(8, int(0.0175 * short)), int(0.6 * short), (across, down))[:limit]:
            x, y, half_width, half_height = cx * across, cy * down, r * across, r * down
            box = (int(x - half_width), int(y - half_height), int(x + half_width), int(y + half_height))
            measured = refined(mask, ((x, y), (2 * half_width, 2 * half_height), 0.0), box, kind)
            if measured is not None:
                found.append(measured)
    return found


def _rho(xs: np.ndarray, ys: np.ndarray, ellipse) -> np.ndarray:
    """Each point's ρ in an ellipse's own frame (1 on the ellipse)."""
    (cx, cy), (d1, d2), angle = ellipse
    turn = math.radians(angle)
    dx, dy = xs - cx, ys - cy
    along, across = dx * math.cos(turn) + dy * math.sin(turn), dy * math.cos(turn) - dx * math.sin(turn)
    return np.hypot(along / (d1 / 2), across / (d2 / 2))


def _circles(picture: np.ndarray, step: int, smallest: int, largest: int,
             squeeze: tuple[float, float] = (1.0, 1.0)) -> list[tuple[float, float, float]]:
    """Circles (cx, cy, r) searched on a copy `step` times smaller, and squeezed again by
    `squeeze` (across, down), given in that copy's pixels times `step`: in the picture's pixels
    where nothing is squeezed. None on a picture too thin to search (a strip a pixel or two wide)."""
    across, down = squeeze
    if min(picture.shape[0] / (step * down), picture.shape[1] / (step * across)) < MIN_SEARCHED:
        return []
    small = cv2.resize(picture, None, fx=1 / (step * across), fy=1 / (step * down), interpolation=cv2.INTER_AREA)
    circles = cv2.HoughCircles(small, cv2.HOUGH_GRADIENT_ALT, dp=1.5, minDist=min(picture.shape[:2]) * 0.08 / step,
                               param1=150, param2=0.5, minRadius=smallest, maxRadius=largest)
    if circles is None:
        return []
    return [(step * float(cx), step * float(cy), step * float(r)) for cx, cy, r in circles.reshape(-1, 3)[:6]]


def ring_share(part: np.ndarray, ink: np.ndarray, c: Candidate) -> float:
    """The share of a candidate's ring ink (along its fitted outline) that lies in `part`."""
    (cx, cy), (d1, d2), angle = c.ellipse
    outline = np.zeros(ink.shape, np.uint8)
    cv2.ellipse(outline, ((cx, cy), (d1 * 0.95, d2 * 0.95), angle), 1, max(2, int(0.06 * d2)))
    on = outline.astype(bool) & ink
    return float(part[on].sum()) / max(1, int(on.sum()))


def _longest_gap(covered: np.ndarray) -> float:
    if covered.all():
        return 0.0
    if not covered.any():
        return 1.0
    doubled = np.concatenate([covered, covered])
    run = best = 0
    for value in doubled:
        run = 0 if value else run + 1
        best = max(best, run)
    return min(best, len(covered)) / len(covered)
