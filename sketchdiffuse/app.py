"""Starts the Qt application and the main window."""

from __future__ import annotations

import sys


def run_app(path: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from sketchdiffuse.qt.main_window import MainWindow

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("sketchdiffuse")
    app.setOrganizationName("sketchdiffuse")
    from sketchdiffuse.qt.theme import apply_theme

    apply_theme(app)
    from sketchdiffuse.qt import crash_guard

    crash_guard.install()
    window = MainWindow()
    if path:
        window.open_path(path)
    window.show()
    from PySide6.QtCore import QTimer

    from sketchdiffuse.session.recovery import offer_recovery

    # After the window is on screen.
    QTimer.singleShot(
        0, lambda: offer_recovery(window.autosaver.store, window.prompter.recovery, window.restore_recovered)
    )
    QTimer.singleShot(500, window.generation.warm_up)
    return app.exec()
