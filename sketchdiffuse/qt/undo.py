"""The window's undo stack: a QUndoStack of adapters around the document's plain commands.

QUndoStack only bounds its history by count; sketchdiffuse bounds it by memory (a stroke on a
big canvas costs far more than a rename). When a push goes over the budget the oldest
commands are dropped by rebuilding the stack from the ones kept, which are already applied.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QWidget

from sketchdiffuse.document.commands import Command, SetLayerProperty
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.history import DEFAULT_LIMIT_BYTES, oldest_to_drop

_MERGE_ID = 1


class DocumentCommand(QUndoCommand):
    def __init__(self, doc: Document, command: Command, applied: bool = False) -> None:
        super().__init__(command.text)
        self.doc = doc
        self.command = command
        self._skip_redo = applied  # pushed again after a trim: already in effect
        self.size = 0  # bytes held, measured once the command has run

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self.command.do(self.doc)

    def undo(self) -> None:
        self.command.undo(self.doc)

    def id(self) -> int:
        return _MERGE_ID if isinstance(self.command, SetLayerProperty) else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if isinstance(other, DocumentCommand) and self.command.merge(other.command):
            self.setText(self.command.text)
            return True
        return False


class UndoStack(QUndoStack):
    def __init__(self, doc: Document, parent: QWidget | None = None, limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        super().__init__(parent)
        self.doc = doc
        self.limit_bytes = limit_bytes
        self._commands: list[DocumentCommand] = []  # mirrors the stack, oldest first
        self.cleanChanged.connect(self._sync_modified)
        self.indexChanged.connect(self._sync_modified)

    def reset(self, doc: Document) -> None:
        """Start a fresh history for another document (New, Open)."""
        self.clear()
        self._commands = []
        self.doc = doc
        self.setClean()
        self._sync_modified()

    def run(self, command: Command | None) -> None:
        """Apply ``command`` and make it undoable (None, e.g. an empty stroke, does nothing)."""
        if command is None:
            return
        adapter = DocumentCommand(self.doc, command)
        del self._commands[self.index() :]  # push drops the redo branch
        index = self.index()
        self.push(adapter)
        if self.index() > index:  # not merged into the previous command
            adapter.size = command.size_bytes()
            self._commands.append(adapter)
        self._trim()

    def memory_bytes(self) -> int:
        return sum(c.size for c in self._commands)

    def _trim(self) -> None:
        drop = oldest_to_drop([c.size for c in self._commands], self.limit_bytes)
        if not drop:
            return
        clean = self.cleanIndex()
        kept = self._commands[drop:]
        self.clear()
        self._commands = []
        for i, adapter in enumerate(kept):
            if clean - drop == i:
                self.setClean()
            replay = DocumentCommand(self.doc, adapter.command, applied=True)
            replay.size = adapter.size
            self.push(replay)
            self._commands.append(replay)
        if clean - drop == len(kept):
            self.setClean()
        self._sync_modified()

    def _sync_modified(self) -> None:
        self.doc.modified = not self.isClean()
