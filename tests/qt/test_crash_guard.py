"""An exception escaping a slot is logged to the application-data log and shown, not silently fatal."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths

from sketchdiffuse.qt.files import crash_guard


def test_unexpected_errors_are_logged_and_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(crash_guard, "log_path", lambda: tmp_path / "app" / "sketchdiffuse.log")
    shown: list[str] = []
    monkeypatch.setattr(crash_guard, "show_unexpected", shown.append)
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        path = crash_guard.setup_logging()

        def merge_layers() -> None:
            raise RuntimeError("the layer vanished")

        try:
            merge_layers()
        except RuntimeError:
            crash_guard.handle_exception(*sys.exc_info())  # type: ignore[arg-type]
        for handler in root.handlers:
            handler.flush()
        text = path.read_text()
        assert "the layer vanished" in text and "merge_layers" in text  # the traceback is in the log
        assert shown and "merge_layers" in shown[0] and str(path) in shown[0]
    finally:
        for handler in root.handlers[len(handlers) :]:
            root.removeHandler(handler)
            handler.close()


def test_the_log_lives_in_the_application_data_folder():
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    assert str(crash_guard.log_path()).startswith(folder)
