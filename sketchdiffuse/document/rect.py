"""Integer rectangles in document pixel coordinates."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Rect:
    """Half-open rectangle: columns x..x+w-1, rows y..y+h-1."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    def intersected(self, other: Rect) -> Rect:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.right, other.right), min(self.bottom, other.bottom)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def united(self, other: Rect) -> Rect:
        if self.is_empty():
            return other
        if other.is_empty():
            return self
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.right, other.right), max(self.bottom, other.bottom)
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def minus(self, other: Rect) -> list[Rect]:
        """What of this rectangle lies outside ``other``: at most four rectangles (above, below, left, right)."""
        cut = self.intersected(other)
        if cut.is_empty():
            return [self]
        parts = [
            Rect(self.x, self.y, self.w, cut.y - self.y),
            Rect(self.x, cut.bottom, self.w, self.bottom - cut.bottom),
            Rect(self.x, cut.y, cut.x - self.x, cut.h),
            Rect(cut.right, cut.y, self.right - cut.right, cut.h),
        ]
        return [part for part in parts if not part.is_empty()]

    @staticmethod
    def of_nonzero(values: Any) -> Rect:
        """The smallest rectangle holding every non-zero value of a 2-D array (empty for none)."""
        import numpy as np

        rows, cols = np.flatnonzero(values.any(axis=1)), np.flatnonzero(values.any(axis=0))
        if not len(rows):
            return EMPTY
        return Rect(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))

    @staticmethod
    def union(rects: Iterable[Rect]) -> Rect:
        """The bounding box of ``rects`` (empty for none)."""
        box = EMPTY
        for rect in rects:
            box = box.united(rect)
        return box

    def slices(self) -> tuple[slice, slice]:
        """Numpy index (rows, columns) for this rectangle."""
        return slice(self.y, self.bottom), slice(self.x, self.right)

    @staticmethod
    def bounding(x0: float, y0: float, x1: float, y1: float) -> Rect:
        """Smallest integer rectangle covering the real interval [x0, x1) x [y0, y1)."""
        ix0, iy0 = math.floor(x0), math.floor(y0)
        return Rect(ix0, iy0, math.ceil(x1) - ix0, math.ceil(y1) - iy0)


EMPTY = Rect(0, 0, 0, 0)
