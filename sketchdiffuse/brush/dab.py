"""The coverage mask of one round dab."""

from __future__ import annotations

import numpy as np

from sketchdiffuse.document.rect import Rect


def dab_mask(cx: float, cy: float, radius: float, hardness: float) -> tuple[Rect, np.ndarray]:
    """Rectangle and float32 coverage (0..1) of a dab centred at (cx, cy).

    Inside ``hardness * radius`` coverage is full, then it falls off smoothly to the rim;
    the rim itself is antialiased over one pixel so hard brushes have clean edges.
    """
    r = float(max(radius, 0.5))
    rect = Rect.bounding(cx - r - 0.5, cy - r - 0.5, cx + r + 0.5, cy + r + 0.5)
    xs = np.arange(rect.x, rect.right, dtype=np.float32) + np.float32(0.5 - cx)
    ys = np.arange(rect.y, rect.bottom, dtype=np.float32) + np.float32(0.5 - cy)
    dist = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    edge = np.clip(np.float32(r + 0.5) - dist, 0.0, 1.0)
    if hardness >= 1.0:
        return rect, edge
    inner = r * hardness
    t = np.clip((dist - np.float32(inner)) * np.float32(1.0 / max(r - inner, 1e-3)), 0.0, 1.0)
    falloff = 1.0 - t * t * (3.0 - 2.0 * t)
    return rect, falloff * edge
