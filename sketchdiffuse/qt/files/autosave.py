"""Autosave and crash recovery for the window's document.

Every few minutes (2 by default, configurable, 0 = off) and right after a result is applied, a
modified document is copied in the background (qt/files/background_save.py) into this window's folder
under the application-data location: never over the artist's own file. A normal close removes
the folder; folders left by a crash are offered at the next start (qt/files/recovery_dialog.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from sketchdiffuse.document.document import Document
from sketchdiffuse.document.history import History
from sketchdiffuse.io.recovery import RecoveryStore
from sketchdiffuse.qt.files.background_save import BackgroundSaver, SaveJob

DEFAULT_MINUTES = 2.0


def data_folder(name: str) -> Path:
    """A folder under the platform's application-data location (created on first write)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".sketchdiffuse") / name


@dataclass(frozen=True)
class Autosaved:
    """What a copy is of, asked at each autosave: the document, its title and the artist's file."""

    doc: Document
    title: str
    original: Path | None


class Autosaver(QObject):
    """Copies a changed document into the recovery folder every few minutes, in the background.

    It gets the narrow things it uses: the undo history (is the document saved?), the background
    saver, and callables for the document, the project extras, the interval and status messages."""

    saved = Signal()

    def __init__(
        self,
        history: History,
        saver: BackgroundSaver,
        target: Callable[[], Autosaved],
        extras: Callable[[], dict[str, bytes]],
        minutes: Callable[[], float],
        notify: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.history, self.saver, self.target, self.extras = history, saver, target, extras
        self.minutes, self.notify = minutes, notify
        self.store = RecoveryStore(data_folder("recovery"))
        self._changes = 0
        self._saved_changes = 0
        self._pending = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.autosave_now)
        self.paused = False  # a free transform is open: the document is half changed
        self.apply_interval()

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
        if self._pending or self.paused:
            return False
        if self.history.is_clean():
            self.store.remove()  # the artist's file holds it all now (nothing to do when there is no copy)
            return False
        if self._changes == self._saved_changes:
            return False
        target, store = self.target(), self.store
        self._pending = True
        self.saver.save(
            SaveJob(
                target.doc,
                lambda copy, extras: store.write(copy, extras, target.title, target.original),
                self.extras,
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
            self.notify(f"Autosave failed: {message}. Your work is still open: save it where there is room.")

    def closed_normally(self) -> None:
        self.timer.stop()
        self.saver.wait()
        self.store.remove()
