"""Where the document's first canvas lies on today's canvas, so that a result made in a selection goes back
to the same part of the picture after the canvas was expanded, cropped or scaled."""

from __future__ import annotations

from typing import NamedTuple

from sketchdiffuse.document.rect import Rect


class Frame(NamedTuple):
    """A point (x, y) of the first canvas lies at (x * sx + tx, y * sy + ty) on the canvas now. Canvas size,
    expand and crop shift the frame; scaling the image scales it."""

    sx: float = 1.0
    sy: float = 1.0
    tx: float = 0.0
    ty: float = 0.0

    def shifted(self, dx: int, dy: int) -> Frame:
        return Frame(self.sx, self.sy, self.tx + dx, self.ty + dy)

    def scaled(self, kx: float, ky: float) -> Frame:
        return Frame(self.sx * kx, self.sy * ky, self.tx * kx, self.ty * ky)

    def carried(self, rect: Rect, to: Frame) -> Rect:
        """``rect`` on a canvas in this frame, where it lies on a canvas in frame ``to`` (whole pixels)."""
        if to == self:
            return rect
        kx, ky = to.sx / self.sx, to.sy / self.sy
        x0 = (rect.x - self.tx) * kx + to.tx
        y0 = (rect.y - self.ty) * ky + to.ty
        # The size from the scale alone: with no scaling it stays exactly the same (no needless resampling).
        return Rect(round(x0), round(y0), max(1, round(rect.w * kx)), max(1, round(rect.h * ky)))
