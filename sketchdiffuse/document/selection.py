"""The selection: an anti-aliased coverage mask over the canvas (uint8, 255 = fully selected).

Shapes are drawn anti-aliased (rectangles exactly from their fractional edges, ellipses from the
distance to their outline, lassos by Pillow at four times the size and reduced); shapes combine
with the current selection (replace, add, subtract, intersect); feather blurs the edge (Pillow's
Gaussian blur), grow and shrink move it by a distance (scipy's Euclidean distance transform). No
selection means the whole canvas is open to painting and generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from sketchdiffuse.document.compose import scaled_by
from sketchdiffuse.document.rect import Rect

Mask = np.ndarray  # H x W uint8 coverage


class Combine(str, Enum):
    REPLACE = "replace"
    ADD = "add"  # Shift
    SUBTRACT = "subtract"  # Alt
    INTERSECT = "intersect"  # Shift + Alt


def bounds(mask: Mask) -> Rect:
    """The smallest rectangle holding every selected pixel (empty for none)."""
    return Rect.of_nonzero(mask)


def combine(current: Mask | None, shape: Mask, how: Combine) -> Mask | None:
    """``shape`` combined with the ``current`` selection (None: nothing selected); None when empty."""
    if how is Combine.REPLACE or current is None:
        result = shape if how in (Combine.REPLACE, Combine.ADD) else np.zeros_like(shape)
    elif how is Combine.ADD:
        result = np.maximum(current, shape)
    elif how is Combine.SUBTRACT:
        result = scaled_by(current, 255 - shape)
    else:
        result = np.minimum(current, shape)
    result = result.astype(np.uint8)
    return result if result.any() else None


def _coverage_1d(start: float, stop: float, size: int) -> np.ndarray:
    """How much of each pixel 0..size-1 the interval [start, stop) covers."""
    edges = np.arange(size + 1, dtype=np.float64)
    return np.clip(np.minimum(edges[1:], stop) - np.maximum(edges[:-1], start), 0.0, 1.0)


def rectangle(width: int, height: int, x0: float, y0: float, x1: float, y1: float) -> Mask:
    """A rectangle between two corners (any order), its fractional edges covering pixels partly."""
    (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
    cover = np.outer(_coverage_1d(y0, y1, height), _coverage_1d(x0, x1, width))
    return (cover * 255 + 0.5).astype(np.uint8)


def ellipse(width: int, height: int, x0: float, y0: float, x1: float, y1: float) -> Mask:
    """The ellipse inscribed in the rectangle between two corners, anti-aliased over about one pixel."""
    (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
    mask = np.zeros((height, width), np.uint8)
    a, b = (x1 - x0) / 2, (y1 - y0) / 2
    box = Rect.bounding(x0, y0, x1, y1).intersected(Rect(0, 0, width, height))
    if a <= 0 or b <= 0 or box.is_empty():
        return mask
    ys = np.arange(box.y, box.bottom, dtype=np.float64)[:, None] + 0.5 - (y0 + b)
    xs = np.arange(box.x, box.right, dtype=np.float64)[None, :] + 0.5 - (x0 + a)
    radial = np.sqrt((xs / a) ** 2 + (ys / b) ** 2)
    # Distance to the outline along the radius, in pixels, approximated by the local radius.
    distance = (1.0 - radial) * np.sqrt((xs**2 + ys**2) / np.maximum(radial**2, 1e-12))
    distance = np.where(radial < 1e-9, min(a, b), distance)
    mask[box.slices()] = (np.clip(distance + 0.5, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    return mask


SUPERSAMPLE = 4


def polygon(width: int, height: int, points: Sequence[tuple[float, float]]) -> Mask:
    """A closed polygon (a lasso's path), drawn at four times the size over its bounding box and
    reduced, so its edges are anti-aliased."""
    mask = np.zeros((height, width), np.uint8)
    if len(points) < 3:
        return mask
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    box = Rect.bounding(min(xs), min(ys), max(xs), max(ys)).intersected(Rect(0, 0, width, height))
    if box.is_empty():
        return mask
    s = SUPERSAMPLE
    big = Image.new("L", (box.w * s, box.h * s), 0)
    ImageDraw.Draw(big).polygon([((x - box.x) * s, (y - box.y) * s) for x, y in points], fill=255)
    mask[box.slices()] = np.asarray(big.reduce(s))
    return mask


def from_alpha(pixels: np.ndarray) -> Mask:
    """A layer's opacity as a selection."""
    return np.array(pixels[..., 3], copy=True)


def invert(mask: Mask | None, width: int, height: int) -> Mask | None:
    inverted = np.full((height, width), 255, np.uint8) if mask is None else 255 - mask
    return inverted if inverted.any() else None


def feather(mask: Mask, radius: float) -> Mask:
    """The edge softened over about ``radius`` pixels (a Gaussian blur)."""
    if radius <= 0:
        return mask.copy()
    return np.asarray(Image.fromarray(mask, "L").filter(ImageFilter.GaussianBlur(radius))).copy()


def grow(mask: Mask, distance: float) -> Mask:
    """The selection moved outwards by ``distance`` pixels (inwards when negative), keeping a one-pixel
    anti-aliased edge."""
    from scipy.ndimage import distance_transform_edt

    if distance == 0:
        return mask.copy()
    inside = mask >= 128
    if distance > 0:
        reach = distance_transform_edt(~inside)  # how far each pixel lies outside the selection (1: touching)
        cover = np.clip(distance + 1.0 - reach, 0.0, 1.0)
        return np.maximum(mask, (cover * 255 + 0.5).astype(np.uint8))
    depth = distance_transform_edt(inside)  # how far each pixel lies inside (1: on the edge)
    cover = np.clip(depth + distance, 0.0, 1.0)
    return np.minimum(mask, (cover * 255 + 0.5).astype(np.uint8))


def painted(mask: Mask | None, coverage: Mask, erase: bool) -> Mask | None:
    """The selection after a brush stroke in quick-mask mode: ``coverage`` (the stroke's alpha) added to
    it, or taken from it by the eraser; None when nothing is left."""
    base = np.zeros_like(coverage) if mask is None else mask
    result = scaled_by(base, 255 - coverage) if erase else np.maximum(base, coverage)
    return result if result.any() else None


def quick_mask_tint(
    mask: Mask | None, shape: tuple[int, int], coverage: Mask | None = None, erase: bool = False
) -> np.ndarray:
    """What the quick mask shows: the unselected part in half-transparent red (premultiplied RGBA), with
    a stroke in progress (``coverage``) already counted."""
    selected = np.zeros(shape, np.uint8) if mask is None else mask
    if coverage is not None:
        after = painted(selected, coverage, erase)
        selected = np.zeros(shape, np.uint8) if after is None else after
    alpha = ((255 - selected.astype(np.uint16)) // 2).astype(np.uint8)
    out = np.zeros((*shape, 4), np.uint8)
    out[..., 0] = alpha  # red at full strength, premultiplied by the alpha
    out[..., 3] = alpha
    return out
