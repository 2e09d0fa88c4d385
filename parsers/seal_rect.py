"""Rectangular stamps in a page's dark ink: a fee seal (收费专用章) or an invoice seal in a frame.

A hospital's or a shop's fee seal is often a rectangle, not a ring, and on a printed e-receipt
(财政电子票据) it is printed in black with the page. The ring search cannot see it, so the
page's dark ink is searched for frames too, only where the picture is mostly paper, like the
grey rings (parsers/seal_colour.py). A frame is a stamp when:

- it is a rectangle wider than tall, as fee seals are, the size of a stamp on the page (on a
  page at most about half its short side: a certificate's printed border is none); found as the
  paper a closed line of ink encloses, once the table's long rules are taken out and the
  strokes they crossed joined again (a stamp is often pressed on a rule), or with the rules left
  in (a stamp whose side lies along the rule loses that side with it);
- its four sides are inked all along, a line with no gap (a line of text is broken between its
  characters), and it stands on its own: little touches it from outside (the text it was
  pressed on may, on a side or two), and at most one of its sides runs on unbroken past a
  corner (the rule it was pressed on), where a table's cell shares its sides with the next cell;
- inside, two or three lines of characters fill it from side to side and top to bottom (a
  stamp's name is spaced out to its frame; a boxed label holds one line), neither empty (an
  empty seal box) nor solid (a QR code, a photo).

Numbers only here; parsers/seal_detector.py decides, and keeps any such frame in the review band.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Frame:
    """One framed block of ink that might be a rectangular stamp, measured upright."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the working copy
    width: float  # the rotated rectangle's long side, pixels
    height: float  # … and its short side
    relative_height: float  # height / the picture's short side
    sides: float  # share of the outline with ink on it, the four sides together
    gap: float  # the longest gap along any side, as a share of that side
    runs_on: int  # sides whose line carries on past both corners (a rule, a table's cell)
    touched: float  # share of the outline with ink just outside it (rules taken out)
    fill: float  # share of inked pixels inside the frame
    across: float  # from the first column with ink inside to the last, as a share of the inside's width
    lines: int  # runs of inked rows inside: lines of characters
    down: float  # from the first row with ink inside to the last, as a share of its height

    @property
    def aspect(self) -> float:
        return self.width / max(self.height, 1.0)


def frames(ink: np.ndarray, limit: int = 6) -> list[Frame]:
    """The framed blocks of the ink mask that might be stamps, measured (see the module's docstring)."""
    short = min(ink.shape)
    healed = without_rules(ink, _odd(0.04 * short))
    rects = holes(healed)[:limit]
    if not np.array_equal(healed, ink):  # rules were taken out, and with one a side that lay along it
        # twice as many: with the rules in, a table's cells are holes too, and may be larger than the stamp
        rects += [r for r in holes(ink) if not any(_same(r, k) for k in rects)][:2 * limit]
    found = []
    for rect in rects:
        frame = measure(ink, healed, rect)
        if frame is not None:
            found.append(frame)
    return found


def _same(a: tuple, b: tuple) -> bool:
    """The same hole found twice (with the rules taken out and left in): a pixel or two apart, on
    both sides (a stamp's inner frame, a little smaller round the same centre, is another hole)."""
    (ax, ay), a_size, _ = a
    (bx, by), b_size, _ = b
    (a_short, a_long), (b_short, b_long) = sorted(a_size), sorted(b_size)
    near = max(3.0, 0.05 * min(a_short, b_short))
    return (abs(ax - bx) <= near and abs(ay - by) <= near
            and abs(a_short - b_short) <= near and abs(a_long - b_long) <= near)


def _odd(value: float) -> int:
    return max(5, int(value)) | 1


