"""What colour a seal-like ring is, and whether a picture is paper enough to look for grey or blue ones.

A unit's official seal is red (CONTRACT §3). A ring in any other ink, grey or black on a
photocopy, blue, gold, is still worth a person's look, never a pass: the detector searches
the dark ink of a page for circles and ovals (a copied 财务专用章 pressed over the date), and for
framed stamps (parsers/seal_rect.py), only where the
picture is mostly paper (a page, a scan, a photocopy; not a scene), and names the stamp's colour
from its own ink, so that a small red tick or a blue signature elsewhere on a photocopy changes nothing.
"""

from __future__ import annotations

import cv2
import numpy as np

from parsers import seal_features as features

GREY, BLUE, OTHER, RED = "grey", "blue", "colour", "red"
INK_GREY = 225  # on the flattened page (paper = 255): a copied seal's ring is often a light grey
# An oval seal (a 财务专用章 or 发票专用章 copied) is no circle for the Hough search, and its ink
# runs into the text it was pressed on, so it is no blob of its own either: it is looked for as
# a circle on the page squeezed this much across (such seals are about 1.3–1.5 : 1), and on a
# picture wider than tall also down (a form photographed a quarter turned shows them standing;
# looked for on every page, that search cost 12–15 ms a page).
OVAL_SQUEEZE = 1.4


def papery(rgb: np.ndarray) -> bool:
    """Mostly plain paper as the camera saw it (before the light is flattened, which would make
    any smooth background white): bright and colourless over half the picture, whatever small
    colour marks lie on it. A photo of a clock, a plate or a sign is not."""
    sample = rgb[::4, ::4].astype(np.int16)  # a share of the picture: every 16th pixel tells it as well
    spread = sample.max(axis=2) - sample.min(axis=2)
    paper = (spread < 45) & (sample.sum(axis=2) > 3 * 140)
    return float(paper.mean()) >= 0.5


def ink_rings(flat: np.ndarray) -> list[features.Candidate]:
    """Circles and ovals drawn in the page's dark ink, of any colour, measured on all that ink."""
    grey = grey_of(flat)
    ink = grey < INK_GREY
    smooth = cv2.GaussianBlur(grey, (5, 5), 1.0)
    wide = grey.shape[1] > grey.shape[0]
    return features.hough_rings(smooth, ink, "grey") + features.hough_ovals(smooth, ink, "grey", OVAL_SQUEEZE,
                                                                             standing=wide)


def grey_of(flat: np.ndarray) -> np.ndarray:
    """The flattened picture's mean of its channels, uint8."""
    return cv2.transform(flat, np.full((1, 3), 1 / 3, np.float32)).astype(np.uint8)


def ring_colour(flat: np.ndarray, c: features.Candidate) -> str:
    """The colour of the ink on a candidate's outline: grey (black or a copy), blue, red, or another colour.
    Drawn as fitted (`ellipse`: its first axis lies along its angle; `axes` puts the long one first,
    which would stand a level oval upright and sample the paper beside its ink)."""
    (cx, cy), (d1, d2), angle = c.ellipse
    height, width = flat.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    thickness = max(2, int(0.06 * min(d1, d2)))
    cv2.ellipse(mask, ((cx, cy), (d1 * 0.95, d2 * 0.95), angle), 1, thickness)
    return ink_colour(flat[mask.astype(bool)])


def frame_colour(flat: np.ndarray, ink: np.ndarray, box: tuple[int, int, int, int]) -> str:
    """The colour of a framed stamp's ink (its frame and characters), as `ink_colour` names it."""
    x0, y0, x1, y1 = box
    return ink_colour(flat[y0:y1, x0:x1][ink[y0:y1, x0:x1]])


def ink_colour(pixels: np.ndarray) -> str:
    """Grey (black or a copy), blue, red or another colour: the median of the pixels that are ink."""
    pixels = pixels[pixels.mean(axis=1) < INK_GREY]  # the ink, not the paper between its letters
    if len(pixels) < 20:
        return GREY
    r, g, b = np.median(pixels, axis=0)
    if max(r, g, b) - min(r, g, b) < 28:
        return GREY
    if b > r + 20 and b >= g:
        return BLUE
    if r > g + 25 and r > b + 25 and abs(g - b) < 0.5 * (r - max(g, b)):
        return RED
    return OTHER
