"""Unexpected errors never end the program silently: they go to a log file and to a message box."""

from __future__ import annotations

import logging
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("sketchdiffuse")


def log_path() -> Path:
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    return folder / "sketchdiffuse.log"


def setup_logging() -> Path:
    """Warnings and errors of every module go to a rotating log in the application-data folder."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def show_unexpected(text: str) -> None:
    parent = QApplication.activeWindow()
    QMessageBox.critical(parent, "Something went wrong", text)


def handle_exception(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """sys.excepthook: exceptions escaping a slot or event handler land here; the program keeps running."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    details = "".join(traceback.format_exception(kind, error, tb))
    log.error("unexpected error:\n%s", details)
    where = traceback.extract_tb(tb)[-1].name if tb else "an action"
    show_unexpected(
        f"An unexpected error interrupted {where}: {error}\n\nYour document is still open; save it to be safe. "
        f"The details are in {log_path()}."
    )


def install() -> Path:
    path = setup_logging()
    sys.excepthook = handle_exception
    return path
