"""What lies inside a seal-like ring: the unit's name along it, or a bar, a slash, a monogram.

Measured on the faint ink mask (the palest ink counts: a lightly pressed seal's characters are
paler than its ring), in the candidate's own ellipse frame (parsers/seal_features.py):

- arc coverage: the share of directions with ink in the band where a seal's name runs
  (0.58 ≤ ρ ≤ 0.84). A seal's name covers 200–300° of it; a monogram in the middle of a logo,
  a road sign's bar or slash, a clock's hands, barely any;
- straightness: how much the ink inside (ρ < 0.8) lies along one line (1 − the ratio of its
  spread across to its spread along its main axis). A slash or a bar is straight; a star,
  a title and the arc text are not.
"""

from __future__ import annotations

import math

import numpy as np

from parsers.seal_features import SECTORS, Candidate


def inside_features(detail: np.ndarray, c: Candidate) -> tuple[float, float]:
    """(arc coverage, straightness) of one candidate, on the mask `detail`."""
    if not c.ellipse:
        return 0.0, 0.0
    (cx, cy), (d1, d2), angle = c.ellipse
    reach = 0.9 * max(d1, d2) / 2
    x0, y0 = max(0, int(cx - reach)), max(0, int(cy - reach))
    x1, y1 = min(detail.shape[1], int(cx + reach) + 1), min(detail.shape[0], int(cy + reach) + 1)
    ys, xs = np.nonzero(detail[y0:y1, x0:x1])
    if len(xs) < 10:
        return 0.0, 0.0
    dx, dy = xs + x0 - cx, ys + y0 - cy
    theta = math.radians(angle)
    u = (dx * math.cos(theta) + dy * math.sin(theta)) / (d1 / 2)
    v = (-dx * math.sin(theta) + dy * math.cos(theta)) / (d2 / 2)
    rho = np.hypot(u, v)
    band = (rho >= 0.58) & (rho <= 0.84)
    sectors = ((np.arctan2(v[band], u[band]) + math.pi) * (SECTORS / (2 * math.pi))).astype(np.int32) % SECTORS
    arc = float((np.bincount(sectors, minlength=SECTORS) > 0).mean())
    return arc, _straightness(dx[rho < 0.8], dy[rho < 0.8])


def _straightness(dx: np.ndarray, dy: np.ndarray) -> float:
    if len(dx) < 20:
        return 0.0
    spread = np.linalg.eigvalsh(np.cov(np.stack([dx, dy])))
    return float(1 - math.sqrt(max(spread[0], 0.0) / max(spread[1], 1e-9)))
