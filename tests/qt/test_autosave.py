"""No lost work in the window: background saves, autosave and recovery, results on disk as they arrive."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.io.ora import read_ora
from sketchdiffuse.io.png_meta import PARAMETERS_KEY
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.prompter import ScriptedPrompter
from sketchdiffuse.session.recovery import DISCARD, RESTORE, offer_recovery

TIMEOUT = 60_000


def stroke(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    qtbot.mouseMove(window.canvas, QPoint(120, 90))
    qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(120, 90))


@pytest.fixture
def recovery_root(window: MainWindow, tmp_path: Path) -> Path:
    from sketchdiffuse.io.recovery import RecoveryStore

    root = tmp_path / "recovery"
    window.autosaver.store = RecoveryStore(root)
    return root


def autosave(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.autosaver.saved, timeout=TIMEOUT):
        assert window.autosaver.autosave_now()


def crash(window: MainWindow) -> Path:
    """Make this window's copy look like one left by a process that died."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    folder = window.autosaver.store.folder
    dead = folder.with_name(f"{child.pid}-1")
    folder.rename(dead)
    return dead


def test_autosave_writes_a_recovery_copy_only_when_modified(qtbot, window: MainWindow, recovery_root: Path):
    assert not window.autosaver.autosave_now()  # nothing painted yet
    stroke(qtbot, window)
    autosave(qtbot, window)
    copy = read_ora(window.autosaver.store.folder / "document.ora").document
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(copy.layers, window.doc.layers, strict=True))
    assert not window.autosaver.autosave_now()  # unchanged since
    assert window.path is None  # never written over the artist's file (there is none)
    window.close()  # a normal close removes the copy
    assert not window.autosaver.store.folder.exists()


def test_the_autosave_interval_is_configurable_and_can_be_off(window: MainWindow):
    assert window.autosaver.timer.isActive() and window.autosaver.timer.interval() == 120_000
    window.settings.setValue("generation/autosave_minutes", "0")
    window.autosaver.apply_interval()
    assert not window.autosaver.timer.isActive()
    window.settings.setValue("generation/autosave_minutes", "5")
    window.autosaver.apply_interval()
    assert window.autosaver.timer.interval() == 300_000


def test_after_a_crash_the_copy_is_restored_with_its_history(
    qtbot, window: MainWindow, recovery_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    stroke(qtbot, window)
    window.history.push(cmd.set_layer_property(window.doc, 1, "opacity", 0.5))
    window.files.path = tmp_path / "mine.ora"
    autosave(qtbot, window)
    painted = [layer.pixels.copy() for layer in window.doc.layers]
    dead = crash(window)

    fresh = MainWindow(prompter=ScriptedPrompter())
    qtbot.addWidget(fresh)
    from sketchdiffuse.io.recovery import RecoveryStore

    fresh.autosaver.store = RecoveryStore(recovery_root)
    asked = []

    def answer(entries):  # type: ignore[no-untyped-def]
        asked.append([e.title for e in entries])
        return RESTORE, entries[0]

    fresh.prompter.answers["recovery"] = answer
    offer_recovery(fresh.autosaver.store, fresh.prompter.recovery, fresh.files.restore_recovered)
    assert asked == [["mine.ora"]]
    assert all(np.array_equal(a.pixels, b) for a, b in zip(fresh.doc.layers, painted, strict=True))
    assert fresh.doc.layers[1].opacity == 0.5
    assert fresh.isWindowModified() and fresh.path == tmp_path / "mine.ora"  # saving goes to the artist's file
    assert not dead.exists()
    assert fresh.close()  # asks, and the scripted answer discards


def test_a_discarded_copy_is_gone(qtbot, window: MainWindow, recovery_root: Path, monkeypatch: pytest.MonkeyPatch):
    stroke(qtbot, window)
    autosave(qtbot, window)
    dead = crash(window)
    window.prompter.answers["recovery"] = lambda entries: (DISCARD, entries[0])
    offer_recovery(window.autosaver.store, window.prompter.recovery, window.files.restore_recovered)
    assert not dead.exists()


def test_a_full_disk_during_autosave_is_a_message_not_a_loss(
    qtbot, window: MainWindow, recovery_root: Path, monkeypatch: pytest.MonkeyPatch
):
    import sketchdiffuse.io.atomic as atomic

    disk_full = [True]
    real_fsync = atomic.os.fsync

    def fsync(fd: int) -> None:
        if disk_full[0]:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    stroke(qtbot, window)
    messages: list[str] = []
    monkeypatch.setattr(window.autosaver, "notify", messages.append)
    assert window.autosaver.autosave_now()
    qtbot.waitUntil(lambda: any("Autosave failed" in m for m in messages), timeout=TIMEOUT)
    assert any("disk is full" in m for m in messages)
    disk_full[0] = False
    autosave(qtbot, window)  # still counted as modified: the next try writes it
    assert (window.autosaver.store.folder / "document.ora").is_file()


def hold_saves(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """The window's saves wait inside the write until ``release`` is set; ``writing`` says one began."""
    import sketchdiffuse.qt.files.document_files as document_files

    writing, release = threading.Event(), threading.Event()
    real_write = document_files.write_ora

    def slow_write(*args, **kwargs):  # type: ignore[no-untyped-def]
        writing.set()
        release.wait(10)
        real_write(*args, **kwargs)

    monkeypatch.setattr(document_files, "write_ora", slow_write)
    return writing, release


def test_saving_runs_in_the_background_and_painting_goes_on(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "bg.ora"
    window.prompter.answers["save_path"] = str(path)
    stroke(qtbot, window)
    before = [layer.pixels.copy() for layer in window.doc.layers]
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT):
        assert window.files.save()  # returns at once
        assert window.saver.busy
    assert all(np.array_equal(a.pixels, b) for a, b in zip(read_ora(path).document.layers, before, strict=True))
    assert not window.isWindowModified()
    # A stroke made while the copy is being written: the file holds the state before it and the
    # document stays modified.
    writing, release = hold_saves(monkeypatch)
    before = [layer.pixels.copy() for layer in window.doc.layers]
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT):
        window.files.save()
        qtbot.waitUntil(writing.is_set, timeout=TIMEOUT)
        stroke(qtbot, window)  # the window is not blocked by the write
        release.set()
    assert window.isWindowModified()
    assert all(np.array_equal(a.pixels, b) for a, b in zip(read_ora(path).document.layers, before, strict=True))


def test_every_result_is_on_disk_when_it_arrives_and_the_history_can_be_rebuilt(
    qtbot, window: MainWindow, tiny_sd: Path, tmp_path: Path
):
    ui = window.generation
    ui.results_dir = tmp_path / "results"
    assert ui.set_model(str(tiny_sd))
    ui.panel.set_values({"prompt": "a fox", "steps": 4, "strength": 0.5, "seed": 12, "seed_locked": True})
    with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT) as blocker:
        ui.actions["generate"].trigger()
    result = blocker.args[1]
    saved = Path(result.saved_path)
    assert saved.is_file() and saved.is_relative_to(tmp_path / "results")
    with Image.open(saved) as image:
        assert "a fox" in image.text[PARAMETERS_KEY] and "Seed: 12" in image.text[PARAMETERS_KEY]
        assert np.array_equal(np.asarray(image.convert("RGB")), result.image)
    ui.strip.clear_entries()
    assert ui.import_results([str(saved), str(tmp_path / "missing.png")]) == 1
    rebuilt = ui.strip.entries[0].result
    assert rebuilt.seed == 12 and rebuilt.request.prompt == "a fox" and np.array_equal(rebuilt.image, result.image)
    assert "skipped 1" in ui.panel.status.text()
    ui.shutdown()


