"""The offscreen application and window the window-level benchmarks share.

Settings, autosaves and results go to a throw-away folder, never the user's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QPointF, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from sketchdiffuse.document.document import Document
from sketchdiffuse.generation.tuning import share_one_heap
from sketchdiffuse.io.recovery import RecoveryStore
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.prompter import ScriptedPrompter


def wait(signal: object, timeout_s: float = 120) -> list[object]:
    """Run the event loop until ``signal`` is emitted (its arguments in the list) or ``timeout_s`` passes (empty)."""
    loop = QEventLoop()
    got: list[object] = []

    def done(*args: object) -> None:
        got.append(args)
        loop.quit()

    signal.connect(done)  # type: ignore[attr-defined]
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(done)  # type: ignore[attr-defined]
    return got


def offscreen_app(name: str) -> tuple[QApplication, Path]:
    """The application, with its settings in a new temporary folder (returned for other scratch files)."""
    share_one_heap()  # as the sketchdiffuse command does first
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "settings"))
    app = QApplication(sys.argv)
    app.setOrganizationName(name)
    app.setApplicationName(name)
    return app, folder


def sketch_document(width: int, height: int) -> Document:
    """A transparent background and an active "Ink" layer above it, as the tests use."""
    doc = Document(width, height)
    doc.layers.append(doc.new_layer("Ink"))
    doc.active_index = 1
    return doc


def bench_window(doc: Document, folder: Path, width: int = 900, height: int = 600) -> MainWindow:
    """A shown window on ``doc``, one document pixel per widget pixel, so strokes land where aimed."""
    window = MainWindow(doc, ScriptedPrompter())
    window.resize(width, height)
    window.show()
    window.canvas.zoom, window.canvas.offset = 1.0, QPointF(0, 0)
    window.autosaver.store = RecoveryStore(folder / "recovery")
    window.generation.results_dir = folder / "results"
    return window
