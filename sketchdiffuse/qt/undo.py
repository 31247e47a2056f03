"""Adapts the one undo history (``document/history.py``) to Qt: change signals and the
Undo / Redo actions with the command's name in their text. It keeps no commands of its own."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from sketchdiffuse.document.history import History


class HistorySignals(QObject):
    changed = Signal()  # any push, undo, redo, merge, trim or save point
    edited = Signal()  # the document changed through the history (not a save point or a trim)
    cleanChanged = Signal(bool)

    def __init__(self, history: History, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self._clean = history.is_clean()
        self._edits = history.edits
        history.listeners.append(self._on_change)

    def _on_change(self) -> None:
        self.changed.emit()
        if self.history.edits != self._edits:
            self._edits = self.history.edits
            self.edited.emit()
        clean = self.history.is_clean()
        if clean != self._clean:
            self._clean = clean
            self.cleanChanged.emit(clean)

    def undo_action(self, parent: QObject) -> QAction:
        return self._action(parent, "&Undo", self.history.undo, self.history.can_undo, self.history.undo_text)

    def redo_action(self, parent: QObject) -> QAction:
        return self._action(parent, "&Redo", self.history.redo, self.history.can_redo, self.history.redo_text)

    def _action(self, parent: QObject, label: str, run, enabled, text) -> QAction:  # noqa: ANN001
        action = QAction(label, parent)
        action.triggered.connect(run)

        def update() -> None:
            action.setEnabled(enabled())
            action.setText(f"{label} {text()}".rstrip())

        self.changed.connect(update)
        update()
        return action
