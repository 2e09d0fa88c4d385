"""The seal detector's long-line search (parsers/seal_ink.py `long_lines`) skips the Hough
transform where no line can be long enough, with the same answer as the transform's."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from parsers import seal_ink


def _by_the_transform(mask: np.ndarray) -> np.ndarray:
    """long_lines as it was: the transform run on every mask."""
    step = 2 if min(mask.shape) >= 500 else 1
    half = cv2.resize(mask.astype(np.uint8) * 255, (max(1, mask.shape[1] // step), max(1, mask.shape[0] // step)),
                      interpolation=cv2.INTER_AREA) >= 64
    short = min(half.shape)
    cv2.setRNGSeed(5)
    found = cv2.HoughLinesP(half.astype(np.uint8), 1, np.pi / 360, threshold=max(30 // step, int(0.25 * short)),
                            minLineLength=max(40 // step, int(0.5 * short)), maxLineGap=3 // step + 1)
    lines = np.zeros(mask.shape, np.uint8)
    for x0, y0, x1, y1 in ([] if found is None else found.reshape(-1, 4)):
        cv2.line(lines, (int(step * x0), int(step * y0)), (int(step * x1), int(step * y1)), 1, thickness=5)
    return lines.astype(bool)


def _masks():
    """Lines just shorter and just longer than the search's least length (half the short side),
    across, down and slanted, on a page (searched at half size) and on a stamp-sized picture; a ring."""
    for shape in ((1000, 708), (240, 240)):
        least = int(0.5 * min(shape))
        for run in (least // 2, least - 8, least - 4, least - 2, least - 1, least, least + 1, least + 4):
            for slope in (0.0, 0.3, 1.0, 3.0, None):
                for thickness in (1, 3):
                    mask = np.zeros(shape, np.uint8)
                    x0, y0 = 20, 30
                    x1, y1 = (x0, y0 + run) if slope is None else (x0 + run, y0 + int(slope * run))
                    cv2.line(mask, (x0, y0), (x1, min(y1, shape[0] - 1)), 1, thickness=thickness)
                    yield mask.astype(bool)
        ring = np.zeros(shape, np.uint8)
        cv2.circle(ring, (shape[1] // 2, shape[0] // 2), min(shape) // 5, 1, thickness=3)
        yield ring.astype(bool)


@pytest.mark.parametrize("mask", list(_masks()))
def test_long_lines_are_those_the_transform_finds(mask):
    assert np.array_equal(seal_ink.long_lines(mask), _by_the_transform(mask))


def test_a_page_whose_red_ink_is_one_small_seal_costs_no_line_search(monkeypatch):
    searched = []
    real = cv2.HoughLinesP
    monkeypatch.setattr(cv2, "HoughLinesP", lambda *args, **kwargs: searched.append(1) or real(*args, **kwargs))
    page = np.zeros((1000, 708), np.uint8)
    cv2.circle(page, (500, 800), 80, 1, thickness=4)  # a seal 160 pixels across at the foot of the page
    assert not seal_ink.long_lines(page.astype(bool)).any()
    assert searched == []
