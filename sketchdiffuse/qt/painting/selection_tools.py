"""Selection tools on the canvas: a drag draws a rectangle, an ellipse or a freehand lasso; clicks with the
polygonal lasso place corners (a double click or Enter closes it). Shift adds to the selection, Alt
subtracts, both intersect. The selection's outline is drawn as marching ants."""

from __future__ import annotations

from enum import Enum

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBitmap, QImage, QPainter, QPainterPath, QPen, QPolygonF, QRegion, QTransform

from sketchdiffuse.document import selection as sel


class Shape(str, Enum):
    RECTANGLE = "rectangle"
    ELLIPSE = "ellipse"
    LASSO = "lasso"  # freehand: the path the pointer drew
    POLYGON = "polygon"  # corners placed by clicks


def combine_for(modifiers: Qt.KeyboardModifier) -> sel.Combine:
    shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
    alt = bool(modifiers & Qt.KeyboardModifier.AltModifier)
    if shift and alt:
        return sel.Combine.INTERSECT
    if shift:
        return sel.Combine.ADD
    if alt:
        return sel.Combine.SUBTRACT
    return sel.Combine.REPLACE


class SelectionDrag:
    """One shape being drawn, in document coordinates."""

    def __init__(self, shape: Shape, start: QPointF, how: sel.Combine) -> None:
        self.shape, self.how = shape, how
        self.points = [start]
        self.hover: QPointF | None = None  # the polygon's next corner, following the pointer

    def move(self, point: QPointF) -> None:
        if self.shape is Shape.POLYGON:
            self.hover = point
        elif self.shape is Shape.LASSO:
            self.points.append(point)
        else:
            self.points[1:] = [point]

    def add_corner(self, point: QPointF) -> None:
        self.points.append(point)

    def is_click(self) -> bool:
        """A press and release without a shape: the selection tools' way to select nothing."""
        if self.shape is Shape.POLYGON:
            return False
        if len(self.points) < 2:
            return True
        box = QPolygonF(self.points).boundingRect()
        return box.width() < 1 and box.height() < 1

    def outline(self) -> QPainterPath:
        path = QPainterPath()
        if self.shape in (Shape.RECTANGLE, Shape.ELLIPSE) and len(self.points) == 2:
            box = QRectF(self.points[0], self.points[1]).normalized()
            if self.shape is Shape.RECTANGLE:
                path.addRect(box)
            else:
                path.addEllipse(box)
        else:
            corners = self.points + ([self.hover] if self.hover is not None else [])
            path.addPolygon(QPolygonF(corners))
            path.closeSubpath()
        return path

    def mask(self, width: int, height: int) -> np.ndarray:
        if self.shape in (Shape.RECTANGLE, Shape.ELLIPSE):
            (x0, y0), (x1, y1) = self.points[0].toTuple(), self.points[-1].toTuple()
            draw = sel.rectangle if self.shape is Shape.RECTANGLE else sel.ellipse
            return draw(width, height, x0, y0, x1, y1)
        return sel.polygon(width, height, [p.toTuple() for p in self.points])


def outline_of(mask: np.ndarray, step: int = 1) -> QPainterPath:
    """The outline of the pixels at least half selected, in document coordinates, traced on every
    ``step``-th pixel: zoomed out, a coarser outline looks the same and draws in a fraction of the time."""
    if step > 1:
        path = outline_of(np.ascontiguousarray(mask[::step, ::step]))
        return QTransform.fromScale(step, step).map(path)
    h, w = mask.shape
    dark = np.ascontiguousarray(np.where(mask >= 128, 0, 255).astype(np.uint8))  # black bits are the region
    image = QImage(dark.data, w, h, w, QImage.Format.Format_Grayscale8)
    region = QRegion(QBitmap.fromImage(image, Qt.ImageConversionFlag.MonoOnly | Qt.ImageConversionFlag.ThresholdDither))
    path = QPainterPath()
    path.addRegion(region)
    return path.simplified()


def draw_ants(p: QPainter, path: QPainterPath, phase: float) -> None:
    """Black dashes marching over white along ``path`` (a transform set on ``p``), one pixel wide at any zoom."""
    for colour, dashes in ((Qt.GlobalColor.white, None), (Qt.GlobalColor.black, [4.0, 4.0])):
        pen = QPen(colour)
        pen.setCosmetic(True)
        pen.setWidthF(1.0)
        if dashes is not None:
            pen.setDashPattern(dashes)
            pen.setDashOffset(phase)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
