"""Selection tools driven by real mouse events: shapes, Shift/Alt combining, lassos, the Select menu,
Delete, painting inside the selection, marching ants, and generating in the selection."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from sketchdiffuse.document import selection as sel
from sketchdiffuse.document.compose import composite
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.painting.canvas import Tool
from tests.qt.test_canvas import drag

NO = Qt.KeyboardModifier.NoModifier


def use(window: MainWindow, tool: Tool) -> None:
    window.tools.tool_actions[tool].trigger()
    assert window.canvas.tool is tool


def test_a_rectangle_drag_selects_and_undo_deselects(qtbot, window: MainWindow):
    use(window, Tool.SELECT_RECT)
    drag(qtbot, window.canvas, [(20, 30), (60, 50), (100, 90)])
    assert np.array_equal(window.doc.selection, sel.rectangle(200, 150, 20, 30, 100, 90))
    assert window.canvas._ants is not None  # marching ants follow the selection
    window.actions_by_name["undo"].trigger()
    assert window.doc.selection is None and window.canvas._ants is None


def test_shift_adds_alt_subtracts_and_a_bare_click_deselects(qtbot, window: MainWindow):
    use(window, Tool.SELECT_RECT)
    drag(qtbot, window.canvas, [(10, 10), (60, 60)])
    use(window, Tool.SELECT_ELLIPSE)
    drag(qtbot, window.canvas, [(100, 10), (160, 70)], Qt.KeyboardModifier.ShiftModifier)
    mask = window.doc.selection
    assert mask is not None and mask[30, 30] == 255 and mask[40, 130] == 255 and mask[30, 80] == 0
    use(window, Tool.SELECT_RECT)
    drag(qtbot, window.canvas, [(1, 1), (40, 149)], Qt.KeyboardModifier.AltModifier)  # (0, 0) means the centre
    mask = window.doc.selection
    assert mask is not None and mask[30, 30] == 0 and mask[30, 50] == 255
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, NO, QPoint(150, 120))
    assert window.doc.selection is None
    assert len(window.history) == 4  # every change is one undo step


def test_the_freehand_and_polygonal_lassos(qtbot, window: MainWindow):
    use(window, Tool.LASSO)
    drag(qtbot, window.canvas, [(20, 20), (120, 20), (120, 100), (20, 100), (20, 21)])
    mask = window.doc.selection
    assert mask is not None and mask[60, 70] == 255 and mask[110, 70] == 0
    use(window, Tool.POLYGON_LASSO)
    canvas = window.canvas
    for x, y in ((130, 10), (190, 10), (190, 140)):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(x, y))
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    mask = window.doc.selection
    assert mask is not None and mask[60, 70] == 255 and mask[30, 180] == 255 and mask[130, 140] == 0


def test_the_select_menu(window: MainWindow):
    a = window.actions_by_name
    assert a["select_all"].shortcut().toString() == "Ctrl+A" and a["invert"].shortcut().toString() == "Ctrl+I"
    a["select_all"].trigger()
    assert window.doc.selection is not None and window.doc.selection.min() == 255
    a["invert"].trigger()
    assert window.doc.selection is None
    window.doc.active_layer.pixels[40:60, 40:80] = (0, 0, 200, 255)
    a["select_alpha"].trigger()
    assert sel.bounds(window.doc.selection) == sel.Rect(40, 40, 40, 20)
    window.prompter.answers["number"] = 4.0
    a["grow"].trigger()
    assert sel.bounds(window.doc.selection) == sel.Rect(36, 36, 48, 28)
    a["feather"].trigger()
    assert 0 < window.doc.selection[50, 34] < 255
    a["deselect"].trigger()
    assert window.doc.selection is None


def test_painting_and_delete_stay_inside_the_selection(qtbot, window: MainWindow):
    doc = window.doc
    use(window, Tool.SELECT_RECT)
    drag(qtbot, window.canvas, [(50, 0), (100, 150)])
    use(window, Tool.BRUSH)
    drag(qtbot, window.canvas, [(10, 75), (190, 75)])
    ink = doc.active_layer.pixels
    assert ink[75, 75, 3] > 0 and ink[75, 20, 3] == 0 and ink[75, 150, 3] == 0
    doc.layers[0].pixels[:] = (10, 200, 10, 255)
    doc.notify_dirty(doc.rect, doc.layers[0])
    window.layers.view.setCurrentIndex(window.layers.model.index(1))  # the background
    window.actions_by_name["clear"].trigger()
    assert doc.layers[0].pixels[10, 75, 3] == 0 and doc.layers[0].pixels[10, 20, 3] == 255


def test_marching_ants_are_drawn_on_the_selection_edge(qtbot, window: MainWindow):
    use(window, Tool.SELECT_RECT)
    drag(qtbot, window.canvas, [(40, 40), (120, 100)])
    image = window.canvas.grab().toImage()
    edge = [image.pixelColor(x, 40).lightness() for x in range(45, 115)]
    assert min(edge) < 60 and max(edge) > 200  # black dashes on white along the top edge
    inside = image.pixelColor(80, 70)
    assert inside.lightness() > 200  # the canvas itself shows through


def test_generate_in_the_selection_changes_only_it(qtbot, gen_window: MainWindow):
    from tests.qt.test_generate import generate

    window = gen_window
    ui = window.generation
    ui.panel.set_values({"strength": 1.0})
    window.doc.layers[0].pixels[:] = 255
    window.doc.notify_dirty(window.doc.rect, window.doc.layers[0])
    use(window, Tool.SELECT_ELLIPSE)
    drag(qtbot, window.canvas, [(60, 30), (140, 110)])
    before = window.doc.composite()
    result = generate(qtbot, window)
    assert result.request.region is not None and result.request.mask is not None
    ui.apply(ui.strip.entries[0])
    after = composite(window.doc.layers, window.doc.rect)
    outside = window.doc.selection == 0
    assert np.array_equal(after[outside], before[outside])
    assert (after[70, 100] != before[70, 100]).any()


def test_the_move_tool_drags_the_selection_contents_and_arrows_nudge(qtbot, window: MainWindow):
    doc = window.doc
    doc.active_layer.pixels[40:60, 40:60] = (0, 0, 200, 255)
    doc.notify_dirty(doc.rect, doc.active_layer)
    use(window, Tool.SELECT_RECT)
    drag(qtbot, window.canvas, [(40, 40), (60, 60)])
    use(window, Tool.MOVE)
    drag(qtbot, window.canvas, [(50, 50), (70, 55), (80, 70)])
    ink = doc.active_layer.pixels
    assert tuple(ink[65, 75]) == (0, 0, 200, 255) and ink[45, 45, 3] == 0
    assert sel.bounds(doc.selection) == sel.Rect(70, 60, 20, 20)  # the selection went along
    qtbot.keyClick(window.canvas, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert tuple(ink[65, 89]) == (0, 0, 200, 255)
    window.actions_by_name["undo"].trigger()
    window.actions_by_name["undo"].trigger()
    assert tuple(ink[45, 45]) == (0, 0, 200, 255) and sel.bounds(doc.selection) == sel.Rect(40, 40, 20, 20)


def test_fill_and_copy_paste_in_place(qtbot, window: MainWindow):
    doc = window.doc
    doc.layers[0].pixels[:] = 255
    doc.notify_dirty(doc.rect, doc.layers[0])
    window.tools.set_color(QColor(0, 120, 0))
    use(window, Tool.FILL)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, NO, QPoint(10, 10))
    assert tuple(doc.active_layer.pixels[100, 150]) == (0, 120, 0, 255)  # the white all around
    use(window, Tool.SELECT_RECT)
    drag(qtbot, window.canvas, [(20, 20), (50, 40)])
    window.actions_by_name["cut"].trigger()
    assert doc.active_layer.pixels[30, 30, 3] == 0
    window.actions_by_name["paste"].trigger()
    assert doc.active_layer.name == "Pasted" and len(doc.layers) == 3
    assert tuple(doc.active_layer.pixels[30, 30]) == (0, 120, 0, 255) and doc.active_layer.pixels[10, 10, 3] == 0


def test_expand_canvas_then_generate_fills_the_new_area(qtbot, gen_window: MainWindow):
    from tests.qt.test_generate import generate

    window = gen_window
    window.generation.panel.set_values({"strength": 1.0})
    doc = window.doc
    doc.layers[0].pixels[:] = (90, 140, 200, 255)
    doc.notify_dirty(doc.rect, doc.layers[0])
    window.prompter.answers["pixels"] = ([0, 0, 40, 0], (0.5, 0.5))
    window.actions_by_name["expand"].trigger()
    assert (doc.width, doc.height) == (240, 150) and window.size_label.text() == "240 × 150"
    before = doc.composite()
    assert before[75, 220, 3] == 0  # the new area is empty and selected
    result = generate(qtbot, window)
    window.generation.apply(window.generation.strip.entries[0])
    after = doc.composite()
    assert after[75, 220, 3] == 255  # painted
    assert np.array_equal(after[:, :150], before[:, :150])  # the old picture away from the seam as it was
    assert result.request.region is not None
    window.actions_by_name["undo"].trigger()
    window.actions_by_name["undo"].trigger()
    assert (doc.width, doc.height) == (200, 150)


def test_free_transform_scales_with_a_handle_and_escape_puts_it_back(qtbot, window: MainWindow):
    doc, canvas = window.doc, window.canvas
    doc.active_layer.pixels[40:60, 40:60] = (200, 0, 0, 255)
    doc.notify_dirty(doc.rect, doc.active_layer)
    before = doc.active_layer.pixels.copy()
    use(window, Tool.SELECT_RECT)
    drag(qtbot, canvas, [(40, 40), (60, 60)])
    window.actions_by_name["transform"].trigger()
    assert canvas.transforming
    assert doc.active_layer.pixels[50, 50, 3] == 0  # lifted: drawn over the canvas while transforming
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.transforming and np.array_equal(doc.active_layer.pixels, before)

    window.actions_by_name["transform"].trigger()
    drag(qtbot, canvas, [(60, 60), (70, 70)])  # the bottom-right handle: twice the size about the centre
    image = canvas.grab().toImage()
    assert image.pixelColor(68, 68).red() > 150  # the preview shows it scaled before it is applied
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    ink = doc.active_layer.pixels
    assert tuple(ink[33, 33]) == (200, 0, 0, 255) and tuple(ink[66, 66]) == (200, 0, 0, 255)
    assert ink[75, 75, 3] == 0
    assert sel.bounds(doc.selection) == sel.Rect(30, 30, 40, 40)  # the selection scaled along
    window.actions_by_name["undo"].trigger()
    assert np.array_equal(doc.active_layer.pixels, before) and sel.bounds(doc.selection) == sel.Rect(40, 40, 20, 20)


def test_free_transform_rotates_by_dragging_outside(qtbot, window: MainWindow):
    doc, canvas = window.doc, window.canvas
    doc.active_layer.pixels[45:55, 30:70] = (0, 0, 200, 255)  # a wide bar
    doc.notify_dirty(doc.rect, doc.active_layer)
    window.actions_by_name["transform"].trigger()
    # Outside the layer's box, from the right of the centre (50, 50) to below it, Shift: 90 degrees.
    drag(qtbot, canvas, [(150, 50), (150, 90), (50, 140)], Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    ink = doc.active_layer.pixels
    assert ink[35, 50, 3] == 255 and ink[50, 35, 3] == 0  # the bar stands upright now


def test_quick_mask_paints_the_selection_and_never_the_layer(qtbot, window: MainWindow):
    doc, canvas = window.doc, window.canvas
    before = doc.active_layer.pixels.copy()
    qtbot.keyClick(canvas, Qt.Key.Key_Q)
    assert canvas.quick_mask and window.actions_by_name["quick_mask"].isChecked()
    image = canvas.grab().toImage()
    tinted = image.pixelColor(100, 100)
    assert tinted.red() > tinted.green() + 40  # not selected: red over the canvas
    window.tools.set_brush(window.tools.brush.with_(size=20.0, hardness=1.0))
    drag(qtbot, canvas, [(20, 75), (180, 75)])
    mask = doc.selection
    assert mask is not None and mask[75, 100] == 255 and mask[20, 100] == 0
    assert np.array_equal(doc.active_layer.pixels, before)  # the layer is untouched
    use(window, Tool.ERASER)
    drag(qtbot, canvas, [(90, 60), (90, 90)])
    assert doc.selection[75, 90] == 0 and doc.selection[75, 150] == 255
    window.actions_by_name["undo"].trigger()
    assert doc.selection[75, 90] == 255
    qtbot.keyClick(canvas, Qt.Key.Key_Q)
    assert not canvas.quick_mask and canvas._ants is not None


def test_an_open_transform_blocks_other_changes_and_ends_with_the_document(qtbot, window: MainWindow):
    doc, canvas = window.doc, window.canvas
    doc.active_layer.pixels[40:60, 40:60] = (200, 0, 0, 255)
    doc.notify_dirty(doc.rect, doc.active_layer)
    before = doc.active_layer.pixels.copy()
    window.actions_by_name["transform"].trigger()
    assert not window.actions_by_name["undo"].isEnabled() and not window.actions_by_name["save"].isEnabled()
    assert not window.generation.actions["generate"].isEnabled() and not window.layers.isEnabled()
    assert window.autosaver.paused
    from sketchdiffuse.document.document import Document

    assert not window.menuBar().isEnabled() and not canvas.acceptDrops()
    qtbot.keyClick(canvas, Qt.Key.Key_Right)  # no nudge under an open transform
    window.set_document(Document(50, 40), None)  # another document: the transform is cancelled on the old
    assert not canvas.transforming and np.array_equal(doc.active_layer.pixels, before)
    assert not window.actions_by_name["undo"].isEnabled()  # as the new, empty history says
    assert window.actions_by_name["save"].isEnabled() and window.menuBar().isEnabled()
    assert not window.autosaver.paused and len(window.history) == 0


def test_a_tool_change_drops_a_half_drawn_polygon(qtbot, window: MainWindow):
    use(window, Tool.POLYGON_LASSO)
    for x, y in ((20, 20), (80, 20)):
        qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, NO, QPoint(x, y))
    use(window, Tool.SELECT_RECT)
    drag(qtbot, window.canvas, [(10, 10), (50, 50)])
    assert sel.bounds(window.doc.selection) == sel.Rect(10, 10, 40, 40)


def test_the_fill_options_reach_the_fill_tool(qtbot, window: MainWindow):
    doc = window.doc
    doc.layers[0].pixels[:] = 255
    doc.layers[0].pixels[:, 100:] = (250, 250, 250, 255)  # nearly white on the right
    doc.notify_dirty(doc.rect, doc.layers[0])
    window.tools.tolerance.setValue(0)
    window.tools.contiguous.setChecked(False)
    assert (window.canvas.fill_tolerance, window.canvas.fill_contiguous) == (0, False)
    use(window, Tool.FILL)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, NO, QPoint(10, 10))
    ink = doc.active_layer.pixels
    assert ink[10, 50, 3] == 255 and ink[10, 150, 3] == 0  # tolerance 0: the near-white stays


def test_closing_with_an_open_transform_puts_the_pixels_back_first(qtbot, window: MainWindow):
    doc = window.doc
    doc.active_layer.pixels[40:60, 40:60] = (200, 0, 0, 255)
    doc.notify_dirty(doc.rect, doc.active_layer)
    before = doc.active_layer.pixels.copy()
    window.actions_by_name["transform"].trigger()
    asked: list[str] = []
    window.prompter.answers["unsaved"] = lambda name: asked.append(name) or "discard"
    window.close()
    assert np.array_equal(doc.active_layer.pixels, before)  # what a save would have written
