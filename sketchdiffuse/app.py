"""Starts the Qt application and the main window. Qt is imported here, not at module level, so the
command line's generate and info commands never load it."""

from __future__ import annotations

import sys


def run_app(path: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from sketchdiffuse.qt.files import crash_guard
    from sketchdiffuse.qt.startup import start_window
    from sketchdiffuse.qt.theme import apply_theme

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("sketchdiffuse")
    app.setOrganizationName("sketchdiffuse")
    apply_theme(app)
    crash_guard.install()
    window = start_window(path)
    code = app.exec()
    del window
    return code
