"""The seal detector's ink: the picture reduced and its light flattened, the masks of red ink, the long lines.

A picture is first reduced to at most WORK_SIDE pixels on its long side and its lighting
flattened (a phone photo is bright at one corner and grey at the other). Then:

- red ink: red stands clearly above green and blue (R − max(G, B)) while green and blue
  stay close to each other. Seal vermilion, pink and faded ink all keep G ≈ B; skin, wood,
  orange work clothes have G well above B, purple has B well above G. Red print (a 红头, red
  rules) is the same colour as a seal and is told apart by its shape, not by its colour. A
  second, fainter mask takes the palest ink too, for the circle search only;
- red ink over coloured print (a ticket's green band, a blue or green table fill): printed over
  green, seal red comes out a dark olive, red below green, which the test above cannot see. What
  it does is shift the print's own colour towards red: each channel divided by the background
  around it (a median over a wide window, the thin ink left out) rises in red against green and
  blue. Looked at only where that background is coloured print that is not itself red;
- long straight runs (table rules, the 红头's rule, at any angle) are taken out, so that a
  seal stamped over a red line still stands alone;

parsers/seal_features.py measures candidates on these masks.
"""

from __future__ import annotations

import os

# OpenBLAS (inside OpenCV's wheel) starts worker threads as it loads, and the detector runs in
# forked children: one thread, set before OpenCV loads
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import cv2  # noqa: E402
import numpy as np  # noqa: E402

# OpenCV's own thread pool does not survive a fork: one thread, pages are small
cv2.setNumThreads(1)

WORK_SIDE = 1000  # long side of the working copy, in pixels


def working_copy(rgb: np.ndarray) -> np.ndarray:
    """At most WORK_SIDE on the long side, uint8 RGB."""
    height, width = rgb.shape[:2]
    factor = WORK_SIDE / max(height, width)
    if factor < 1:
        rgb = cv2.resize(rgb, (max(1, round(width * factor)), max(1, round(height * factor))),
                         interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb[..., :3])


def flatten_light(rgb: np.ndarray) -> np.ndarray:
    """Divide out the lighting and the paper's tint: each channel's paper level, estimated
    from its brightest values around each point (ink is thin), made white. Per channel, so
    that pink or yellowed paper and a warm lamp turn white too and only ink keeps a colour;
    a tint is corrected at most down to 0.55 of the brightest channel, so that a large red
    thing (a sign, a red background) stays red rather than turning into paper."""
    height, width = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    small = cv2.GaussianBlur(small, (0, 0), 6).astype(np.float32)
    brightest = small.max(axis=2, keepdims=True)
    small = np.maximum(small, 0.55 * brightest)
    paper = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    paper = np.maximum(paper, 90.0)
    flat = rgb.astype(np.float32) * (255.0 / paper)
    return np.clip(flat, 0, 255)


def red_ink(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, faint, strength): red ink as above; `faint` also takes the palest ink (a stamp
    pressed lightly, then photographed), for the ring search only; strength = R − max(G, B)."""
    red, green, blue = flat[..., 0], flat[..., 1], flat[..., 2]
    strength = red - np.maximum(green, blue)
    tilt = green - blue
    hue = (tilt <= 0.38 * strength) & (-tilt <= 0.65 * strength)
    mask = hue & (strength >= 32) & (strength >= 0.16 * red)
    faint = hue & (strength >= 10)
    return mask, faint, strength


TINT_SIDE = 9  # the background's median window, at a quarter size: about 36 pixels, wider than a seal's line
TINT_PRINT = 30  # the background's spread of channels from which it is coloured print, not paper
# red over coloured print: its red share risen this much above green's and blue's; low, as a
# 4:2:0 JPEG (every phone photo) keeps colour at half the resolution and halves a thin line's shift
TINT_SHIFT = 0.07


def tint_shift(image: np.ndarray) -> np.ndarray:
    """How much each pixel's red, as a share of its background's, stands above its green and blue
    shares, on the working copy as the camera saw it; 0 except where the background is coloured
    print that is not red (green, blue, yellow, a grey-green band: red or pink print under red
    ink shows no shift, and is red print's business anyway)."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    around = cv2.medianBlur(small, TINT_SIDE)  # the median leaves a seal's thin line out of its own background
    red, green, blue = (channel.astype(np.int16) for channel in cv2.split(around))
    top = np.maximum(red, np.maximum(green, blue))
    coloured = (top - np.minimum(red, np.minimum(green, blue)) >= TINT_PRINT) & (red < top)
    coloured = cv2.resize(coloured.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
    if not coloured.any():  # plain paper, most pages: nothing to compute
        return np.zeros((height, width), np.float32)
    around = cv2.resize(around, (width, height), interpolation=cv2.INTER_LINEAR)
    # +8: dark print's noise is no colour
    red, green, blue = ((seen.astype(np.float32) + 8) / (under.astype(np.float32) + 8)
                        for seen, under in zip(cv2.split(image), cv2.split(around)))
    shift = red - np.maximum(green, blue)
    # ink takes light away: red ink takes green or blue, it never lightens both, as white or pale
    # print on a coloured band does (the band's red is its lowest channel, so its white rises most in red)
    shift[np.minimum(green, blue) > 1.02] = 0
    shift[~coloured] = 0
    return shift


def strength_picture(strength: np.ndarray, faint: np.ndarray) -> np.ndarray:
    """The red ink's strength as a grey picture (0..255), softened, for the circle search."""
    picture = np.clip(strength * 3, 0, 255).astype(np.uint8) * faint.astype(np.uint8)
    return cv2.GaussianBlur(picture, (5, 5), 1.5)


def without_long_lines(mask: np.ndarray) -> np.ndarray:
    """The mask less its long straight runs (see `long_lines`)."""
    return mask & ~long_lines(mask)


def long_lines(mask: np.ndarray) -> np.ndarray:
    """Straight runs longer than half the short side, at any angle (table rules and a 红头's
    rule, also on a photo taken askew), as a mask. A seal's ring has no such run: its longest
    straight stretch is about 0.4 of its diameter, even where it fills a close-up. Searched on
    a half-size copy: a page full of pink table lines costs a quarter of the time."""
    step = 2 if min(mask.shape) >= 500 else 1  # a small picture (a stamp picture) is cheap at full size
    half = (cv2.resize(mask.astype(np.uint8) * 255, (max(1, mask.shape[1] // step), max(1, mask.shape[0] // step)),
                       interpolation=cv2.INTER_AREA) >= 64).astype(np.uint8)
    short = min(half.shape)
    length = max(40 // step, int(0.5 * short))
    lines = np.zeros(mask.shape, np.uint8)
    # the transform keeps a run whose ends, both inked pixels, lie `length` or more apart across or
    # down: none where all the ink fits in a box smaller than that (a page whose red is its seal)
    _, _, width, height = cv2.boundingRect(half)
    if max(width, height) <= length:
        return lines.astype(bool)
    cv2.setRNGSeed(5)  # the probabilistic transform samples at random: the same answer every time
    found = cv2.HoughLinesP(half, 1, np.pi / 360, threshold=max(30 // step, int(0.25 * short)),
                            minLineLength=length, maxLineGap=3 // step + 1)
    if found is None:
        return lines.astype(bool)
    for x0, y0, x1, y1 in found.reshape(-1, 4):
        cv2.line(lines, (int(step * x0), int(step * y0)), (int(step * x1), int(step * y1)), 1, thickness=5)
    return lines.astype(bool)
