"""Painting a stroke: dabs along the input path, accumulated in a per-stroke coverage buffer.

Coverage lives in tiles that are created on first touch together with a copy of the
layer's pixels there; each dab recomposes the brush colour over those saved pixels, so
overlapping dabs of one stroke never build past the stroke's opacity, and the saved
tiles are exactly the undo patch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from sketchdiffuse.brush.dab import dab_mask
from sketchdiffuse.brush.settings import BrushSettings
from sketchdiffuse.brush.stroke import StrokePoint, StrokeRecord
from sketchdiffuse.document.commands import PixelPatches
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import LayerLockedError
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.rect import EMPTY, Rect

TILE = 256
_SNAP = np.float32(0.5 / 255.0)


class _Tile:
    __slots__ = ("before", "coverage", "rect")

    def __init__(self, rect: Rect, pixels: np.ndarray) -> None:
        self.rect = rect
        self.before = pixels[rect.slices()].copy()
        self.coverage = np.zeros((rect.h, rect.w), dtype=np.float32)


class StrokePainter:
    """Feeds input points to the brush; ``finish`` returns the undoable command. Painting stays inside the
    document's selection."""

    def __init__(self, doc: Document, layer: Layer, settings: BrushSettings) -> None:
        if layer.locked:
            raise LayerLockedError(f"Layer '{layer.name}' is locked; unlock it to paint on it.")
        self.doc = doc
        self.layer = layer
        self.settings = settings
        self.record = StrokeRecord(settings)
        self._tiles: dict[tuple[int, int], _Tile] = {}
        self._prev: StrokePoint | None = None  # last (smoothed) input point painted to
        self._smoothed: StrokePoint | None = None
        self._since_dab = 0.0  # path length walked since the last dab
        r, g, b = settings.color
        self._target = np.array([r, g, b, 255], dtype=np.float32)
        # Painting stays inside the selection: each pixel's coverage is scaled by how selected it is.
        self._clip = doc.selection  # replaced, never changed in place, by selection commands

    # -- input ---------------------------------------------------------------------------
    def add_point(self, point: StrokePoint) -> Rect:
        """Paint up to ``point``; returns (and reports to the document) the dirty rectangle."""
        self.record.points.append(point)
        s = self.settings.smoothing
        if self._smoothed is not None and s > 0.0:
            prev = self._smoothed
            k = 1.0 - s
            point = StrokePoint(
                prev.x + (point.x - prev.x) * k,
                prev.y + (point.y - prev.y) * k,
                prev.pressure + (point.pressure - prev.pressure) * k,
                point.time,
            )
        self._smoothed = point
        return self._paint_to(point)

    def finish(self) -> PixelPatches | None:
        """Close the stroke (catching up with the pen if smoothing lagged); None if nothing changed."""
        if self.record.points and self.settings.smoothing > 0.0:
            self._paint_to(self.record.points[-1])
        if not self._tiles:
            return None
        tiles = list(self._tiles.values())
        verb = "Erase" if self.settings.eraser else "Brush stroke"
        return PixelPatches(
            f"{verb} on '{self.layer.name}'", self.layer, [t.rect for t in tiles], [t.before for t in tiles]
        )

    # -- painting ------------------------------------------------------------------------
    def _paint_to(self, point: StrokePoint) -> Rect:
        prev = self._prev
        self._prev = point
        if prev is None:
            dirty = self._dab(point)
        else:
            dirty = EMPTY
            dx, dy, dp = point.x - prev.x, point.y - prev.y, point.pressure - prev.pressure
            length = math.hypot(dx, dy)
            pos = 0.0
            while length > 0.0:
                # Spacing follows the size at the current pressure, so thin parts get dense dabs.
                t = pos / length
                step = max(0.5, self.settings.spacing * 2.0 * self._radius(prev.pressure + dp * t))
                next_at = pos + step - self._since_dab
                if next_at > length:
                    self._since_dab += length - pos
                    break
                pos, self._since_dab = next_at, 0.0
                t = pos / length
                dab = StrokePoint(prev.x + dx * t, prev.y + dy * t, prev.pressure + dp * t, point.time)
                dirty = dirty.united(self._dab(dab))
        if not dirty.is_empty():
            self.doc.notify_dirty(dirty, self.layer)
        return dirty

    def _radius(self, pressure: float) -> float:
        s = self.settings
        scale = s.min_size + (1.0 - s.min_size) * pressure if s.pressure_size else 1.0
        return 0.5 * s.size * scale

    def _dab(self, p: StrokePoint) -> Rect:
        s = self.settings
        pressure = min(max(p.pressure, 0.0), 1.0)
        rect, mask = dab_mask(p.x, p.y, self._radius(pressure), s.hardness)
        clipped = rect.intersected(self.doc.rect)
        if clipped.is_empty():
            return EMPTY
        cap = np.float32(s.opacity * (pressure if s.pressure_opacity else 1.0))
        flow = np.float32(s.flow)
        tx0, ty0 = clipped.x // TILE, clipped.y // TILE
        tx1, ty1 = (clipped.right - 1) // TILE, (clipped.bottom - 1) // TILE
        for ty in range(ty0, ty1 + 1):
            for tx in range(tx0, tx1 + 1):
                tile = self._tile(tx, ty)
                part = clipped.intersected(tile.rect)
                self._stamp(
                    tile,
                    part,
                    mask[part.y - rect.y : part.bottom - rect.y, part.x - rect.x : part.right - rect.x],
                    cap,
                    flow,
                )
        return clipped

    def _tile(self, tx: int, ty: int) -> _Tile:
        tile = self._tiles.get((tx, ty))
        if tile is None:
            x, y = tx * TILE, ty * TILE
            rect = Rect(x, y, TILE, TILE).intersected(self.doc.rect)
            tile = self._tiles[(tx, ty)] = _Tile(rect, self.layer.pixels)
        return tile

    def _stamp(self, tile: _Tile, part: Rect, mask: np.ndarray, cap: np.float32, flow: np.float32) -> None:
        local = (
            slice(part.y - tile.rect.y, part.bottom - tile.rect.y),
            slice(part.x - tile.rect.x, part.right - tile.rect.x),
        )
        cov = tile.coverage[local]
        # Move coverage towards the cap by flow x mask; never lower it (a lighter dab on top).
        np.maximum(cov, cov + (cap - cov) * (mask * flow), out=cov)
        # The approach to the cap is geometric; snap the last half step so scrubbing reaches it.
        cov[np.abs(cov - cap) < _SNAP] = cap
        before = tile.before[local].astype(np.float32)
        weight = cov if self._clip is None else cov * (self._clip[part.slices()] * np.float32(1 / 255))
        c = weight[..., None]
        out = before * (1.0 - c) if self.settings.eraser else before + (self._target - before) * c
        out += 0.5
        self.layer.pixels[part.slices()] = out.astype(np.uint8)


def replay_stroke(
    doc: Document, layer: Layer, points: Iterable[StrokePoint], settings: BrushSettings
) -> PixelPatches | None:
    """Paint a recorded stroke again; the same points and settings give the same pixels."""
    painter = StrokePainter(doc, layer, settings)
    for point in points:
        painter.add_point(point)
    return painter.finish()
