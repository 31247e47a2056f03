"""Generating in a selection: the context area sent to the model, and the result put back in place.

The context area is the selection's box grown by a padding on each side and kept on the canvas, with
its aspect matched to the working size the engine will choose (engine.work_size), so the drawing
and the mask are scaled by one factor and the mask lands where the model sees it. The result comes
back at the area's size and becomes a layer whose alpha is the selection's coverage there:
premultiplied, so a soft edge mixes the new picture with the old without dark fringes, and the
composite outside the selection stays exactly as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sketchdiffuse.document.compose import premultiplied_into
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.layer import Layer, blank_pixels
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.document.selection import bounds
from sketchdiffuse.generation.engine import work_size
from sketchdiffuse.generation.request import SizePolicy
from sketchdiffuse.io.pixels import flatten_on


@dataclass(frozen=True)
class Region:
    area: Rect  # on the canvas
    drawing: np.ndarray  # H x W x 3 uint8: the composite there, flattened and with empty parts filled
    mask: np.ndarray  # H x W uint8: the selection's coverage there (255 repaints)


def context_area(box: Rect, canvas: Rect, padding: float, native: int, policy: SizePolicy) -> Rect:
    """``box`` grown by ``padding`` of its size on each side, on the canvas, its aspect that of the
    working size the engine picks for it (as near as whole pixels allow)."""
    pad_x, pad_y = math.ceil(box.w * padding), math.ceil(box.h * padding)
    area = Rect(box.x - pad_x, box.y - pad_y, box.w + 2 * pad_x, box.h + 2 * pad_y).intersected(canvas)
    for _ in range(8):  # the working size follows the area: a few rounds settle both
        work_w, work_h = work_size(area.w, area.h, policy, native)
        if area.w * work_h >= area.h * work_w:  # too wide for the working aspect: taller
            fitted = _resized(area, area.w, round(area.w * work_h / work_w), canvas)
        else:
            fitted = _resized(area, round(area.h * work_w / work_h), area.h, canvas)
        if fitted == area:
            break
        area = fitted
    return area


def _resized(area: Rect, w: int, h: int, canvas: Rect) -> Rect:
    """``area`` grown (or shrunk) about its centre to ``w`` x ``h``, shifted to stay on the canvas."""
    w, h = min(max(1, w), canvas.w), min(max(1, h), canvas.h)
    x = min(max(canvas.x, area.x - (w - area.w) // 2), canvas.right - w)
    y = min(max(canvas.y, area.y - (h - area.h) // 2), canvas.bottom - h)
    return Rect(x, y, w, h)


def region_of(
    composite: np.ndarray, selection: np.ndarray, padding: float, native: int, policy: SizePolicy, empty_fill: str
) -> Region:
    """What a generation in ``selection`` starts from; ``composite`` is the document's (premultiplied)."""
    canvas = Rect(0, 0, composite.shape[1], composite.shape[0])
    box = bounds(selection)
    if box.is_empty():
        raise ValueError("Nothing is selected.")
    area = context_area(box, canvas, padding, native, policy)
    pixels = composite[area.slices()]
    return Region(area, fill_empty(pixels, empty_fill), np.array(selection[area.slices()]))


def fill_empty(pixels: np.ndarray, how: str) -> np.ndarray:
    """The premultiplied ``pixels`` flattened to RGB, their transparent parts "keep" (white, as everywhere
    else), "neighbours" (the colour of the nearest painted pixel) or "noise" (random colours, seeded
    by the picture so the same drawing gives the same request)."""
    rgb = flatten_on(pixels)
    empty = pixels[..., 3] == 0
    if how == "keep" or not empty.any() or empty.all():
        return rgb
    if how == "neighbours":
        from scipy.ndimage import distance_transform_edt

        _, (rows, cols) = distance_transform_edt(empty, return_indices=True)
        return np.ascontiguousarray(rgb[rows, cols])
    rng = np.random.default_rng(int(pixels[..., 3].sum()) & 0xFFFFFFFF)
    noise = rng.integers(0, 256, rgb.shape, dtype=np.uint8)
    return np.where(empty[..., None], noise, rgb)


def region_layer(width: int, height: int, rgb: np.ndarray, area: Rect, mask: np.ndarray, name: str) -> Layer:
    """A canvas-size layer holding ``rgb`` (the area's size, else scaled to it) at ``area``, its alpha the
    selection's coverage ``mask``, premultiplied."""
    from PIL import Image

    if rgb.shape[:2] != (area.h, area.w):
        rgb = np.asarray(Image.fromarray(rgb).resize((area.w, area.h), Image.Resampling.LANCZOS))
    shown = area.intersected(Rect(0, 0, width, height))  # the canvas may have shrunk since
    if shown.is_empty():
        raise DocumentError("The part of the picture this result was made for has been cropped away.")
    pixels = blank_pixels(width, height)
    inside = (slice(shown.y - area.y, shown.bottom - area.y), slice(shown.x - area.x, shown.right - area.x))
    premultiplied_into(rgb[inside], mask[inside], pixels[shown.slices()])
    return Layer(name=name, pixels=pixels, painted_within=shown)
