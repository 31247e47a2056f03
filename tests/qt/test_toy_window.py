"""The toy-shapes model through the window: what the artist sees lands where it was drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.layer import Layer, blank_pixels
from sketchdiffuse.io.pixels import flatten_on
from sketchdiffuse.qt.main_window import MainWindow
from tests.toy.judge import PALETTE, judge

TOY = Path(__file__).resolve().parents[1] / "data" / "toy-shapes"
TIMEOUT = 60_000


@pytest.fixture
def toy_window(window: MainWindow) -> MainWindow:
    ui = window.generation
    assert ui.set_model(str(TOY))
    ui.panel.set_values(
        {"prompt": "a green square", "strength": 0.3, "steps": 20, "guidance_scale": 4.0, "scheduler": "Euler"}
    )
    ui.panel.set_values({"seed": 5, "seed_locked": True})
    yield window
    assert ui.shutdown()


def square_layer(window: MainWindow, colour: str, box: tuple[int, int, int, int], name: str) -> Layer:
    pixels = blank_pixels(window.doc.width, window.doc.height)
    x0, y0, x1, y1 = box
    pixels[y0:y1, x0:x1, :3] = PALETTE[colour]
    pixels[y0:y1, x0:x1, 3] = 255
    return Layer(name, pixels)


def test_an_applied_result_lands_where_the_drawing_was(qtbot, toy_window: MainWindow):
    window, ui = toy_window, toy_window.generation
    box = (110, 40, 170, 100)  # on the 200 x 150 canvas, right of centre
    window.history.push(cmd.add_layer(window.doc, square_layer(window, "green", box, "drawn")))
    drawn = judge(flatten_on(window.doc.composite()))  # what the model is given: the drawing on white
    with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT) as blocker:
        ui.actions["generate"].trigger()
    ui.apply_result(blocker.args[1])
    applied = window.doc.layers[window.doc.active_index].pixels[..., :3]
    verdict = judge(applied)
    assert drawn is not None and verdict is not None and verdict.colour == "green"
    dx, dy = verdict.centroid[0] - drawn.centroid[0], verdict.centroid[1] - drawn.centroid[1]
    assert np.hypot(dx, dy) <= 6, (drawn.centroid, verdict.centroid)


def test_live_mode_follows_the_last_stroke(qtbot, toy_window: MainWindow):
    window, ui = toy_window, toy_window.generation
    ui.panel.set_values({"prompt": "a red square", "strength": 0.6})
    window.history.push(cmd.add_layer(window.doc, square_layer(window, "blue", (60, 30, 140, 110), "blue")))
    with qtbot.waitSignal(ui.live.resultShown, timeout=TIMEOUT):
        ui.actions["live"].setChecked(True)
    window.history.push(cmd.add_layer(window.doc, square_layer(window, "red", (60, 30, 140, 110), "red over it")))
    qtbot.waitUntil(
        lambda: ui.live.result is not None and ui.live.result.request.init_image[70, 100, 0] > 150, timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: not ui.ensure_controller().busy, timeout=TIMEOUT)
    verdict = judge(ui.live.result.image)
    ui.actions["live"].setChecked(False)
    assert verdict is not None and verdict.colour == "red"


def outline_layer(window: MainWindow, box: tuple[int, int, int, int], name: str) -> Layer:
    """A dark circle outline drawn on a transparent layer."""
    pixels = blank_pixels(window.doc.width, window.doc.height)
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[0 : window.doc.height, 0 : window.doc.width]
    d = np.hypot(xs - (x0 + x1 - 1) / 2, ys - (y0 + y1 - 1) / 2)
    r = (x1 - x0) / 2
    pixels[(d <= r) & (d > r - 5)] = (30, 30, 30, 255)
    return Layer(name, pixels)


def test_a_control_layer_steers_the_picture_in_the_window(qtbot, toy_window: MainWindow):
    from sketchdiffuse.document.control_role import ControlRole

    window, ui = toy_window, toy_window.generation
    box = (100, 40, 180, 120)  # a circle drawn right of centre
    window.history.push(cmd.add_layer(window.doc, outline_layer(window, box, "lines")))
    window.layers.control.setCurrentIndex(window.layers.control.findData("scribble"))
    window.layers.control.activated.emit(window.layers.control.currentIndex())
    role = window.doc.active_layer.control
    assert role is not None and role.kind == "scribble"
    window.layers.set_control_role(ControlRole("scribble", str(TOY.parent / "toy-shapes-scribble")))
    assert "Scribble" in window.layers.model.data(window.layers.model.index(0))
    ui.panel.set_values({"prompt": "a red circle", "strength": 1.0})
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    hits = 0
    for seed in (1, 2, 3):
        ui.panel.set_values({"seed": seed})
        with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT) as blocker:
            ui.actions["generate"].trigger()
        result = blocker.args[1]
        assert len(result.request.controls) == 1 and (result.request.init_image == 255).all()  # lines not painted
        verdict = judge(result.image)
        hits += verdict is not None and np.hypot(verdict.centroid[0] - centre[0], verdict.centroid[1] - centre[1]) <= 15
    assert hits >= 2
    window.history.undo()  # the role given by hand
    window.history.undo()  # the role chosen in the panel
    assert window.doc.active_layer.control is None
    assert window.layers.control.currentData() == ""
