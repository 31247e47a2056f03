"""Layer panel, menus, files and the unsaved-changes question, through the window's own actions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.compose import composite
from sketchdiffuse.qt.main_window import MainWindow


def names(window: MainWindow) -> list[str]:
    """Layer names as the panel lists them (top first)."""
    model = window.layers.model
    return [model.data(model.index(r)) for r in range(model.rowCount())]


def test_panel_buttons_change_the_document_and_undo_follows(window: MainWindow):
    assert names(window) == ["Ink", "Background"]
    window.layers.buttons["layer-add"].click()
    assert names(window) == ["Layer 1", "Ink", "Background"]
    assert window.doc.active_layer.name == "Layer 1"
    assert window.layers.view.currentIndex().row() == 0
    window.layers.buttons["layer-duplicate"].click()
    assert names(window) == ["Layer 1 copy", "Layer 1", "Ink", "Background"]
    window.layers.buttons["layer-merge"].click()
    assert names(window) == ["Layer 1", "Ink", "Background"]
    window.layers.buttons["layer-delete"].click()
    assert names(window) == ["Ink", "Background"]
    for expected in (["Layer 1", "Ink", "Background"], ["Layer 1 copy", "Layer 1", "Ink", "Background"]):
        window.history.undo()
        assert names(window) == expected


def test_rename_visibility_opacity_blend_from_the_panel(window: MainWindow):
    model = window.layers.model
    top = model.index(0)
    assert model.setData(top, "Lines")
    assert window.doc.layers[1].name == "Lines"
    model.setData(top, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert not window.doc.layers[1].visible
    window.layers.opacity.setValue(40)
    window.layers.opacity.setValue(30)
    assert window.doc.active_layer.opacity == pytest.approx(0.3)
    window.layers.blend.setCurrentIndex(window.layers.blend.findData("multiply"))
    window.layers.blend.activated.emit(window.layers.blend.currentIndex())
    assert window.doc.active_layer.blend_mode is BlendMode.MULTIPLY
    assert len(window.history) == 4  # rename, visibility, one merged opacity drag, blend
    window.history.undo()
    window.history.undo()
    assert window.layers.opacity.value() == 100  # the panel follows undo
    assert window.doc.active_layer.opacity == 1.0


def test_panel_follows_changes_made_elsewhere(window: MainWindow):
    window.history.push(cmd.set_layer_property(window.doc, 0, "name", "Paper"))
    assert names(window) == ["Ink", "Paper"]
    window.actions_by_name["layer_new"].trigger()
    window.actions_by_name["layer_down"].trigger()
    assert names(window) == ["Ink", "Layer 1", "Paper"]
    window.actions_by_name["layer_up"].trigger()
    assert names(window) == ["Layer 1", "Ink", "Paper"]
    window.layers.view.setCurrentIndex(window.layers.model.index(2))
    assert window.doc.active_layer.name == "Paper"


def test_drag_reorder_through_the_model(window: MainWindow):
    window.actions_by_name["layer_new"].trigger()  # Layer 1, Ink, Background
    model = window.layers.model
    data = model.mimeData([model.index(0)])
    model.dropMimeData(data, Qt.DropAction.MoveAction, 3, 0, model.index(-1))  # drop below the last row
    assert names(window) == ["Ink", "Background", "Layer 1"]
    window.history.undo()
    assert names(window) == ["Layer 1", "Ink", "Background"]


def test_clear_layer_and_refused_actions(window: MainWindow, qtbot):
    window.doc.active_layer.pixels[:] = 200
    window.actions_by_name["clear"].trigger()
    assert not window.doc.active_layer.pixels.any()
    window.actions_by_name["layer_delete"].trigger()
    window.actions_by_name["layer_merge"].trigger()  # bottom layer: nothing below
    assert "nothing below" in window.statusBar().currentMessage()
    window.actions_by_name["layer_delete"].trigger()
    assert "last layer" in window.statusBar().currentMessage() and len(window.doc.layers) == 1


def test_save_and_open_round_trip_through_the_menu(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
):
    qtbot.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(30, 30))
    qtbot.mouseMove(window.canvas, QPoint(120, 90))
    qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(120, 90))
    window.history.push(cmd.set_layer_property(window.doc, 1, "opacity", 0.5))
    assert window.windowTitle().startswith("Untitled") and window.isWindowModified()
    target = tmp_path / "drawing"
    window.prompter.answers["save_path"] = str(target)
    with qtbot.waitSignal(window.files.saved, timeout=10_000):  # written in the background
        window.actions_by_name["save"].trigger()
    saved = tmp_path / "drawing.ora"
    assert saved.is_file() and not window.isWindowModified()
    assert window.windowTitle().startswith("drawing.ora")
    pixels = [ly.pixels.copy() for ly in window.doc.layers]
    window.actions_by_name["layer_new"].trigger()
    assert window.isWindowModified()
    window.prompter.answers["open_path"] = str(saved)
    answers = []
    window.prompter.answers["unsaved"] = lambda name: answers.append(1) or "discard"
    window.actions_by_name["open"].trigger()
    assert answers == [1]
    assert names(window) == ["Ink", "Background"]
    assert all(np.array_equal(a.pixels, b) for a, b in zip(window.doc.layers, pixels, strict=True))
    assert window.doc.layers[1].opacity == 0.5 and not window.isWindowModified()
    assert len(window.history) == 0
    assert window.files.recent_files()[0] == str(saved.resolve())


def test_save_failure_keeps_the_old_file_and_says_so(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_dialogs: list[str]
):
    path = tmp_path / "keep.ora"
    window.files.path = path
    assert window.files.save(wait=True)
    original = path.read_bytes()
    window.actions_by_name["layer_new"].trigger()
    import sketchdiffuse.io.atomic as atomic

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    assert not window.files.save(wait=True)
    assert path.read_bytes() == original
    assert no_dialogs and "disk is full" in no_dialogs[0] and "unchanged" in no_dialogs[0]
    assert window.isWindowModified()


def test_open_errors_change_nothing(window: MainWindow, tmp_path: Path, no_dialogs: list[str]):
    bad = tmp_path / "bad.ora"
    bad.write_text("nope")
    doc = window.doc
    assert not window.files.open_path(bad)
    assert window.doc is doc and no_dialogs and "not an OpenRaster" in no_dialogs[0]


def test_opening_an_image_makes_a_document(window: MainWindow, tmp_path: Path):
    from PIL import Image

    Image.new("RGB", (64, 40), (255, 0, 0)).save(tmp_path / "red.png")
    assert window.files.open_path(tmp_path / "red.png")
    assert (window.doc.width, window.doc.height) == (64, 40)
    assert window.path is None  # saving asks for an .ora name instead of overwriting the PNG


@pytest.mark.parametrize(
    ("answer", "closes", "saves"),
    [
        ("cancel", False, False),
        ("discard", True, False),
        ("save", True, True),
    ],
)
def test_closing_with_unsaved_changes_asks(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answer, closes, saves
):
    window.actions_by_name["layer_new"].trigger()
    window.prompter.answers["unsaved"] = answer
    window.prompter.answers["save_path"] = str(tmp_path / "x.ora")
    assert window.close() is closes
    assert (tmp_path / "x.ora").exists() is saves


def test_new_document_with_a_chosen_size(window: MainWindow, monkeypatch: pytest.MonkeyPatch):
    window.prompter.answers["new_size"] = (320, 240)
    window.actions_by_name["new"].trigger()
    assert (window.doc.width, window.doc.height) == (320, 240)
    assert names(window) == ["Sketch", "Background"] and window.size_label.text() == "320 × 240"


def test_undo_history_is_bounded_by_memory(window: MainWindow):
    history = window.history
    history.limit_bytes = 4 * 200 * 150 * 4
    for _ in range(10):
        history.push(cmd.add_layer(window.doc))
    assert history.memory_bytes() <= history.limit_bytes and len(history) < 10
    while history.can_undo():
        history.undo()
    assert len(window.doc.layers) == 2 + 10 - len(history)


def test_shortcuts_follow_platform_conventions(window: MainWindow):
    from PySide6.QtGui import QKeySequence

    a = window.actions_by_name
    assert a["undo"].shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert a["save"].shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert a["fit"].shortcut().toString() == "0" and a["size_up"].shortcut().toString() == "]"
    assert "Ctrl+S" in a["save"].toolTip()


def test_a_long_status_text_is_elided_and_never_widens_the_prompt_dock(qtbot, window: MainWindow):
    window.show()
    qtbot.waitExposed(window)
    ui = window.generation
    dock_width, canvas_width = ui.panel.width(), window.canvas.width()
    text = (  # as seen with the default model offline
        "Cannot load the model 'stabilityai/sd-turbo': it is not in the Hugging Face cache and there is no "
        "network connection (HTTPSConnectionPool(host='huggingface.co', port=443): Max retries exceeded "
        "with url: /api/models/stabilityai/sd-turbo/revision/main)"
    )
    ui._status(text, error=True)
    for _ in range(3):  # the layout passes the new text asks for (label, dock, main window)
        QApplication.processEvents()
    assert (ui.panel.width(), window.canvas.width()) == (dock_width, canvas_width)
    shown = ui.panel.status.elided_text()
    assert ui.panel.status.toolTip() == text and "…" in shown and len(shown) < len(text)
    # A long model path: one line, its start elided so the file name shows, the whole path in the tooltip.
    path = "/home/artist/models/checkpoints/sdxl/realistic/juggernaut-xl-v9-rundiffusion-photo-2.safetensors"
    line = ui.panel.model_label.fontMetrics().height()
    ui.panel.model = path
    for _ in range(3):
        QApplication.processEvents()
    assert (ui.panel.width(), window.canvas.width()) == (dock_width, canvas_width)
    assert ui.panel.model_label.height() <= 2 * line and ui.panel.model_label.toolTip() == path
    shown = ui.panel.model_label.elided_text()
    assert shown.startswith("…") and shown.endswith(".safetensors") and len(shown) < len(path)


def test_layer_properties_from_the_menu_are_one_undo_step(window: MainWindow):
    window.prompter.answers["layer_properties"] = lambda layer: {
        "name": "Shadows",
        "opacity": 0.25,
        "visible": False,
        "blend_mode": BlendMode.MULTIPLY.value,
    }
    window.actions_by_name["layer_props"].trigger()
    ink = window.doc.layers[1]
    assert (ink.name, ink.opacity, ink.visible, ink.blend_mode) == ("Shadows", 0.25, False, BlendMode.MULTIPLY)
    assert names(window)[0] == "Shadows"
    window.history.undo()
    assert (ink.name, ink.opacity, ink.visible, ink.blend_mode) == ("Ink", 1.0, True, BlendMode.NORMAL)
    window.prompter.answers["layer_properties"] = None  # cancelled: nothing recorded
    before = len(window.history)
    window.actions_by_name["layer_props"].trigger()
    assert len(window.history) == before


def test_the_layer_cache_follows_the_generation_settings(window: MainWindow):
    from sketchdiffuse.session.settings import RunSettings

    assert window.doc.projection.budget_bytes == RunSettings().layer_cache_mb * 1024 * 1024
    window.history.push(cmd.set_layer_property(window.doc, 1, "opacity", 0.5))
    window.doc.composite_view()
    assert window.doc.projection.nbytes > 0  # a projection for the changed layer
    window.prompter.answers["run_settings"] = lambda current: current.with_(layer_cache_mb=0)
    window.generation.edit_settings()
    assert window.doc.projection.budget_bytes == 0 and window.doc.cache_bytes == 0  # off: memory given back
    window.history.push(cmd.set_layer_property(window.doc, 1, "opacity", 0.7))
    assert np.array_equal(window.doc.composite_view(), composite(window.doc.layers, window.doc.rect))
    assert window.doc.projection.nbytes == 0


def test_a_zoomed_out_opacity_drag_shows_a_preview_that_no_save_or_generation_reads(
    qtbot, window: MainWindow, tmp_path: Path
):
    from sketchdiffuse.document.reduced_view import reduce_pixels
    from sketchdiffuse.io.ora import read_ora
    from sketchdiffuse.qt.painting import canvas as canvas_module
    from sketchdiffuse.session.requests import drawing_of

    doc, canvas = window.doc, window.canvas
    doc.layers[0].pixels[:] = (200, 180, 160, 255)
    doc.active_layer.pixels[20:120, 31:150] = (0, 0, 180, 255)
    doc.notify_dirty(doc.rect)
    canvas.set_zoom(0.25)
    canvas.repaint()
    for value in (40, 35):  # a drag: one undo step, a preview per frame
        window.layers.opacity.setValue(value)
        canvas.repaint()
    assert not doc.settled and doc._reduced.previews == 2
    exact = composite(doc.layers, doc.rect)
    request = window.generation.build_request(seed=1)
    assert request is not None and np.array_equal(request.init_image, drawing_of(exact))
    window.prompter.answers["save_path"] = str(tmp_path / "drag.ora")
    assert window.files.save_as(wait=True)
    assert np.array_equal(read_ora(tmp_path / "drag.ora").document.composite(), exact)
    # Once input pauses the document settles in steps and the view is the exact composite reduced.
    qtbot.waitUntil(lambda: doc.settled, timeout=5000)
    assert np.array_equal(doc.reduced_view(4), reduce_pixels(exact, 4))
    assert doc.cache_bytes > 0
    canvas._release_timer.setInterval(1)
    canvas._release_timer.start()
    qtbot.waitUntil(lambda: doc.cache_bytes == 0, timeout=5000)  # freed while idle
    assert canvas_module.RELEASE_AFTER_MS >= 10_000
