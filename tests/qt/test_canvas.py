"""Painting with the mouse and a tablet, zoom and pan, through real Qt events."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPointingDevice, QTabletEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from sketchdiffuse.brush import StrokePoint, replay_stroke
from sketchdiffuse.document.document import Document
from sketchdiffuse.qt.main_window import MainWindow

PATH = [(20, 30), (60, 34), (110, 70), (150, 120)]


def drag(qtbot, widget, points, modifier=Qt.KeyboardModifier.NoModifier):  # type: ignore[no-untyped-def]
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, modifier, QPoint(*points[0]))
    for p in points[1:]:
        qtbot.mouseMove(widget, QPoint(*p))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, QPoint(*points[-1]))


def test_a_mouse_stroke_paints_exactly_the_expected_pixels_and_undoes(qtbot, window: MainWindow):
    canvas = window.canvas
    layer = window.doc.active_layer
    before = layer.pixels.copy()
    drag(qtbot, canvas, PATH)
    # The same input replayed by the headless brush engine gives the same pixels.
    expected_doc = Document(200, 150)
    replay_stroke(expected_doc, expected_doc.active_layer, [StrokePoint(x, y, 1.0) for x, y in PATH], canvas.brush)
    assert np.array_equal(layer.pixels, expected_doc.active_layer.pixels)
    assert layer.pixels[..., 3].any() and not window.doc.layers[0].pixels.any()  # only the active layer
    assert window.isWindowModified()
    assert len(window.history) == 1  # the whole stroke is one command
    window.actions_by_name["undo"].trigger()
    assert np.array_equal(layer.pixels, before)
    assert not window.isWindowModified()
    window.actions_by_name["redo"].trigger()
    assert np.array_equal(layer.pixels, expected_doc.active_layer.pixels)


def test_the_view_shows_what_was_painted(qtbot, window: MainWindow):
    drag(qtbot, window.canvas, PATH)
    image = window.canvas.grab().toImage()
    x, y = PATH[1]
    assert image.pixelColor(x, y).black() > 200  # black ink under the stroke
    assert image.pixelColor(190, 10).lightness() > 150  # checkerboard where nothing is painted


def test_alt_click_picks_a_colour(qtbot, window: MainWindow):
    window.doc.layers[0].pixels[:] = (10, 200, 30, 255)
    window.doc.notify_dirty(window.doc.rect)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, QPoint(50, 50))
    assert window.tools.brush.color == (10, 200, 30)
    assert not window.doc.active_layer.pixels.any()  # picking does not paint


def test_locked_layers_are_not_painted_and_say_why(qtbot, window: MainWindow):
    window.doc.active_layer.locked = True
    drag(qtbot, window.canvas, PATH)
    assert not window.doc.active_layer.pixels.any()
    assert "locked" in window.statusBar().currentMessage()


def _tablet(kind: QTabletEvent.Type, pos: QPointF, pressure: float, device: QPointingDevice) -> QTabletEvent:
    buttons = Qt.MouseButton.LeftButton if kind != QTabletEvent.Type.TabletRelease else Qt.MouseButton.NoButton
    return QTabletEvent(
        kind,
        device,
        pos,
        pos,
        pressure,
        0,
        0,
        0,
        0,
        0,
        Qt.KeyboardModifier.NoModifier,
        Qt.MouseButton.LeftButton,
        buttons,
    )


def _stylus(pointer: QPointingDevice.PointerType) -> QPointingDevice:
    return QPointingDevice(
        "test stylus",
        1,
        QPointingDevice.DeviceType.Stylus,
        pointer,
        QPointingDevice.Capability.Position | QPointingDevice.Capability.Pressure,
        1,
        2,
    )


def test_tablet_pressure_sets_size_and_the_eraser_end_erases(window: MainWindow):
    canvas = window.canvas
    canvas.brush = canvas.brush.with_(size=30.0, hardness=1.0)
    pen = _stylus(QPointingDevice.PointerType.Pen)
    for kind, x, p in (
        (QTabletEvent.Type.TabletPress, 20, 0.1),
        (QTabletEvent.Type.TabletMove, 100, 0.55),
        (QTabletEvent.Type.TabletMove, 180, 1.0),
        (QTabletEvent.Type.TabletRelease, 180, 1.0),
    ):
        QApplication.sendEvent(canvas, _tablet(kind, QPointF(x, 75), p, pen))
    alpha = window.doc.active_layer.pixels[..., 3]
    thin, thick = int((alpha[:, 25] > 0).sum()), int((alpha[:, 175] > 0).sum())
    assert 0 < thin < thick and thick >= 28
    assert len(window.history) == 1
    eraser = _stylus(QPointingDevice.PointerType.Eraser)
    for kind in (QTabletEvent.Type.TabletPress, QTabletEvent.Type.TabletRelease):
        QApplication.sendEvent(canvas, _tablet(kind, QPointF(175, 75), 1.0, eraser))
    assert window.doc.active_layer.pixels[75, 175, 3] == 0
    assert canvas.tool.value == "brush"  # the eraser end changed only that stroke


def test_zoom_keeps_the_point_under_the_cursor_fixed(qtbot, window: MainWindow):
    canvas = window.canvas
    anchor = QPointF(123, 77)
    before = canvas.to_doc(anchor)
    for zoom in (2.0, 7.3, 0.25, 1 / 16, 32.0):
        canvas.set_zoom(zoom, anchor)
        after = canvas.to_doc(anchor)
        assert abs(after.x() - before.x()) < 1e-9 and abs(after.y() - before.y()) < 1e-9
    canvas.set_zoom(1000, anchor)
    assert canvas.zoom == 32.0
    canvas.set_zoom(0.0001, anchor)
    assert canvas.zoom == 1 / 16
    # Ctrl + wheel zooms at the cursor too.
    canvas.set_zoom(1.0, anchor)
    pos = QPointF(60, 40)
    point = canvas.to_doc(pos)
    wheel = QWheelEvent(
        pos,
        canvas.mapToGlobal(pos),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, wheel)
    assert canvas.zoom == 1.25
    assert abs(canvas.to_doc(pos).x() - point.x()) < 1e-9


def test_middle_drag_and_space_drag_pan(qtbot, window: MainWindow):
    canvas = window.canvas
    start = QPointF(canvas.offset)
    qtbot.mousePress(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(50, 50))
    qtbot.mouseMove(canvas, QPoint(80, 70))
    qtbot.mouseRelease(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(80, 70))
    assert canvas.offset - start == QPointF(30, 20)
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    drag(qtbot, canvas, [(10, 10), (20, 15)])
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.offset - start == QPointF(40, 25)
    assert not window.doc.active_layer.pixels.any()  # panning never paints


def test_brush_size_keys_and_tool_shortcuts(qtbot, window: MainWindow):
    size = window.tools.brush.size
    window.actions_by_name["size_up"].trigger()
    assert window.canvas.brush.size > size
    window.tools.tool_actions[window.canvas.tool.__class__("eraser")].trigger()
    assert window.canvas.tool.value == "eraser"


def test_attaching_the_same_document_again_keeps_one_listener_each(window: MainWindow):
    window.set_document(window.doc, None)
    window.set_document(window.doc, None)
    dirty = window.doc._dirty_listeners
    assert sum(1 for cb in dirty if getattr(cb, "__self__", None) is window.canvas) == 1
    assert sum(1 for cb in dirty if getattr(cb, "__self__", None) is window.layers.model) == 1
