"""A headless undo history bounded by memory; the window mirrors it in a QUndoStack."""

from __future__ import annotations

from collections.abc import Callable

from sketchdiffuse.document.commands import Command
from sketchdiffuse.document.document import Document

DEFAULT_LIMIT_BYTES = 512 * 1024 * 1024


def oldest_to_drop(sizes: list[int], limit_bytes: int) -> int:
    """How many of the oldest commands to drop to fit ``limit_bytes``; the newest is always kept."""
    total = sum(sizes)
    dropped = 0
    while total > limit_bytes and len(sizes) - dropped > 1:
        total -= sizes[dropped]
        dropped += 1
    return dropped


class History:
    """Runs commands on a document and undoes them; the oldest are dropped past ``limit_bytes``."""

    def __init__(self, doc: Document, limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        self.doc = doc
        self.limit_bytes = limit_bytes
        self._commands: list[Command] = []
        self._index = 0  # commands[:index] are done
        self._clean: int | None = 0  # None: the saved state was dropped or branched away from
        self.listeners: list[Callable[[], None]] = []

    # -- state -------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        return self._index

    def __len__(self) -> int:
        return len(self._commands)

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    def undo_text(self) -> str:
        return self._commands[self._index - 1].text if self.can_undo() else ""

    def redo_text(self) -> str:
        return self._commands[self._index].text if self.can_redo() else ""

    def is_clean(self) -> bool:
        return self._clean == self._index

    def set_clean(self) -> None:
        self._clean = self._index
        self._changed()

    def memory_bytes(self) -> int:
        return sum(c.size_bytes() for c in self._commands)

    # -- actions -----------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        """Run ``command`` and record it; a redo branch past the current point is dropped."""
        command.do(self.doc)
        del self._commands[self._index :]
        if self._clean is not None and self._clean > self._index:
            self._clean = None
        previous = self._commands[-1] if self._commands else None
        if previous is not None and self._clean != self._index and previous.merge(command):
            self._changed()
            return
        self._commands.append(command)
        self._index += 1
        self._trim()
        self._changed()

    def undo(self) -> None:
        if self.can_undo():
            self._index -= 1
            self._commands[self._index].undo(self.doc)
            self._changed()

    def redo(self) -> None:
        if self.can_redo():
            self._commands[self._index].do(self.doc)
            self._index += 1
            self._changed()

    def clear(self) -> None:
        self._commands.clear()
        self._index = 0
        self._clean = 0 if not self.doc.modified else None
        self._changed()

    def _trim(self) -> None:
        dropped = oldest_to_drop([c.size_bytes() for c in self._commands], self.limit_bytes)
        if dropped:
            del self._commands[:dropped]
            self._index -= dropped
            if self._clean is not None:
                self._clean = self._clean - dropped if self._clean >= dropped else None

    def _changed(self) -> None:
        self.doc.modified = not self.is_clean()
        for listener in list(self.listeners):
            listener()