def test_a_results_folder_that_cannot_be_written_still_delivers_the_result(
    qtbot, window: MainWindow, tiny_sd: Path, tmp_path: Path
):
    ui = window.generation
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    ui.results_dir = blocked / "results"
    assert ui.set_model(str(tiny_sd))
    ui.panel.set_values({"steps": 2, "strength": 0.5})
    with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT) as blocker:
        ui.actions["generate"].trigger()
    result = blocker.args[1]
    assert result.saved_path is None and "could not be written" in result.warnings[-1]
    assert len(ui.strip.entries) == 1
    ui.shutdown()


def test_applying_a_result_autosaves_at_once(qtbot, window: MainWindow, recovery_root: Path, tiny_sd: Path):
    ui = window.generation
    assert ui.set_model(str(tiny_sd))
    ui.panel.set_values({"steps": 2, "strength": 0.5})
    with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT):
        ui.actions["generate"].trigger()
    with qtbot.waitSignal(window.autosaver.saved, timeout=TIMEOUT):
        ui.strip.itemDoubleClicked.emit(ui.strip.item(0))
    assert len(read_ora(window.autosaver.store.folder / "document.ora").document.layers) == len(window.doc.layers)
    ui.shutdown()


def test_fifty_dropped_files_are_one_undo_step(window: MainWindow, tmp_path: Path):
    paths = []
    for i in range(50):
        path = tmp_path / f"ref{i:02d}.png"
        Image.new("RGB", (40 + i, 30), (i * 5, 0, 0)).save(path)
        paths.append(str(path))
    layers = len(window.doc.layers)
    window.drop.import_paths(paths)
    assert len(window.doc.layers) == layers + 50
    window.history.undo()
    assert len(window.doc.layers) == layers
    assert os.path.exists(paths[0])


def test_closing_during_a_generation_stops_the_worker(qtbot, window: MainWindow, tiny_sd: Path):
    ui = window.generation
    assert ui.set_model(str(tiny_sd))
    ui.panel.set_values({"steps": 150, "strength": 1.0})
    controller = ui.ensure_controller()
    steps: list[tuple[int, int]] = []
    controller.worker.progress.connect(
        lambda _job, p: steps.append((p.step, p.total)), Qt.ConnectionType.DirectConnection
    )
    with qtbot.waitSignal(controller.progress, timeout=TIMEOUT):
        ui.actions["generate"].trigger()
    window.history.set_clean()
    assert window.close()
    qtbot.waitUntil(lambda: not controller.worker_thread.isRunning(), timeout=TIMEOUT)
    assert steps and steps[-1][0] < steps[-1][1] == 150  # cancelled, not run to the end


def test_an_undo_and_a_new_stroke_during_a_save_keep_the_document_modified(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The undo index comes back to where it was when the save began, but the pixels differ."""
    window.prompter.answers["save_path"] = str(tmp_path / "same-index.ora")
    stroke(qtbot, window)
    writing, release = hold_saves(monkeypatch)
    index = window.history.index
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT):
        window.files.save()
        qtbot.waitUntil(writing.is_set, timeout=TIMEOUT)
        window.history.undo()
        window.history.push(cmd.set_layer_property(window.doc, 0, "name", "Paper"))
        assert window.history.index == index
        release.set()
    assert window.isWindowModified() and not window.history.is_clean()
