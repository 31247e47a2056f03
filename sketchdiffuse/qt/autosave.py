"""Autosave and crash recovery for the window's document.

Every few minutes (2 by default, configurable, 0 = off) and right after a result is applied, a
modified document is copied in the background (qt/background_save.py) into this window's folder
under the application-data location: never over the artist's own file. A normal close removes
the folder; folders left by a crash are offered at the next start (qt/recovery_dialog.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from sketchdiffuse.io.recovery import RecoveryStore
from sketchdiffuse.qt.background_save import SaveJob
from sketchdiffuse.qt.settings_storage import QSettingsStorage
from sketchdiffuse.session.settings import read_run

if TYPE_CHECKING:
    from sketchdiffuse.qt.main_window import MainWindow

DEFAULT_MINUTES = 2.0


def data_folder(name: str) -> Path:
    """A folder under the platform's application-data location (created on first write)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".sketchdiffuse") / name


class Autosaver(QObject):
    saved = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.store = RecoveryStore(data_folder("recovery"))
        self._changes = 0
        self._saved_changes = 0
        self._pending = False
        window.history_signals.edited.connect(self.mark_changed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.autosave_now)
        self.apply_interval()

    def minutes(self) -> float:
        return read_run(QSettingsStorage(self.window.settings)).autosave_minutes

    def apply_interval(self) -> None:
        minutes = self.minutes()
        if minutes > 0:
            self.timer.start(int(minutes * 60_000))
        else:
            self.timer.stop()

    def document_replaced(self) -> None:
        """A new or opened document: it counts as changed only once painted on."""
        self._saved_changes = self._changes

    def mark_changed(self, _index: int = 0) -> None:
        """Counts undo-stack moves (an undo then a new stroke is a change too) and restored copies."""
        self._changes += 1

    def autosave_now(self) -> bool:
        """Start a background copy when the document changed since the last one; True when started."""
        w = self.window
        if self._pending:
            return False
        if w.history.is_clean():
            self.store.remove()  # the artist's file holds it all now (nothing to do when there is no copy)
            return False
        if self._changes == self._saved_changes:
            return False
        title, original, store = w.display_name(), w.path, self.store
        self._pending = True
        w.saver.save(
            SaveJob(
                w.doc,
                lambda copy, extras: store.write(copy, extras, title, original),
                w.generation.project_extras,
                lambda: self._changes,
                self._done,
                "Autosave",
            )
        )
        return True

    def _done(self, ok: bool, message: str, changes: object) -> None:
        self._pending = False
        if ok:
            self._saved_changes = int(changes)  # type: ignore[call-overload]
            self.saved.emit()
        else:
            self.window.show_message(
                f"Autosave failed: {message}. Your work is still open: save it where there is room."
            )

    def closed_normally(self) -> None:
        self.timer.stop()
        self.window.saver.wait()
        self.store.remove()
