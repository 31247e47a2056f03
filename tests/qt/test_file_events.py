"""The start-up path, the recovery dialog, Export and Open Recent, driven as an artist drives them:
real dialogs answered with mouse clicks, menus opened and their actions triggered."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu, QPushButton

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.io.recovery import RecoveryStore
from sketchdiffuse.qt.files.autosave import data_folder
from sketchdiffuse.qt.files.recovery_dialog import RecoveryDialog
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.startup import start_window
from sketchdiffuse.session.document_session import default_document
from sketchdiffuse.session.recovery import DISCARD
from tests.images import read_image

RELEASE_PROJECT = Path(__file__).parent.parent / "data" / "projects" / "release-0.1.ora"


def crashed_copy(root: Path, title: str, colour: tuple[int, int, int], number: int = 1) -> Path:
    """A copy autosaved by a window of a process that has gone."""
    doc = default_document(48, 32)
    doc.layers[1].pixels[4:20, 4:30] = (*colour, 255)
    store = RecoveryStore(root)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    store.folder = root / f"{ended.pid}-{number}"
    store.write(doc, {}, title, None)
    return store.folder


def click_when_modal(qtbot, label: str, before: Callable[[QDialogButtonBox], None] | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """Click the button ``label`` in the modal dialog as soon as it shows; returns its title once clicked."""
    seen: list[str] = []

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, attempt)
            return
        if before is not None:
            before(dialog)
        seen.append(dialog.windowTitle())
        button = next(b for b in dialog.findChildren(QPushButton) if b.text() == label)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, attempt)
    return seen


def test_the_recovery_dialog_returns_what_was_clicked(qtbot, tmp_path: Path):
    root = tmp_path / "recovery"
    crashed_copy(root, "first.ora", (200, 0, 0))
    crashed_copy(root, "second.ora", (0, 0, 200), number=2)
    entries = RecoveryStore(root).recoverable()
    assert sorted(e.title for e in entries) == ["first.ora", "second.ora"]
    dialog = RecoveryDialog(entries)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.list.item(0).icon().isNull() is False  # each copy shows its thumbnail
    second_row = dialog.list.visualItemRect(dialog.list.item(1)).center()
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=second_row)
    qtbot.mouseClick(
        next(b for b in dialog.findChildren(QPushButton) if b.text() == "Discard"), Qt.MouseButton.LeftButton
    )
    assert dialog.choice == DISCARD and dialog.selected() is entries[1]


def test_start_up_opens_the_named_file_then_offers_recovery_with_the_real_dialog(qtbot, tmp_path: Path):
    root = data_folder("recovery")
    shutil.rmtree(root, ignore_errors=True)
    crashed = crashed_copy(root, "lost evening.ora", (0, 160, 0))
    opened: list[str] = []
    clicked = click_when_modal(qtbot, "Restore", lambda dialog: opened.append(dialog.parent().windowTitle()))
    window = start_window(str(RELEASE_PROJECT))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: bool(clicked), timeout=10_000)
    # The file from the command line was open (and titled) before the question came.
    assert opened == ["release-0.1.ora[*] — sketchdiffuse"]
    assert clicked == ["Recover unsaved work"]
    assert window.files.display_name() == "Untitled" and window.isWindowModified()  # unsaved work, no file
    assert tuple(window.doc.composite()[10, 10, :3]) == (0, 160, 0)
    assert not crashed.exists()  # restored: the window autosaves it again under its own folder
    qtbot.waitUntil(lambda: window.generation.controller is not None, timeout=10_000)  # the warm-up began
    assert window.generation.controller.shutdown(timeout_ms=120_000)  # and ends here, not at exit
    window.history.set_clean()  # closing at teardown must not ask with a real dialog


def test_export_writes_the_picture_in_the_chosen_format(window: MainWindow, tmp_path: Path):
    window.history.push(cmd.set_layer_property(window.doc, 1, "opacity", 0.5))
    window.doc.layers[0].pixels[:] = (0, 0, 255, 255)
    window.doc.notify_dirty(window.doc.rect)
    window.prompter.answers["save_path"] = str(tmp_path / "picture.jpg")
    window.actions_by_name["export"].trigger()
    exported = np.asarray(Image.open(tmp_path / "picture.jpg").convert("RGB"), dtype=int)
    assert exported.shape == (150, 200, 3) and np.abs(exported - (0, 0, 255)).max() <= 8
    window.prompter.answers["save_path"] = str(tmp_path / "notes.txt")  # not an image type: made a PNG
    window.actions_by_name["export"].trigger()
    png = np.asarray(read_image(tmp_path / "notes.png").convert("RGB"))
    assert np.array_equal(png, np.full((150, 200, 3), (0, 0, 255)))
    assert not (tmp_path / "notes.txt").exists()
    window.prompter.answers["save_path"] = str(tmp_path / "missing" / "folder" / "x.png")
    window.actions_by_name["export"].trigger()
    assert window.prompter.errors and "x.png" in window.prompter.errors[-1]  # said plainly, nothing written


def test_open_recent_from_the_file_menu(window: MainWindow, tmp_path: Path, qtbot):
    window.doc.layers[1].pixels[:10, :10] = (9, 9, 9, 255)
    window.doc.notify_dirty(window.doc.rect)
    window.history.set_unsaved()
    window.prompter.answers["save_path"] = str(tmp_path / "kept.ora")
    assert window.files.save_as(wait=True)
    window.files.set_path(None)
    window.set_document(default_document(40, 40), None)

    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    recent = next(a.menu() for a in file_menu.actions() if a.text() == "Open &Recent")
    assert isinstance(recent, QMenu)
    recent.aboutToShow.emit()  # as when the submenu opens
    entries = [a for a in recent.actions() if a.text() == str((tmp_path / "kept.ora").resolve())]
    assert len(entries) == 1
    entries[0].trigger()
    assert window.files.path == (tmp_path / "kept.ora").resolve()
    assert (window.doc.width, window.doc.height) == (200, 150)
    assert np.array_equal(window.doc.layers[1].pixels[:10, :10], np.full((10, 10, 4), (9, 9, 9, 255)))

    (tmp_path / "kept.ora").write_bytes(b"not a project any more")
    recent.aboutToShow.emit()
    next(a for a in recent.actions() if a.text().endswith("kept.ora")).trigger()
    assert window.prompter.errors and "kept.ora" in window.prompter.errors[-1]  # a clear error, document kept
    assert (window.doc.width, window.doc.height) == (200, 150)


def test_restoring_a_copy_that_cannot_be_read_is_a_message(window: MainWindow, tmp_path: Path):
    root = tmp_path / "recovery"
    folder = crashed_copy(root, "damaged.ora", (1, 2, 3))
    (folder / "document.ora").write_bytes(b"PK\x03\x04 broken")
    entries = RecoveryStore(root).recoverable()
    assert not window.files.restore_recovered(entries[0])
    assert "damaged.ora" in window.prompter.errors[-1]  # a message; the window's document is untouched
    assert (window.doc.width, window.doc.height) == (200, 150)
