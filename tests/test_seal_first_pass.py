"""The seal detector's quick steps: a page without red ink skips the red search, a large ring is measured on a
quarter of its pixels, and neither changes what is found (issue 17).

The pages are drawn here: a plain printed form (no red at all, as most pages of a nominee's
form are), the same form with a small seal in its bottom right corner, and a close-up photo of
a seal that the ring fills.
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image

from parsers import seal_features as features
from parsers import seal_ink
from parsers.pages import PagePicture
from parsers.seal_detector import look
from testing.builders import seals
from testing.builders.seal_drawing import multiply_ink, seal_alpha


def _plain_page() -> np.ndarray:
    page, _layout = seals.form_page(seals.random_values(random.Random(4)), random.Random(4))
    return np.asarray(page)


def _red_ink(image: np.ndarray) -> np.ndarray:
    _mask, faint, _strength = seal_ink.red_ink(seal_ink.flatten_light(seal_ink.working_copy(image)))
    return faint


def test_a_page_without_red_ink_is_decided_without_the_red_search(monkeypatch):
    image = _plain_page()
    assert not features.ring_possible(_red_ink(image))  # the red search is left out: nothing to fit a ring to
    searched, real = [], features.candidates
    monkeypatch.setattr(features, "candidates", lambda mask, kind, *args, **kwargs: searched.append(kind) or real(
        mask, kind, *args, **kwargs))
    sighting = look(PagePicture("推荐表.png", image, "page"))
    assert "red" not in searched
    assert sighting.confidence < 0.35 and sighting.kind != "red"


def test_a_small_seal_in_a_corner_is_still_found():
    rng = random.Random(9)
    page, _layout = seals.form_page(seals.random_values(rng), rng)
    style = seals.seal_style(rng, "round")
    alpha = seal_alpha("重庆市沙坪坝区总工会", type(style)(**{**style.__dict__, "diameter_mm": 30.0}), rng)
    corner = (page.width - alpha.width - 12, page.height - alpha.height - 12)
    multiply_ink(page, style.ink, alpha, corner)
    image = np.asarray(page)
    assert features.ring_possible(_red_ink(image))
    sighting = look(PagePicture("推荐表.png", image, "page"))
    assert sighting.confidence >= 0.65 and sighting.kind == "red", sighting
    x0, y0, _x1, _y1 = sighting.box  # in the working copy, long side 1000: the corner's quarter
    scale = seal_ink.WORK_SIDE / page.height
    assert x0 >= 0.75 * page.width * scale and y0 >= 0.75 * page.height * scale


def test_a_close_up_ring_is_measured_on_a_quarter_of_its_pixels_and_still_found():
    assert features.sampling(120) == 1  # a stamp on a page: every pixel
    assert features.sampling(features.FINE) == 2  # a close-up's ring: every other pixel of each row and column
    rng = random.Random(5)
    style = seals.seal_style(rng, "round")
    alpha = seal_alpha("重庆市建设工会", style, rng, scale=22.0)  # about 900 pixels across
    picture = Image.new("RGB", (alpha.width + 40, alpha.height + 40), (255, 255, 255))
    multiply_ink(picture, style.ink, alpha, (20, 20))
    sighting = look(PagePicture("章.jpg", np.asarray(picture), "page"))
    x0, y0, x1, y1 = sighting.box
    assert min(x1 - x0, y1 - y0) >= features.FINE  # measured on every other pixel
    assert sighting.confidence >= 0.65 and sighting.kind == "red", sighting
