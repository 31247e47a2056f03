"""A small judge for the toy-shapes model's pictures: which shape, which colour, where, how big.

The shape is the largest connected region of pixels far from the white background; its colour is
the nearest of the training palette to their mean; its fill ratio (area over bounding box) tells a
square (1.0) from a circle (pi/4, about 0.79) from a triangle (0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

PALETTE = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 200, 30),
    "black": (25, 25, 25),
    "purple": (150, 50, 200),
}
FAR_FROM_WHITE = 60  # a channel this far below 255 is not background


@dataclass(frozen=True)
class Verdict:
    colour: str
    shape: str
    centroid: tuple[float, float]  # (x, y) in pixels
    area: int
    fill: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


def shape_mask(rgb: np.ndarray) -> np.ndarray:
    far = (255 - rgb.astype(int)).max(axis=2) > FAR_FROM_WHITE
    labels, count = ndimage.label(far)
    if count == 0:
        return far
    sizes = ndimage.sum(far, labels, range(1, count + 1))
    return labels == (int(np.argmax(sizes)) + 1)


def shape_of(fill: float) -> str:
    if fill >= 0.9:
        return "square"
    if fill >= 0.64:
        return "circle"
    return "triangle"


def judge(rgb: np.ndarray) -> Verdict | None:
    """None when the picture holds no shape at all."""
    mask = shape_mask(rgb)
    area = int(mask.sum())
    if area < 9:
        return None
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    fill = area / ((x1 - x0) * (y1 - y0))
    mean = rgb[mask].astype(float).mean(axis=0)
    colour = min(PALETTE, key=lambda name: float(np.sum((mean - np.array(PALETTE[name])) ** 2)))
    return Verdict(
        colour, shape_of(fill), (float(xs.mean()) + 0.5, float(ys.mean()) + 0.5), area, fill, (x0, y0, x1, y1)
    )
