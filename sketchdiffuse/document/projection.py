"""What lies below and above one layer, kept so that a change to that layer alone costs two blends,
not one per layer: an opacity drag, a visibility toggle, a blend-mode change, their undo and redo,
or clearing the layer.

For the focus layer F the cache holds, over the whole canvas in float32 (the compositor's own
precision), ``below``: exactly the composite of the layers under F, and ``above``: the layers over
F folded into one premultiplied image when all of them are normal (source-over); a stack above with
other modes is blended layer by layer instead, since those modes depend on their backdrop. The
composite of a rectangle is then below, F blended on it, then above over that. Changes to other
layers mark the rectangles they touched stale, recomputed before the next use; another stack of
layers (added, deleted, moved) drops the cache. Its size is 32 bytes per canvas pixel (512 MB at
4096 x 4096), bounded by ``budget_bytes``.
"""

from __future__ import annotations

import numpy as np

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.compose import blend_layer, composite_float, in_bands, over_float, to_uint8
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.rect import Rect

DEFAULT_BUDGET = 2 << 30  # bytes: the projections of an 8192 x 8192 canvas fit
MAX_STALE = 16  # more stale rectangles than this fold into their bounding box


class Projection:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET) -> None:
        self.budget_bytes = budget_bytes
        self.focus: Layer | None = None
        self._stack: tuple[int, ...] = ()  # ids of the layers the cache was built for
        self._below: np.ndarray | None = None
        self._above: np.ndarray | None = None  # None: the layers above are blended one by one
        self._stale: list[Rect] = []
        self.builds = 0  # how often the cache was built from scratch (tests and benchmarks read it)
        self.served = 0  # rectangles composed from it

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self._below, self._above) if a is not None)

    def drop(self) -> None:
        self.focus, self._below, self._above, self._stale, self._stack = None, None, None, [], ()

    def fits(self, canvas: Rect) -> bool:
        return canvas.w * canvas.h * 32 <= self.budget_bytes

    def changed(self, rect: Rect, layer: Layer | None) -> None:
        """A change reported by the document: only the focus layer's own changes leave the cache valid."""
        if self.focus is None or layer is self.focus:
            return
        self._stale.append(rect)
        if len(self._stale) > MAX_STALE:  # a long stroke on another layer: one rectangle, not thousands
            union = self._stale[0]
            for other in self._stale[1:]:
                union = union.united(other)
            self._stale = [union]

    def compose(self, layers: list[Layer], focus: Layer, rect: Rect, canvas: Rect) -> np.ndarray | None:
        """The composite of ``rect`` after a change to ``focus`` alone, or None when the cache cannot
        serve it (too large for the budget, or ``focus`` is not in the stack)."""
        index = next((i for i, layer in enumerate(layers) if layer is focus), None)
        if not self.fits(canvas) or index is None:
            return None
        under, over = layers[:index], layers[index + 1 :]
        stack = tuple(id(layer) for layer in layers)
        if self.focus is not focus or self._stack != stack or self._below is None:
            self._build(under, over, focus, stack, canvas)
        else:
            for stale in self._stale:
                self._refresh(under, over, stale)
        self._stale = []
        below, above = self._below, self._above
        assert below is not None
        self.served += 1
        out = np.empty((rect.h, rect.w, 4), dtype=np.uint8)

        def compose_band(band: Rect) -> None:
            rows, cols = band.slices()
            dst = below[rows, cols].copy()
            blend_layer(dst, focus, band)
            if above is not None:
                over_float(dst, above[rows, cols])
            else:
                for layer in over:
                    blend_layer(dst, layer, band)
            out[band.y - rect.y : band.bottom - rect.y] = to_uint8(dst)

        in_bands(rect, compose_band)
        return out

    def _build(self, under: list[Layer], over: list[Layer], focus: Layer, stack: tuple[int, ...], canvas: Rect) -> None:
        self.drop()
        self.focus, self._stack = focus, stack
        self._below = _float_composite(under, canvas)
        self._above = _float_composite(over, canvas) if _foldable(over) else None
        self.builds += 1

    def _refresh(self, under: list[Layer], over: list[Layer], rect: Rect) -> None:
        assert self._below is not None
        rows, cols = rect.slices()
        self._below[rows, cols] = composite_float(under, rect)
        if _foldable(over):
            if self._above is None:
                self._above = _float_composite(over, Rect(0, 0, self._below.shape[1], self._below.shape[0]))
            else:
                self._above[rows, cols] = composite_float(over, rect)
        else:
            self._above = None


def _float_composite(layers: list[Layer], rect: Rect) -> np.ndarray:
    """composite_float over ``rect`` in bands on all cores."""
    out = np.empty((rect.h, rect.w, 4), dtype=np.float32)

    def compose_band(band: Rect) -> None:
        out[band.y - rect.y : band.bottom - rect.y] = composite_float(layers, band)

    in_bands(rect, compose_band)
    return out


def _foldable(layers: list[Layer]) -> bool:
    """Normal layers fold into one image: source-over is associative. Other modes need their backdrop."""
    return all(layer.blend_mode is BlendMode.NORMAL or not layer.visible for layer in layers)
