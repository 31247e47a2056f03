"""Live mode with the tiny real model: strokes schedule jobs, unchanged states start nothing, results stay apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.io.pixels import flatten_on
from sketchdiffuse.qt.main_window import MainWindow

TIMEOUT = 60_000


@pytest.fixture
def live_window(window: MainWindow, tiny_sd: Path) -> MainWindow:
    ui = window.generation
    assert ui.set_model(str(tiny_sd))
    ui.panel.set_values({"prompt": "a cat", "strength": 0.5, "steps": 40, "guidance_scale": 7.0, "seed": 5})
    ui.panel.set_values({"seed_locked": False, "scheduler": "Euler"})
    yield window
    ui.actions["live"].setChecked(False)
    assert ui.shutdown()


def stroke(qtbot, window: MainWindow, y: int) -> None:  # type: ignore[no-untyped-def]
    qtbot.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(10, y))
    qtbot.mouseMove(window.canvas, QPoint(180, y + 5))
    qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(180, y + 5))


def start_live(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    ui = window.generation
    with qtbot.waitSignal(ui.live.resultShown, timeout=TIMEOUT):
        ui.actions["live"].setChecked(True)
    qtbot.waitUntil(lambda: not ui.ensure_controller().busy, timeout=TIMEOUT)


def test_quick_strokes_make_at_most_two_jobs_and_end_with_the_last_state(qtbot, live_window: MainWindow):
    window, ui = live_window, live_window.generation
    start_live(qtbot, window)
    first_seed = ui.live.result.seed
    started: list[int] = []
    ui.ensure_controller().started.connect(started.append)
    for y in (30, 60, 90):
        stroke(qtbot, window, y)
        QApplication.processEvents()  # the scheduler's timer may start a job before the next stroke
    qtbot.waitUntil(
        lambda: not ui.ensure_controller().busy and ui.live.result.request.init_image.min() == 0, timeout=TIMEOUT
    )
    assert 1 <= len(started) <= 2
    assert np.array_equal(ui.live.result.request.init_image, flatten_on(window.doc.composite()))
    assert ui.live.result.seed == first_seed  # the seed stays fixed while live
    assert ui.strip.entries == []  # live results do not flood the history


def test_an_unchanged_drawing_and_settings_start_nothing(qtbot, live_window: MainWindow):
    window, ui = live_window, live_window.generation
    start_live(qtbot, window)
    started: list[int] = []
    ui.ensure_controller().started.connect(started.append)
    assert not ui.live.run_now()
    window.history.push(cmd.add_layer(window.doc))  # a new empty layer changes no pixel
    qtbot.waitUntil(lambda: not ui.live.pending, timeout=TIMEOUT)  # the scheduler looked and decided
    assert started == []
    ui.panel.set_values({"prompt": "a dog"})  # a changed setting does start a job
    qtbot.waitUntil(lambda: len(started) == 1, timeout=TIMEOUT)


def test_turning_live_off_cancels_the_job_in_flight(qtbot, live_window: MainWindow):
    window, ui = live_window, live_window.generation
    ui.panel.set_values({"strength": 1.0, "steps": 150})
    controller = ui.ensure_controller()
    with qtbot.waitSignal(controller.progress, timeout=TIMEOUT):
        ui.actions["live"].setChecked(True)
    with qtbot.waitSignal(controller.cancelled, timeout=TIMEOUT):
        ui.actions["live"].setChecked(False)
    assert not controller.busy and ui.live.result is None
    stroke(qtbot, window, 40)
    QApplication.processEvents()
    assert not ui.live.pending and not controller.busy  # off means off: nothing even scheduled


def test_live_results_apply_pin_and_render_full_size(qtbot, live_window: MainWindow, monkeypatch: pytest.MonkeyPatch):
    window, ui = live_window, live_window.generation
    window.settings.setValue("generation/live_side", "32")
    start_live(qtbot, window)
    live = ui.live.result
    assert (live.width, live.height) == (32, 24)  # the reduced live size (the canvas is 200 x 150)
    layers = len(window.doc.layers)
    ui.actions["apply_live"].trigger()
    assert len(window.doc.layers) == layers + 1
    assert np.array_equal(window.doc.active_layer.pixels[..., :3], live.image)
    window.history.undo()
    assert len(window.doc.layers) == layers
    ui.actions["pin_live"].trigger()
    assert len(ui.strip.entries) == 1 and ui.strip.entries[0].pinned and ui.strip.entries[0].result is live
    with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT) as blocker:
        ui.actions["render_full"].trigger()
    full = blocker.args[1]
    assert full.seed == live.seed and (full.width, full.height) == (72, 56)  # area near 64², aspect kept
    assert len(ui.strip.entries) == 2 and ui.strip.entries[0].result is full


def test_the_artists_own_generation_is_never_displaced_by_live_mode(qtbot, live_window: MainWindow):
    window, ui = live_window, live_window.generation
    start_live(qtbot, window)
    controller = ui.ensure_controller()
    finished = []
    controller.finished.connect(lambda job, r: finished.append(controller.is_live(job)))
    ui.panel.set_values({"steps": 100})  # schedules a live job, replaced by the press below
    ui.actions["generate"].trigger()
    stroke(qtbot, window, 70)  # a stroke during the artist's job waits for it
    qtbot.waitUntil(lambda: finished[:1] == [False], timeout=TIMEOUT)
    assert len(ui.strip.entries) == 1
    # Afterwards live mode catches up with the stroke.
    qtbot.waitUntil(lambda: ui.live.result.request.init_image.min() == 0 and not controller.busy, timeout=TIMEOUT)


def test_live_mode_with_a_selection_works_on_the_selection_alone(qtbot, live_window: MainWindow):
    from sketchdiffuse.document import selection as sel

    window, ui = live_window, live_window.generation
    mask = sel.rectangle(200, 150, 120, 80, 170, 130)
    window.history.push(cmd.select(window.doc, mask, "select"))
    start_live(qtbot, window)
    request = ui.live.result.request
    assert request.region is not None and request.mask is not None
    _, _, w, h = request.region
    assert w * h < 200 * 150 / 2 and ui.live.result.image.shape[:2] == (h, w)  # the cost follows the selection
    started: list[int] = []
    ui.ensure_controller().started.connect(started.append)
    # The same area with another selection inside it is another state: live mode goes again.
    smaller = sel.rectangle(200, 150, 125, 85, 165, 125)
    window.history.push(cmd.select(window.doc, smaller, "select"))
    qtbot.waitUntil(lambda: len(started) == 1, timeout=TIMEOUT)
