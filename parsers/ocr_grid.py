"""A scanned page made ready for OCR: straightened, the red ink dropped, its ruled table's cells found.

The cells become the cells of a `Table` as the .docx reader would give it (parsers/ocr.py).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

# OpenBLAS (inside OpenCV's wheel) starts worker threads as it loads, and a forked reader that
# calls it afterwards may crash: one thread, set before OpenCV loads
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import cv2  # noqa: E402 - after the line above
import numpy as np  # noqa: E402 - after the line above


def prepared(rgb: np.ndarray) -> np.ndarray:
    """Grey, the red ink gone (the red channel: black print stays black, red ink turns paper),
    the lighting flattened, turned straight by the skew of its long ruled lines."""
    grey = rgb[..., 0].copy() if rgb.ndim == 3 else rgb.copy()
    height, width = grey.shape
    small = cv2.resize(grey, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))), (0, 0), 4)
    background = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    flat = np.clip(grey.astype(np.float32) * 255.0 / np.maximum(background, 60), 0, 255).astype(np.uint8)
    angle = skew(flat)
    if abs(angle) > 0.15:
        h, w = flat.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        flat = cv2.warpAffine(flat, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    return flat


def skew(grey: np.ndarray) -> float:
    """Degrees to turn the page by (counter-clockwise) so that its long lines lie level.

    Looked for on the page at half its size: the line search was 0.34 s of a page's 0.43 s of
    preparation at full size, 0.08 s at half, and the angle moves by at most ~0.2° (5 pixels
    across an A4 page at OCR_SIDE; bench/ocr_speed.py reads the same fields)."""
    small = cv2.resize(grey, (max(1, grey.shape[1] // 2), max(1, grey.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 15, 15)
    cv2.setRNGSeed(7)
    found = cv2.HoughLinesP(ink, 1, np.pi / 720, threshold=100, minLineLength=small.shape[1] // 3, maxLineGap=4)
    if found is None:
        return 0.0
    angles = []
    for x0, y0, x1, y1 in found.reshape(-1, 4):
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
        if abs(angle) < 10:
            angles.append(angle)
    return float(np.median(angles)) if angles else 0.0


@dataclass(frozen=True)
class Cell:
    box: tuple[int, int, int, int]
    row: int
    column: int


def grid_cells(page: np.ndarray) -> list[Cell]:
    """The cells of the page's ruled table (the spaces the rules enclose), with row and column."""
    ink = cv2.adaptiveThreshold(page, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    rules = _rules(ink)
    count, _, stats, _ = cv2.connectedComponentsWithStats(rules, connectivity=8)
    if count < 2:
        return []
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    tx, ty, tw, th = stats[biggest][:4]
    if tw < page.shape[1] * 0.3 or th < page.shape[0] * 0.1:
        return []  # no table: the form was typed as paragraphs
    inside = 255 - rules[ty:ty + th, tx:tx + tw]
    count, _, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=4)
    boxes = []
    for x, y, w, h, area in stats[1:]:
        touches = x <= 1 or y <= 1 or x + w >= tw - 1 or y + h >= th - 1
        if touches or w < 20 or h < 15 or area < 0.5 * w * h:
            continue
        boxes.append((int(x + tx), int(y + ty), int(x + tx + w), int(y + ty + h)))
    return _with_rows_and_columns(boxes)


def _rules(ink: np.ndarray) -> np.ndarray:
    height, width = ink.shape
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, width // 30), 1)))
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(20, height // 50))))
    return cv2.dilate(across | down, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))


def without_rules(page: np.ndarray) -> np.ndarray:
    ink = cv2.adaptiveThreshold(page, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    cleaned = page.copy()
    cleaned[_rules(ink) > 0] = 255
    return cleaned


def _with_rows_and_columns(boxes: list[tuple[int, int, int, int]]) -> list[Cell]:
    if not boxes:
        return []
    tolerance = max(8, int(0.4 * min(b[3] - b[1] for b in boxes)))
    tops = _clusters([b[1] for b in boxes], tolerance)
    lefts = _clusters([b[0] for b in boxes], 12)
    return sorted((Cell(b, tops(b[1]), lefts(b[0])) for b in boxes), key=lambda c: (c.row, c.column))


def _clusters(values: list[int], tolerance: int):
    """A function value → the index of its cluster (values within `tolerance` of the cluster's first)."""
    starts: list[int] = []
    for value in sorted(values):
        if not starts or value - starts[-1] > tolerance:
            starts.append(value)

    def index(value: int) -> int:
        return max(k for k, start in enumerate(starts) if value >= start - tolerance)

    return index
