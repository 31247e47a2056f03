"""What lies below and above the layers a change touched, kept so that the change blends only those
layers, not every layer: an opacity drag, a visibility toggle, a blend-mode change, moving, adding,
deleting or merging a layer, their undo and redo, or clearing a layer.

A ``Span`` names the changed layers ``start:stop`` of a stack. The cache holds, over the whole canvas
in float32 (the compositor's own precision), ``below``: exactly the composite of the layers under the
span, and ``above``: the layers over it folded into one premultiplied image when all of them are
normal (source-over); a stack above with other modes is blended layer by layer instead, since those
modes depend on their backdrop. Each part is keyed by the uids of the layers it holds, so it is
reused whenever the next span has the same layers below or above. Changes to layers a part holds
mark rectangles of that part stale, recomputed before its next use. Its size is 32 bytes per canvas
pixel (512 MB at 4096 x 4096), bounded by ``budget_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.compose import blend_layer, composite_float_banded, in_bands, over_float, to_uint8
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.rect import Rect

DEFAULT_BUDGET = 2 << 30  # bytes: the projections of an 8192 x 8192 canvas fit
MAX_STALE = 16  # more stale rectangles than this fold into their bounding box


@dataclass(frozen=True)
class Span:
    """Layers ``start:stop`` of the stack changed (none for a deletion: ``start == stop``); ``stack`` is the
    stack then (layer uids), so a span reported for one stack is never applied to another."""

    start: int
    stop: int
    stack: tuple[int, ...]

    @staticmethod
    def of_layer(layers: list[Layer], layer: Layer) -> Span | None:
        index = next((i for i, other in enumerate(layers) if other is layer), None)
        return None if index is None else Span(index, index + 1, _ids(layers))

    @staticmethod
    def between(old: list[Layer], new: list[Layer]) -> Span:
        """What a new stack changed: everything between the layers both stacks share at the bottom and top
        (a move, an added, deleted or merged layer leaves the rest below and above as it was)."""
        start = 0
        while start < min(len(old), len(new)) and old[start] is new[start]:
            start += 1
        end = 0
        while end < min(len(old), len(new)) - start and old[-1 - end] is new[-1 - end]:
            end += 1
        return Span(start, len(new) - end, _ids(new))


class Parts(NamedTuple):
    """The stack around a span: ``below`` composed, the ``middle`` layers (the span's), the layers
    ``over`` it and, when they are all normal, ``above``: them folded. ``revision`` changes whenever
    ``below`` or ``above`` do."""

    below: np.ndarray
    middle: list[Layer]
    over: list[Layer]
    above: np.ndarray | None
    revision: int


class Projection:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET) -> None:
        self.budget_bytes = budget_bytes
        self._under: tuple[int, ...] | None = None  # ids of the layers ``below`` was composed from
        self._over: tuple[int, ...] | None = None  # ids of the layers ``above`` was folded from
        self._below: np.ndarray | None = None
        self._above: np.ndarray | None = None  # None: the layers above are blended one by one
        self._stale: dict[str, list[Rect]] = {"below": [], "above": []}
        self.builds = 0  # how often a part was composed from scratch (tests and benchmarks read it)
        self.served = 0  # rectangles composed from it
        self.revision = 0  # changes whenever a cached part does (views reduced from the parts follow it)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self._below, self._above) if a is not None)

    def drop(self) -> None:
        self._under, self._over, self._below, self._above = None, None, None, None
        self._stale = {"below": [], "above": []}
        self.revision += 1

    def fits(self, canvas: Rect) -> bool:
        return canvas.w * canvas.h * 32 <= self.budget_bytes

    def changed(self, rect: Rect, span: Span | None) -> None:
        """A change reported by the document: a cached part holding a changed layer is stale in ``rect``
        (``span`` None: any layer may have changed)."""
        touched = None if span is None else set(span.stack[span.start : span.stop])
        for part, key in (("below", self._under), ("above", self._over)):
            if key is not None and (touched is None or touched & set(key)):
                stale = self._stale[part]
                stale.append(rect)
                if len(stale) > MAX_STALE:  # a long stroke on another layer: one rectangle, not thousands
                    self._stale[part] = [Rect.union(stale)]

    def parts(self, layers: list[Layer], span: Span, canvas: Rect, build: bool = True) -> Parts | None:
        """The cached parts around ``span``, built (unless not ``build``) or brought up to date, or None when
        the cache cannot serve the span (too large for the budget, or the span is of another stack)."""
        if not self.fits(canvas) or span.stack != _ids(layers):
            return None
        under, middle, over = layers[: span.start], layers[span.start : span.stop], layers[span.stop :]
        under_key, over_key = _ids(under), _ids(over)
        reuse_below = self._below is not None and self._under == under_key
        reuse_above = self._over == over_key and (self._above is not None) == _foldable(over)
        if not build and not (reuse_below and reuse_above):
            return None
        # Parts kept are brought up to date where their own layers changed since.
        if reuse_below and self._stale["below"]:
            for stale in self._stale["below"]:
                self._below[stale.slices()] = composite_float_banded(under, stale)  # type: ignore[index]
            self.revision += 1
        if reuse_above and self._above is not None and self._stale["above"]:
            for stale in self._stale["above"]:
                self._above[stale.slices()] = composite_float_banded(over, stale)
            self.revision += 1
        self._stale = {"below": [], "above": []}
        if not reuse_below:
            self._below, self._under = composite_float_banded(under, canvas), under_key
            self.builds += 1
            self.revision += 1
        if not reuse_above:
            self._above = composite_float_banded(over, canvas) if _foldable(over) else None
            self._over = over_key
            self.builds += 1
            self.revision += 1
        assert self._below is not None
        return Parts(self._below, middle, over, self._above, self.revision)

    def compose(
        self, layers: list[Layer], span: Span, rect: Rect, canvas: Rect, build: bool = True
    ) -> np.ndarray | None:
        """The composite of ``rect`` after a change to the layers of ``span`` alone, or None when the cache
        cannot serve it (see ``parts``)."""
        parts = self.parts(layers, span, canvas, build)
        if parts is None:
            return None
        below, middle, over, above = parts.below, parts.middle, parts.over, parts.above
        self.served += 1
        out = np.empty((rect.h, rect.w, 4), dtype=np.uint8)

        def compose_band(band: Rect) -> None:
            rows, cols = band.slices()
            dst = below[rows, cols].copy()
            for layer in middle:
                blend_layer(dst, layer, band)
            if above is not None:
                over_float(dst, above[rows, cols])
            else:
                for layer in over:
                    blend_layer(dst, layer, band)
            out[band.y - rect.y : band.bottom - rect.y] = to_uint8(dst)

        in_bands(rect, compose_band)
        return out


def _ids(layers: list[Layer]) -> tuple[int, ...]:
    """Layer uids (never reused, unlike id() of a deleted layer's object)."""
    return tuple(layer.uid for layer in layers)


def _foldable(layers: list[Layer]) -> bool:
    """Normal layers fold into one image: source-over is associative. Other modes need their backdrop."""
    return all(layer.blend_mode is BlendMode.NORMAL or not layer.visible for layer in layers)
