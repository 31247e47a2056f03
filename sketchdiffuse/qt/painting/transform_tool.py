"""Free transform on the canvas (Ctrl+T): the selection's contents (the active layer without one) are
lifted and drawn where the handles put them. Corner handles scale (Shift keeps the aspect), edge
handles scale one way, dragging inside moves, dragging outside rotates (Shift: in 15 degree steps).
Enter applies (resampled by Pillow, one undo step with the selection transformed along); Esc puts
everything back. During the drag only a QImage is redrawn with a transform: nothing is resampled."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF, QTransform

from sketchdiffuse.document import canvas_commands as cc
from sketchdiffuse.document.commands import PixelPatches
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.document.reduced_view import factor_for, reduce_pixels
from sketchdiffuse.qt.convert import to_qimage

HANDLE = 6.0  # half the size of a handle, in screen pixels
# Handle positions on the box, as fractions of its width and height.
HANDLES = [(0, 0), (0.5, 0), (1, 0), (1, 0.5), (1, 1), (0.5, 1), (0, 1), (0, 0.5)]


class FreeTransform:
    def __init__(self, doc: Document, index: int, box: Rect) -> None:
        """``box``: what turns (canvas_commands.transformed_box), not empty."""
        self.doc, self.index = doc, index
        self.layer = doc.layers[index]
        self.box = box
        self.original = self.layer.pixels[self.box.slices()].copy()
        self.lifted = cc.lifted(self.layer.pixels, doc.selection, self.box)
        self._images: dict[int, QImage] = {}  # the lifted pixels reduced by a power of two, per factor
        # While transforming, the layer shows what stays; the lifted part is drawn over the canvas.
        self.layer.pixels[self.box.slices()] = self.original - self.lifted
        doc.notify_dirty(self.box, self.layer)
        self.placement = cc.Placement()
        self._drag: tuple[str, QPointF, cc.Placement] | None = None

    # -- geometry (document coordinates) --------------------------------------------------
    def transform(self) -> QTransform:
        m = self.placement.matrix(self.box)
        return QTransform(m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])

    def handle_points(self) -> list[QPointF]:
        t = self.transform()
        return [t.map(QPointF(self.box.x + fx * self.box.w, self.box.y + fy * self.box.h)) for fx, fy in HANDLES]

    def hit(self, point: QPointF, zoom: float) -> str:
        """ "handle<i>", "move" or "rotate" for a press at ``point``."""
        reach = HANDLE / zoom * 1.5
        for i, p in enumerate(self.handle_points()):
            if abs(p.x() - point.x()) <= reach and abs(p.y() - point.y()) <= reach:
                return f"handle{i}"
        outline = QPolygonF(self.handle_points()[::2])
        return "move" if outline.containsPoint(point, Qt.FillRule.OddEvenFill) else "rotate"

    # -- dragging -------------------------------------------------------------------------
    def press(self, point: QPointF, zoom: float) -> None:
        self._drag = (self.hit(point, zoom), point, self.placement)

    def move(self, point: QPointF, keep_aspect: bool) -> None:
        if self._drag is None:
            return
        what, start, was = self._drag
        centre = QPointF(self.box.x + self.box.w / 2 + was.dx, self.box.y + self.box.h / 2 + was.dy)
        if what == "move":
            delta = point - start
            self.placement = replace(was, dx=was.dx + delta.x(), dy=was.dy + delta.y())
        elif what == "rotate":
            turn = math.degrees(
                math.atan2(point.y() - centre.y(), point.x() - centre.x())
                - math.atan2(start.y() - centre.y(), start.x() - centre.x())
            )
            angle = was.angle + turn
            self.placement = replace(was, angle=round(angle / 15) * 15 if keep_aspect else angle)
        else:
            self.placement = self._scaled(int(what.removeprefix("handle")), point, was, keep_aspect)

    def _scaled(self, handle: int, point: QPointF, was: cc.Placement, keep_aspect: bool) -> cc.Placement:
        """Scale about the centre so the dragged handle follows the pointer (in the box's own axes)."""
        fx, fy = HANDLES[handle]
        centre = QPointF(self.box.x + self.box.w / 2 + was.dx, self.box.y + self.box.h / 2 + was.dy)
        rad = math.radians(was.angle)
        vx, vy = point.x() - centre.x(), point.y() - centre.y()
        local_x = vx * math.cos(rad) + vy * math.sin(rad)  # the pointer in the unrotated box's axes
        local_y = -vx * math.sin(rad) + vy * math.cos(rad)
        sx, sy = was.sx, was.sy
        if fx != 0.5:
            sx = local_x / ((fx - 0.5) * self.box.w) if self.box.w else sx
        if fy != 0.5:
            sy = local_y / ((fy - 0.5) * self.box.h) if self.box.h else sy
        if keep_aspect and fx != 0.5 and fy != 0.5:
            size = max(abs(sx), abs(sy))
            sx, sy = math.copysign(size, sx), math.copysign(size, sy)
        return replace(was, sx=sx if abs(sx) > 1e-3 else 1e-3, sy=sy if abs(sy) > 1e-3 else 1e-3)

    def release(self) -> None:
        self._drag = None

    # -- drawing and ending ---------------------------------------------------------------
    def image(self, factor: int) -> QImage:
        """The lifted pixels reduced by ``factor``: zoomed out, a smaller picture draws the same, faster."""
        if factor not in self._images:
            pixels = self.lifted if factor == 1 else reduce_pixels(self.lifted, factor)
            self._images[factor] = to_qimage(pixels)
        return self._images[factor]

    def paint(self, p: QPainter, to_widget: QTransform, zoom: float) -> None:
        factor = factor_for(zoom)
        p.save()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.setTransform(
            QTransform.fromScale(factor, factor)
            * QTransform.fromTranslate(self.box.x, self.box.y)
            * self.transform()
            * to_widget
        )
        p.drawImage(QPointF(0, 0), self.image(factor))
        p.resetTransform()
        outline = QPolygonF([to_widget.map(point) for point in self.handle_points()[::2]])
        p.setPen(QPen(QColor(255, 255, 255), 1.0, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPolygon(outline)
        p.setPen(QPen(QColor(20, 20, 20), 1.0))
        p.setBrush(QColor(255, 255, 255))
        for point in self.handle_points():
            at = to_widget.map(point)
            p.drawRect(QRectF(at.x() - HANDLE / 2, at.y() - HANDLE / 2, HANDLE, HANDLE))
        p.restore()

    def _restore(self) -> None:
        self.layer.pixels[self.box.slices()] = self.original
        self.doc.notify_dirty(self.box, self.layer)

    def cancel(self) -> None:
        self._restore()

    def apply(self) -> tuple[PixelPatches, np.ndarray | None] | None:
        """The layer as it was, and the transform as a command with the selection it leaves (None when the
        placement is the identity)."""
        self._restore()
        if self.placement == cc.Placement():
            return None
        return cc.transform_pixels(self.doc, self.index, self.placement)

    def covers(self) -> Rect:
        return self.placement.covers(self.box, self.doc.rect).united(self.box)
