"""The document's composite, kept between changes and recomposed only where something changed.

The canvas, saving, exporting and every generation request read the same pixels; before this cache
each of them composed the whole layer stack again (about a second at 4096 x 4096 with 8 layers).
Changed rectangles are collected as the document reports them and composed when the composite is
next read, so many small changes between two reads (a stroke's dabs within one frame) cost one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from sketchdiffuse.document.projection import Span
from sketchdiffuse.document.rect import Rect

MAX_PENDING = 32  # more pending rectangles than this fold into their bounding box
# A change of a span of layers over at least this share of the canvas goes through the projection
# (below/above the span); smaller ones (strokes) compose their rectangle through every layer.
PROJECTION_SHARE = 0.25


class Change(NamedTuple):
    """A pending rectangle; ``span``: layers changed in it (None: not known); ``large``: one change in it
    covered at least PROJECTION_SHARE of the canvas (many small ones, a stroke's dabs, do not make it
    large: building a projection for them would cost more than composing them)."""

    rect: Rect
    span: Span | None
    large: bool


def _span_for(newer: Change, older: Change) -> Span | None:
    """The span for two merged changes. Any span serves: the projection's parts are kept current for every
    change (stale rectangles), and a span of another stack than the present one is refused. The large
    change's span is the one worth a projection (a stroke's layer is not)."""
    if older.large and not newer.large and older.span is not None:
        return older.span
    return newer.span if newer.span is not None else older.span


class CompositeCache:
    """``compose(rect)``: the rectangle through every layer; ``project(span, rect, build)``: the rectangle
    after a change to the layers of ``span`` alone, or None when that cannot be served faster, or would
    need building the projection and ``build`` is False (projection.py)."""

    def __init__(
        self,
        compose: Callable[[Rect], np.ndarray],
        project: Callable[[Span, Rect, bool], np.ndarray | None] | None = None,
    ) -> None:
        self._compose = compose
        self._project = project
        self._pixels: np.ndarray | None = None
        self._pending: list[Change] = []

    def invalidate(self, rect: Rect, full: Rect, span: Span | None = None) -> None:
        """``rect`` of the canvas ``full`` changed; ``span``: the layers whose pixels, properties or places
        changed, None when that is not known."""
        if self._pixels is None or rect.is_empty():
            return  # nothing cached yet: the first read composes everything
        merged = Change(rect, span, rect.w * rect.h >= PROJECTION_SHARE * full.w * full.h)
        kept: list[Change] = []
        for other in self._pending:  # overlapping rectangles merge so no pixel is composed twice
            if other.rect.intersected(merged.rect).is_empty():
                kept.append(other)
                continue
            merged = Change(merged.rect.united(other.rect), _span_for(merged, other), merged.large or other.large)
        kept.append(merged)
        if len(kept) > MAX_PENDING:
            spans = [c.span for c in reversed(kept) if c.large and c.span is not None] + [span]
            kept = [Change(Rect.union(c.rect for c in kept), spans[0], any(c.large for c in kept))]
        self._pending = kept

    def drop(self) -> None:
        """Forget everything (the canvas size changed)."""
        self._pixels = None
        self._pending = []

    @property
    def pending(self) -> list[Rect]:
        return [change.rect for change in self._pending]

    def settle(self, full: Rect, projected_pixels: int, composed_pixels: int) -> bool:
        """Compose one band of the pending changes: ``projected_pixels`` of it when a projection already
        built serves it, ``composed_pixels`` through every layer otherwise (settling never builds a
        projection: that is one long pass). True when nothing is left."""
        if self._pixels is None or self._pixels.shape[:2] != (full.h, full.w):
            self.read(full)
            return True
        if not self._pending:
            return True
        change = self._pending.pop(0)
        rect = change.rect
        band = self._band(rect, projected_pixels)
        pixels = self._projected(change, band, build=False)
        if pixels is None:
            band = self._band(rect, composed_pixels)
            pixels = self._compose(band)
        self._pixels[band.slices()] = pixels
        rest = Rect(rect.x, band.bottom, rect.w, rect.bottom - band.bottom)
        if not rest.is_empty():
            self._pending.insert(0, change._replace(rect=rest))
        return not self._pending

    @staticmethod
    def _band(rect: Rect, pixels: int) -> Rect:
        return Rect(rect.x, rect.y, rect.w, max(1, min(rect.h, pixels // max(1, rect.w))))

    def _projected(self, change: Change, part: Rect, build: bool) -> np.ndarray | None:
        if change.span is None or self._project is None or not change.large:
            return None
        return self._project(change.span, part, build)

    def read(self, full: Rect, within: Rect | None = None) -> np.ndarray:
        """The composite as a read-only view of the cache, composing what changed since the last read; with
        ``within``, only that part is made current (the rest stays pending: a zoomed-in canvas)."""
        if self._pixels is None or self._pixels.shape[:2] != (full.h, full.w):
            self._pixels = np.ascontiguousarray(self._compose(full))
            self._pending = []
        left: list[Change] = []
        for change in self._pending:
            part = change.rect if within is None else change.rect.intersected(within)
            if part.is_empty():
                left.append(change)
                continue
            pixels = self._projected(change, part, build=True)
            self._pixels[part.slices()] = pixels if pixels is not None else self._compose(part)
            left += [change._replace(rect=piece) for piece in change.rect.minus(part)]
        self._pending = left
        view = self._pixels.view()
        view.setflags(write=False)
        return view