def without_rules(ink: np.ndarray, reach: int) -> np.ndarray:
    """The ink less its level runs longer than half the picture's width and its upright ones longer
    than half its height (a table's rules: a stamp is at most a third of a page across, however the
    picture is cut), and the lines that crossed a rule (a frame's sides, characters) joined again
    across it. Found by opening with a long line, which costs little on a page full of text (the
    Hough search of seal_ink.long_lines does not); thickened three pixels each way first, so that
    a rule a phone photo turned (up to about 0.8° across half the picture) is still one run: with
    one pixel, such a rule stayed in and cut a stamp pressed on it in two halves, neither a stamp."""
    height, width = ink.shape
    mask = ink.astype(np.uint8)
    healed = ink.copy()
    for line, thicken in (((1, max(15, width // 2)), (7, 1)), ((max(15, height // 2), 1), (1, 7))):
        rule = cv2.morphologyEx(cv2.dilate(mask, np.ones(thicken, np.uint8)), cv2.MORPH_OPEN, np.ones(line, np.uint8))
        rule = (cv2.dilate(rule, np.ones((3, 3), np.uint8)) > 0) & ink
        healed &= ~rule
        # across a level rule only upright strokes are joined again, and the other way round
        across = (reach, 1) if line[0] == 1 else (1, reach)
        healed |= (cv2.morphologyEx(healed.astype(np.uint8), cv2.MORPH_CLOSE, np.ones(across, np.uint8)) > 0) & rule
    return healed


def holes(mask: np.ndarray) -> list[tuple]:
    """Rotated rectangles round the paper a closed line of ink encloses, of a stamp's size and shape
    (wider than tall), largest first, each grown by the line's usual width so that it sits on the
    line. The hole's outline is the frame's inside whatever touches the frame from outside (text the
    stamp was pressed on) and whatever lies inside it apart (its characters)."""
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))  # a worn line's specks
    contours, hierarchy = cv2.findContours(closed, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    short = min(mask.shape)
    found = []
    for contour, (_next, _previous, _child, parent) in zip(contours, hierarchy[0] if hierarchy is not None else ()):
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        long, narrow = max(w, h), min(w, h)
        if parent < 0 or narrow < max(12, 0.03 * short) or not 1.2 <= long / narrow <= 6:
            continue
        if cv2.contourArea(contour) >= 0.6 * w * h:  # characters touching the frame inside take their share
            found.append(((cx, cy), (w + 4, h + 4), angle))
    return sorted(found, key=lambda r: -r[1][0] * r[1][1])


def upright(mask: np.ndarray, rect, pad: int) -> np.ndarray:
    """The mask around a rotated rectangle, turned so that its long side lies level, with `pad` pixels round it."""
    (cx, cy), (w, h), angle = rect
    if h > w:  # OpenCV's angle belongs to the side it calls w: a further quarter turn lays the long side level
        w, h, angle = h, w, angle - 90
    turn = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    turn[:, 2] += (w / 2 + pad - cx, h / 2 + pad - cy)
    size = (int(round(w)) + 2 * pad, int(round(h)) + 2 * pad)
    return cv2.warpAffine(mask.astype(np.uint8), turn, size, flags=cv2.INTER_NEAREST) > 0


def measure(ink: np.ndarray, healed: np.ndarray, rect) -> Frame | None:
    """How the ink lies on, beside and inside one rectangle: its sides on all the ink, what touches it
    and what it holds with the rules taken out."""
    _centre, (w, h), _angle = rect
    long, narrow = max(w, h), min(w, h)
    pad = max(6, int(0.35 * narrow))
    band = max(2, int(round(0.08 * narrow)))  # the frame's line, where the fit may sit a pixel or two off
    lined, text = upright(ink, rect, pad), upright(healed, rect, pad)
    margin = pad + 2 * band + 1  # inside the frame's line, however the fit sits on it
    inner = text[margin:-margin, margin:-margin]
    if min(inner.shape) < 6:
        return None
    sides = _sides(lined, pad, band)
    x, y, across, down = cv2.boundingRect(cv2.boxPoints(rect).astype(np.int32))
    text_rows = inner.mean(axis=1) >= 0.03  # a row of characters, not a speck
    return Frame(
        box=(int(x), int(y), int(x + across), int(y + down)),
        width=float(long),
        height=float(narrow),
        relative_height=float(narrow / min(ink.shape)),
        sides=float(np.concatenate(sides).mean()),
        gap=max(_longest_gap(side) for side in sides),
        runs_on=_runs_on(lined, pad, band),
        touched=_touched(text, pad, band, max(3, int(0.15 * narrow))),
        fill=float(inner.mean()),
        across=_span(inner.mean(axis=0) >= 0.03),
        lines=_runs(text_rows, max(2, int(0.12 * len(text_rows)))),
        down=_span(text_rows),
    )


def _edges(crop: np.ndarray, pad: int, near: int, far: int) -> list[np.ndarray]:
    """The four bands from `near` to `far` pixels outside each side (negative: inside), top, bottom,
    left, right, each laid level along its side."""
    height, width = crop.shape
    return [
        crop[pad - far : pad - near, pad : width - pad].T,
        crop[height - pad + near : height - pad + far, pad : width - pad].T,
        crop[pad : height - pad, pad - far : pad - near],
        crop[pad : height - pad, width - pad + near : width - pad + far],
    ]


def _sides(crop: np.ndarray, pad: int, band: int) -> list[np.ndarray]:
    """Each side's positions with ink across the frame's line there (from just outside the fit to a band inside)."""
    return [edge.any(axis=1) for edge in _edges(crop, pad, -band - 1, 3)]


def _touched(crop: np.ndarray, pad: int, band: int, reach: int) -> float:
    """Share of the outline's positions with ink a little outside the frame (past its line and a blur round it)."""
    return float(np.concatenate([edge.any(axis=1) for edge in _edges(crop, pad, band + 2, band + 2 + reach)]).mean())


def _runs_on(crop: np.ndarray, pad: int, band: int) -> int:
    """Sides whose line carries on past a corner, unbroken along the margin beyond it: a table's cell
    shares its sides with the next cell, a rule a stamp was pressed on runs on past both (text
    beside a corner is broken between its characters)."""
    height, width = crop.shape
    beyond, near = band + 3, max(2, band // 2)  # past the other sides' lines; close to the side's own line
    ends = []
    for row in (pad, height - pad - 1):
        line = crop[row - near : row + near + 1]
        ends.append((line[:, : pad - beyond], line[:, width - pad + beyond :]))
    for col in (pad, width - pad - 1):
        line = crop[:, col - near : col + near + 1].T
        ends.append((line[:, : pad - beyond], line[:, height - pad + beyond :]))
    return sum(int(max(before.any(axis=0).mean(), after.any(axis=0).mean()) >= 0.95) for before, after in ends)


def _span(inked: np.ndarray) -> float:
    """From the first inked position to the last, as a share of all of them."""
    where = np.flatnonzero(inked)
    return float((where[-1] - where[0] + 1) / len(inked)) if len(where) else 0.0


def _longest_gap(inked: np.ndarray) -> float:
    """The longest run of positions without ink, as a share of the side."""
    if inked.all() or len(inked) == 0:
        return 0.0
    edges = np.diff(np.concatenate([[1], inked.astype(np.int8), [1]]))
    starts, ends = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    return float((ends - starts).max() / len(inked))


def _runs(inked: np.ndarray, shortest: int) -> int:
    """Runs of True at least `shortest` long (lines of characters in a row profile)."""
    edges = np.diff(np.concatenate([[0], inked.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int(((ends - starts) >= shortest).sum())
