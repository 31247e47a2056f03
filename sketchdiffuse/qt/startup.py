"""The window as the application starts it: the file named on the command line, then, once the
window is on screen, the offer to recover work from a crash and the libraries warming up."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.prompter import Prompter
from sketchdiffuse.session.recovery import offer_recovery

WARM_UP_MS = 500  # the ML libraries load on the worker thread shortly after the window shows


def start_window(path: str | None = None, prompter: Prompter | None = None) -> MainWindow:
    window = MainWindow(prompter=prompter)
    if path:
        window.files.open_path(path)
    window.show()
    files = window.files
    QTimer.singleShot(
        0, lambda: offer_recovery(window.autosaver.store, window.prompter.recovery, files.restore_recovered)
    )
    QTimer.singleShot(WARM_UP_MS, window.generation.warm_up)
    return window
