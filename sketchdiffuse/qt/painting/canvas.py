"""The painting surface: cached composite, zoom and pan, brush input from mouse and tablet.

Zoomed out to half size or less it shows the document's reduced view (document/reduced_view.py), where
changes of whole layers appear as quick previews; once input has paused, the document settles in
small steps between events, so the view becomes exact without freezing the window, and the caches
that make layer changes fast are freed after a longer pause."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import Enum

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPointingDevice,
    QRegion,
    QTabletEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from sketchdiffuse.brush import BrushSettings, StrokePainter, StrokePoint
from sketchdiffuse.document import canvas_commands as cc
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document import selection as sel
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.history import History
from sketchdiffuse.document.layer import Layer, blank_pixels
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.document.reduced_view import factor_for
from sketchdiffuse.io.pixels import unpremultiply
from sketchdiffuse.qt.convert import qimage_view
from sketchdiffuse.qt.drops import offers_images, read_drop
from sketchdiffuse.qt.painting.selection_tools import SelectionDrag, Shape, combine_for, draw_ants, outline_of
from sketchdiffuse.qt.painting.transform_tool import FreeTransform

MIN_ZOOM, MAX_ZOOM = 1 / 16, 32.0
SETTLE_AFTER_MS = 250  # quiet time after a change before the document settles (a drag pauses less)
SETTLE_PIXELS = 1 << 20  # composed per step: tens of milliseconds, so input is answered in between
RELEASE_AFTER_MS = 60_000  # idle time after which the layer caches are freed


class Tool(str, Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    PICKER = "picker"
    SELECT_RECT = "select-rect"
    SELECT_ELLIPSE = "select-ellipse"
    LASSO = "lasso"
    POLYGON_LASSO = "polygon-lasso"
    MOVE = "move"
    FILL = "fill"


SELECTION_SHAPES = {
    Tool.SELECT_RECT: Shape.RECTANGLE,
    Tool.SELECT_ELLIPSE: Shape.ELLIPSE,
    Tool.LASSO: Shape.LASSO,
    Tool.POLYGON_LASSO: Shape.POLYGON,
}
ANTS_MS = 150  # marching ants step


def _checkerboard(cell: int = 8) -> QPixmap:
    pixmap = QPixmap(cell * 2, cell * 2)
    pixmap.fill(QColor(204, 204, 204))
    p = QPainter(pixmap)
    p.fillRect(0, 0, cell, cell, QColor(255, 255, 255))
    p.fillRect(cell, cell, cell, cell, QColor(255, 255, 255))
    p.end()
    return pixmap


class CanvasView(QWidget):
    zoomChanged = Signal(float)
    cursorMoved = Signal(int, int)
    colorPicked = Signal(QColor)
    message = Signal(str)
    strokeFinished = Signal()
    filesDropped = Signal(list)  # local paths
    urlsDropped = Signal(list)  # web addresses of images
    imageDropped = Signal(bytes)  # encoded image data, e.g. dragged from a web browser
    referenceDropped = Signal(object)  # a drops.Drop made with Shift held: for the References area
    transformingChanged = Signal(bool)  # a free transform began (True) or ended

    def __init__(self, doc: Document, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setTabletTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.brush = BrushSettings()
        self.tool = Tool.BRUSH
        self.zoom = 1.0
        self.offset = QPointF(0, 0)  # widget position of the document's top-left corner
        self._checker = QBrush(_checkerboard())
        self._painter: StrokePainter | None = None
        self._stroke_start = 0.0
        self._pan_from: QPointF | None = None
        self._space = False
        self._cursor_pos: QPointF | None = None
        self._tablet_active = False
        self.overlay: QImage | None = None  # shown over the canvas, never part of the document
        self.overlay_area: Rect | None = None  # where on the canvas the overlay goes (None: all of it)
        self.doc = doc
        self.history = history
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.timeout.connect(self._settle_step)
        self._release_timer = QTimer(self)
        self._release_timer.setSingleShot(True)
        self._release_timer.setInterval(RELEASE_AFTER_MS)
        self._release_timer.timeout.connect(self._release)
        self._selecting: SelectionDrag | None = None
        self._moving: tuple[cc.PixelMove, QPointF] | None = None  # the move tool's drag and where it began
        self._transform: FreeTransform | None = None  # Ctrl+T in progress
        # Quick mask (Q): the brush paints the selection, shown as red over what is not selected.
        self._quick_tint: np.ndarray | None = None
        self._quick_scratch: Layer | None = None
        self._quick_erase = False
        self.fill_tolerance, self.fill_contiguous = 32, True
        self._ants: QPainterPath | None = None  # the selection's outline, document coordinates
        self._ants_phase = 0.0
        self._ants_step = 1
        self._ants_timer = QTimer(self)
        self._ants_timer.setInterval(ANTS_MS)
        self._ants_timer.timeout.connect(self._march)
        self.set_document(doc, history)

    # -- document ------------------------------------------------------------------------
    def set_document(self, doc: Document, history: History) -> None:
        self.end_interactions()  # a transform, move or polygon belongs to the document it began on
        self.doc.remove_listeners(self)  # also when the same document comes again: one callback, not two
        self.doc, self.history = doc, history
        doc.add_dirty_listener(self._on_dirty)
        doc.add_selection_listener(self._on_selection)
        self._on_selection()
        self._image = QImage()
        self._wrapped: np.ndarray | None = None  # the document's cache the QImage wraps
        self._settle_timer.start(SETTLE_AFTER_MS)  # zoomed out, the layers are reduced ahead when idle
        self.update()

    def _view_image(self, factor: int, shown: Rect) -> QImage:
        """The document's composite (``factor`` 1), current where ``shown``, or its reduced view, as a
        QImage sharing its memory (re-wrapped when the array is new)."""
        pixels = self.doc.composite_view(shown) if factor == 1 else self.doc.reduced_view(factor)
        if self._wrapped is None or pixels.base is not self._wrapped.base:
            self._wrapped = pixels
            self._image = qimage_view(pixels)
        return self._image

    def _on_dirty(self, rect: Rect) -> None:
        """Repaint the changed part; the document recomposes it when the paint reads the composite, so
        several changes between two frames cost one pass."""
        self.update(self._widget_rect(rect))
        self._release_timer.stop()
        self._settle_timer.start(SETTLE_AFTER_MS)

    def _quick_dab(self, rect: Rect) -> None:
        """A quick-mask stroke's dabs: the tint follows them."""
        if self._quick_tint is None or self._quick_scratch is None:
            return
        area = rect.intersected(self.doc.rect)
        mask = None if self.doc.selection is None else self.doc.selection[area.slices()]
        coverage = self._quick_scratch.pixels[area.slices()][..., 3]
        self._quick_tint[area.slices()] = sel.quick_mask_tint(mask, (area.h, area.w), coverage, self._quick_erase)
        self.update(self._widget_rect(area))

    @property
    def quick_mask(self) -> bool:
        return self._quick_tint is not None

    def set_quick_mask(self, on: bool) -> None:
        """Q: paint the selection with the brush (adds) and the eraser (takes away)."""
        self._quick_tint = sel.quick_mask_tint(self.doc.selection, (self.doc.height, self.doc.width)) if on else None
        self.update()

    def _on_selection(self) -> None:
        if self._quick_tint is not None:
            self.set_quick_mask(True)
        mask = self.doc.selection
        self._ants_step = factor_for(self.zoom)
        self._ants = None if mask is None else outline_of(mask, self._ants_step)
        if self._ants is None:
            self._ants_timer.stop()
        else:
            self._ants_timer.start()
        self.update()

    def _march(self) -> None:
        self._ants_phase = (self._ants_phase + 1.0) % 8.0
        if self._ants is not None:
            self.update(self._widget_rectf(_doc_rect(self._ants.boundingRect())).toAlignedRect().adjusted(-2, -2, 2, 2))

    def _settle_step(self) -> None:
        exact = self.doc.settled
        if not self.doc.settle(SETTLE_PIXELS, reduce_ahead=factor_for(self.zoom) > 1):
            self._settle_timer.start(0)  # the next step after pending events
            return
        if not exact:
            self.update()  # previews shown zoomed out are exact now
        self._release_timer.start()

    def _release(self) -> None:
        self.doc.release_caches()

    # -- geometry ------------------------------------------------------------------------
    def to_doc(self, pos: QPointF) -> QPointF:
        return (pos - self.offset) / self.zoom

    def to_widget(self, pos: QPointF) -> QPointF:
        return pos * self.zoom + self.offset

    def _widget_rect(self, rect: Rect) -> QRect:
        return self._widget_rectf(rect).toAlignedRect().adjusted(-2, -2, 2, 2)

    def _widget_rectf(self, rect: Rect) -> QRectF:
        return QRectF(self.to_widget(QPointF(rect.x, rect.y)), self.to_widget(QPointF(rect.right, rect.bottom)))

    def show_overlay(self, image: QImage | None, area: Rect | None = None) -> None:
        """Show ``image`` over the canvas (over ``area`` of it when given) without changing the document."""
        self.overlay, self.overlay_area = image, area
        self.update()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the document point under ``anchor`` (the widget centre by default) fixed."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        anchor = QPointF(self.width() / 2, self.height() / 2) if anchor is None else anchor
        doc_point = self.to_doc(anchor)
        self.zoom = zoom
        self.offset = anchor - doc_point * zoom
        self.zoomChanged.emit(zoom)
        self._zoom_changed()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / 1.25)

    def fit(self) -> None:
        margin = 24
        scale = min((self.width() - margin) / self.doc.width, (self.height() - margin) / self.doc.height)
        self.zoom = min(max(scale, MIN_ZOOM), MAX_ZOOM)
        self._center()

    def actual_size(self) -> None:
        self.zoom = 1.0
        self._center()

    def _center(self) -> None:
        self.offset = QPointF(
            (self.width() - self.doc.width * self.zoom) / 2, (self.height() - self.doc.height * self.zoom) / 2
        )
        self.zoomChanged.emit(self.zoom)
        self._zoom_changed()

    def _zoom_changed(self) -> None:
        self._settle_timer.start(SETTLE_AFTER_MS)
        if self.doc.selection is not None and factor_for(self.zoom) != self._ants_step:
            self._on_selection()  # the outline traced as finely as this zoom shows it
        self.update()

    def pan_by(self, delta: QPointF) -> None:
        self.offset += delta
        self.update()

    # -- painting the widget -------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        canvas = QRectF(self.offset, self.offset + QPointF(self.doc.width, self.doc.height) * self.zoom)
        inside = QRect(
            QPoint(math.ceil(canvas.left()), math.ceil(canvas.top())),
            QPoint(math.floor(canvas.right()) - 1, math.floor(canvas.bottom()) - 1),
        )
        p.setClipRegion(QRegion(event.rect()) - QRegion(inside))  # the canvas covers the rest
        p.fillRect(event.rect(), QColor(58, 58, 62))
        p.setClipping(False)
        exposed = canvas.intersected(QRectF(event.rect()))
        if not exposed.isEmpty():
            p.setBrushOrigin(self.offset)
            p.fillRect(exposed, self._checker)
            # Source pixels covering the exposed area, one pixel of slack for partial pixels.
            src = QRectF(self.to_doc(exposed.topLeft()), self.to_doc(exposed.bottomRight()))
            src = src.adjusted(-1, -1, 1, 1).intersected(QRectF(0, 0, self.doc.width, self.doc.height))
            src = QRectF(src.toAlignedRect())
            dst = QRectF(self.to_widget(src.topLeft()), self.to_widget(src.bottomRight()))
            factor = factor_for(self.zoom)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom * factor < 1.0)
            shown = src.toAlignedRect()
            image = self._view_image(factor, Rect(shown.x(), shown.y(), shown.width(), shown.height()))
            if not self.doc.settled and not self._settle_timer.isActive():
                self._settle_timer.start(SETTLE_AFTER_MS)  # what this paint previewed is made exact later
            p.drawImage(dst, image, QRectF(src.topLeft() / factor, src.size() / factor))
            if self.overlay is not None:
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                area = self.overlay_area
                p.drawImage(canvas if area is None else self._widget_rectf(area), self.overlay)
        if self._quick_tint is not None and self._quick_tint.shape[:2] == (self.doc.height, self.doc.width):
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 1.0)
            p.drawImage(canvas, qimage_view(self._quick_tint))
        if self._transform is not None:
            self._transform.paint(
                p, QTransform(self.zoom, 0, 0, self.zoom, self.offset.x(), self.offset.y()), self.zoom
            )
        else:
            self._draw_selection(p)
        self._draw_brush_outline(p)
        p.end()

    def _draw_selection(self, p: QPainter) -> None:
        ants = self._ants
        if ants is not None and self._moving is not None:
            ants = ants.translated(*self._moving[0].offset)
        paths = [ants] + ([self._selecting.outline()] if self._selecting is not None else [])
        if not any(path is not None for path in paths):
            return
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.translate(self.offset)
        p.scale(self.zoom, self.zoom)
        for path in paths:
            if path is not None:
                draw_ants(p, path, self._ants_phase)
        p.restore()

    def _draw_brush_outline(self, p: QPainter) -> None:
        if self._cursor_pos is None or self._pan_from is not None or self._space:
            return
        if self.tool not in (Tool.BRUSH, Tool.ERASER):
            self._draw_crosshair(p, self._cursor_pos)
            return
        radius = max(self.brush.size * self.zoom / 2, 1.5)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for colour, width in ((QColor(0, 0, 0, 160), 3.0), (QColor(255, 255, 255, 220), 1.0)):
            p.setPen(QPen(colour, width))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(self._cursor_pos, radius, radius)

    @staticmethod
    def _draw_crosshair(p: QPainter, at: QPointF) -> None:
        for colour, width in ((QColor(0, 0, 0, 160), 3.0), (QColor(255, 255, 255, 220), 1.0)):
            p.setPen(QPen(colour, width))
            p.drawLine(at + QPointF(-7, 0), at + QPointF(7, 0))
            p.drawLine(at + QPointF(0, -7), at + QPointF(0, 7))

    def _outline_rect(self, pos: QPointF | None) -> QRect:
        if pos is None:
            return QRect()
        r = max(self.brush.size * self.zoom / 2, 8) + 4
        return QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r).toAlignedRect()

    def _move_cursor(self, pos: QPointF) -> None:
        old = self._cursor_pos
        self._cursor_pos = pos
        self.update(self._outline_rect(old))
        self.update(self._outline_rect(pos))
        d = self.to_doc(pos)
        self.cursorMoved.emit(int(d.x() // 1), int(d.y() // 1))

    # -- strokes -------------------------------------------------------------------------
    def begin_stroke(self, pos: QPointF, pressure: float = 1.0, eraser: bool = False) -> None:
        settings = self.brush.with_(eraser=eraser or self.tool is Tool.ERASER)
        try:
            if self._quick_tint is not None:  # painting the selection: a scratch layer takes the stroke
                self._quick_scratch = Layer("quick mask", blank_pixels(self.doc.width, self.doc.height))
                stroke = settings.with_(eraser=False, color=(255, 255, 255))
                target = _QuickMaskTarget(self.doc.rect, self._quick_dab)  # the document hears nothing
                self._painter = StrokePainter(target, self._quick_scratch, stroke)  # type: ignore[arg-type]
                self._quick_erase = settings.eraser
            else:
                self._painter = StrokePainter(self.doc, self.doc.active_layer, settings)
        except DocumentError as exc:
            self.message.emit(str(exc))
            return
        self._stroke_start = time.perf_counter()
        self.continue_stroke(pos, pressure)

    def continue_stroke(self, pos: QPointF, pressure: float = 1.0) -> None:
        if self._painter is None:
            return
        d = self.to_doc(pos)
        self._painter.add_point(StrokePoint(d.x(), d.y(), pressure, time.perf_counter() - self._stroke_start))

    def end_stroke(self) -> None:
        if self._painter is None:
            return
        painter, self._painter = self._painter, None
        patch = painter.finish()
        if self._quick_scratch is not None:
            coverage, self._quick_scratch = self._quick_scratch.pixels[..., 3].copy(), None
            mask = sel.painted(self.doc.selection, coverage, self._quick_erase)
            if mask is not None or self.doc.selection is not None:  # no empty undo step
                self.history.push(cmd.select(self.doc, mask, "Quick mask stroke"))
            return
        self.history.push(patch)
        self.strokeFinished.emit()

    def pick_color(self, pos: QPointF) -> None:
        d = self.to_doc(pos)
        x, y = int(d.x() // 1), int(d.y() // 1)
        if 0 <= x < self.doc.width and 0 <= y < self.doc.height:
            r, g, b, a = (int(v) for v in unpremultiply(self.doc.composite(Rect(x, y, 1, 1)))[0, 0])
            if a > 0:
                self.colorPicked.emit(QColor(r, g, b))

    # -- input ---------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space
        ):
            self._pan_from = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() != Qt.MouseButton.LeftButton or self._tablet_active:
            return
        if self._transform is not None:
            self._transform.press(self.to_doc(pos), self.zoom)
            return
        if self.tool in SELECTION_SHAPES:
            self._press_selection(pos, event.modifiers())
            return
        if self.tool is Tool.MOVE:
            self._run_command(lambda: self._begin_move(pos))
            return
        if self.tool is Tool.FILL:
            d = self.to_doc(pos)
            self._push(
                lambda: cc.fill(
                    self.doc,
                    self.doc.active_index,
                    int(d.x() // 1),
                    int(d.y() // 1),
                    self.brush.color,
                    self.fill_tolerance,
                    self.fill_contiguous,
                )
            )
            return
        if self.tool is Tool.PICKER or event.modifiers() & Qt.KeyboardModifier.AltModifier:
            self.pick_color(pos)
            return
        self.begin_stroke(pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._pan_from is not None:
            self.pan_by(pos - self._pan_from)
            self._pan_from = pos
            return
        self._move_cursor(pos)
        if self._tablet_active:
            return
        if self._transform is not None:
            if event.buttons() & Qt.MouseButton.LeftButton:
                shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                self._transform.move(self.to_doc(pos), shift)
                self.update()
        elif self._selecting is not None:
            self._selecting.move(self.to_doc(pos))
            self.update()
        elif self._moving is not None:
            move, start = self._moving
            delta = self.to_doc(pos) - start
            move.to(round(delta.x()), round(delta.y()))
            self.update()  # the marching ants follow
        elif self._painter is not None:
            self.continue_stroke(pos)
        elif event.buttons() & Qt.MouseButton.LeftButton and (
            self.tool is Tool.PICKER or event.modifiers() & Qt.KeyboardModifier.AltModifier
        ):
            self.pick_color(pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.BlankCursor)
            return
        if event.button() == Qt.MouseButton.LeftButton and self._transform is not None:
            self._transform.release()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._moving is not None:
            self._finish_move()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._selecting is not None:
            if self._selecting.shape is not Shape.POLYGON:
                self.finish_selection()
            return
        if event.button() == Qt.MouseButton.LeftButton and not self._tablet_active:
            self.end_stroke()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._selecting is not None and self._selecting.shape is Shape.POLYGON:
            self.finish_selection()
            return
        super().mouseDoubleClickEvent(event)

    # -- selecting -----------------------------------------------------------------------
    def _press_selection(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        point = self.to_doc(pos)
        if self._selecting is not None and self._selecting.shape is Shape.POLYGON:
            self._selecting.add_corner(point)  # the polygonal lasso: one corner per click
        else:
            self._selecting = SelectionDrag(SELECTION_SHAPES[self.tool], point, combine_for(modifiers))
        self.update()

    def finish_selection(self) -> None:
        """Combine the shape drawn with the selection, as one undoable step (a bare click selects nothing)."""
        drag, self._selecting = self._selecting, None
        self.update()
        if drag is None:
            return
        if drag.is_click():
            if drag.how is sel.Combine.REPLACE and self.doc.selection is not None:
                self.history.push(cmd.select(self.doc, None, "Deselect"))
            return
        shape = drag.mask(self.doc.width, self.doc.height)
        combined = sel.combine(self.doc.selection, shape, drag.how)
        self.history.push(cmd.select(self.doc, combined, f"{drag.shape.value.capitalize()} selection"))

    # -- moving and filling -------------------------------------------------------------
    def _begin_move(self, pos: QPointF) -> None:
        self._moving = (cc.PixelMove(self.doc, self.doc.active_index), self.to_doc(pos))

    def _finish_move(self) -> None:
        move, _ = self._moving  # type: ignore[misc]
        self._moving = None
        done = move.finish()
        if done is not None:
            self._push_move(move.layer.name, *done)
        self.update()

    def _push_move(self, name: str, patch: cmd.PixelPatches, selection: np.ndarray | None, verb: str = "Move") -> None:
        """The pixels and the selection moved (or transformed) together: one undo step."""
        self.history.begin_macro(f"{verb} '{name}'")
        try:
            self.history.push(patch)
            if self.doc.selection is not None:
                self.history.push(cmd.select(self.doc, selection, f"{verb} selection"))
        finally:
            self.history.end_macro()

    def nudge(self, dx: int, dy: int) -> None:
        """Move the active layer (or the selection's contents) by a few pixels: the arrow keys."""

        def run() -> None:
            move = cc.PixelMove(self.doc, self.doc.active_index)
            move.to(dx, dy)
            done = move.finish()
            if done is not None:
                self._push_move(move.layer.name, *done)

        self._run_command(run)

    # -- free transform ---------------------------------------------------------------------
    @property
    def transforming(self) -> bool:
        return self._transform is not None

    def begin_transform(self) -> None:
        """Ctrl+T: handles around the selection's contents (the active layer without a selection)."""
        if self._transform is not None or self._painter is not None or self._moving is not None:
            return  # one thing at a time: a stroke or a move in progress finishes first
        layer = self.doc.active_layer
        if layer.locked:
            self.message.emit(f"Layer '{layer.name}' is locked; unlock it to transform it.")
            return
        box = cc.transformed_box(self.doc, layer)
        if box.is_empty():
            self.message.emit(f"Layer '{layer.name}' is empty: there is nothing to transform.")
            return
        self._transform = FreeTransform(self.doc, self.doc.active_index, box)
        self.transformingChanged.emit(True)
        self.setFocus()
        self.update()

    def apply_transform(self) -> None:
        transform, self._transform = self._transform, None
        if transform is None:
            return
        self.transformingChanged.emit(False)
        done = transform.apply()
        if done is not None:
            patch, selection = done
            self._push_move(transform.layer.name, patch, selection, verb="Transform")
        self.update()

    def cancel_transform(self) -> None:
        transform, self._transform = self._transform, None
        if transform is not None:
            transform.cancel()
            self.transformingChanged.emit(False)
        self.update()

    def _push(self, make: Callable[[], cmd.Command]) -> None:
        self._run_command(lambda: self.history.push(make()))

    def _run_command(self, run: Callable[[], object]) -> None:
        try:
            run()
        except DocumentError as exc:
            self.message.emit(str(exc))

    def end_interactions(self) -> None:
        """End what is half done on the canvas: a stroke and a move (finished as they stand), a transform
        (its pixels put back), a selection being drawn."""
        if getattr(self, "_painter", None) is not None:
            self.end_stroke()
        if getattr(self, "_transform", None) is not None:
            self.cancel_transform()
        if getattr(self, "_moving", None) is not None:
            self._finish_move()
        if getattr(self, "_selecting", None) is not None:
            self.cancel_selection()

    def cancel_selection(self) -> None:
        self._selecting = None
        self.update()

    def tabletEvent(self, event: QTabletEvent) -> None:
        if self.tool not in (Tool.BRUSH, Tool.ERASER, Tool.PICKER) or self._transform is not None:
            # Selections, moves, fills and transforms need no pressure: the pen's synthesized mouse events
            # drive them.
            if event.type() == QTabletEvent.Type.TabletRelease:
                self._tablet_active = False
            event.ignore()
            return
        pos = event.position()
        kind = event.type()
        eraser = event.pointerType() == QPointingDevice.PointerType.Eraser
        if kind == QTabletEvent.Type.TabletPress:
            self._tablet_active = True
            if self.tool is Tool.PICKER:
                self.pick_color(pos)
            else:
                self.begin_stroke(pos, event.pressure(), eraser=eraser)
        elif kind == QTabletEvent.Type.TabletMove:
            self._move_cursor(pos)
            if self._painter is not None:
                self.continue_stroke(pos, event.pressure())
        elif kind == QTabletEvent.Type.TabletRelease:
            self.end_stroke()
            self._tablet_active = False
        event.accept()  # no synthesized mouse events for the same motion

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self.zoom * 1.25 ** (delta.y() / 120), event.position())
        else:
            self.pan_by(QPointF(event.pixelDelta() if not event.pixelDelta().isNull() else delta / 2))

    def event(self, event: QEvent) -> bool:
        # Enter and Esc end a transform or a polygon here, before the window's shortcuts see them.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            ending = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
            if ending and (self._transform is not None or self._selecting is not None):
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter ends and Esc cancels an open transform (which takes no other key) or a polygon.
        enter, escape = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter), event.key() == Qt.Key.Key_Escape
        if self._transform is not None:
            if enter or escape:
                (self.apply_transform if enter else self.cancel_transform)()
            return
        if self._selecting is not None and (enter or escape):
            (self.finish_selection if enter else self.cancel_selection)()
            return
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        if self.tool is Tool.MOVE and event.key() in arrows:
            step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            dx, dy = arrows[Qt.Key(event.key())]
            self.nudge(dx * step, dy * step)
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            self.update(self._outline_rect(self._cursor_pos))
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan_from = None
            self.setCursor(Qt.CursorShape.BlankCursor)
            return
        super().keyReleaseEvent(event)

    def leaveEvent(self, event: object) -> None:
        self.update(self._outline_rect(self._cursor_pos))
        self._cursor_pos = None

    def enterEvent(self, event: object) -> None:
        self._cursor_pos = QPointF(self.mapFromGlobal(QCursor.pos()))

    def showEvent(self, event: object) -> None:
        if not getattr(self, "_fitted", False):
            self._fitted = True
            self.fit()

    # -- drops ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if offers_images(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        drop = read_drop(event.mimeData())
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and (drop.files or drop.image is not None):
            self.referenceDropped.emit(drop)  # Shift: the picture steers the look instead of becoming a layer
        elif drop.files:
            self.filesDropped.emit(drop.files)
        elif drop.image is not None:
            self.imageDropped.emit(drop.image)
        elif drop.urls:
            self.urlsDropped.emit(drop.urls)
        event.acceptProposedAction()


def _doc_rect(box: QRectF) -> Rect:
    return Rect.bounding(box.left(), box.top(), box.right(), box.bottom())


class _QuickMaskTarget:
    """What a quick-mask stroke paints against instead of the document: its size, no selection to clip to,
    and dab reports that only redraw the tint."""

    def __init__(self, rect: Rect, on_dab: Callable[[Rect], None]) -> None:
        self.rect, self.selection, self._on_dab = rect, None, on_dab

    def notify_dirty(self, rect: Rect, layer: object = None, pixels: bool = True) -> None:
        self._on_dab(rect)
