"""The one undo history: runs commands, groups them into macros, merges slider drags, keeps
the saved (clean) point and bounds itself by memory. The window only adapts it (menu texts,
signals); nothing else keeps a second list of commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sketchdiffuse.document.commands import Command, Macro
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
    """Commands ``[:index]`` are in effect; ``[index:]`` can be redone until the next push."""

    def __init__(self, doc: Document, limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        self.doc = doc
        self.limit_bytes = limit_bytes
        self._commands: list[Command] = []
        self._sizes: list[int] = []  # measured once per record (a size can cost a pass over pixels)
        self._index = 0
        self._clean: int | None = 0  # None: the saved state was trimmed away or branched away from
        self._open: list[Macro] = []  # macros being recorded, outermost first
        self.edits = 0  # counts every change of the document through this history (autosave, live mode)
        self.listeners: list[Callable[[], None]] = []

    # -- state -------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        return self._index

    def __len__(self) -> int:
        return len(self._commands)

    def can_undo(self) -> bool:
        return self._index > 0 and not self._open

    def can_redo(self) -> bool:
        return self._index < len(self._commands) and not self._open

    def undo_text(self) -> str:
        return self._commands[self._index - 1].text if self.can_undo() else ""

    def redo_text(self) -> str:
        return self._commands[self._index].text if self.can_redo() else ""

    def texts(self) -> list[str]:
        return [c.text for c in self._commands]

    def is_clean(self) -> bool:
        return self._clean == self._index and not self._open

    def set_clean(self) -> None:
        """The document now equals what is on disk (after a save or an open)."""
        self._clean = self._index
        self._changed()

    def set_unsaved(self) -> None:
        """No point of this history equals the file on disk (e.g. a restored autosave copy)."""
        self._clean = None
        self._changed()

    def memory_bytes(self) -> int:
        return sum(self._sizes)

    # -- actions -----------------------------------------------------------------------------
    def push(self, command: Command | None) -> None:
        """Run ``command`` and record it; the redo branch is dropped. None (an empty stroke) does nothing."""
        if command is None:
            return
        command.do(self.doc)
        if self._open:
            self._open[-1].commands.append(command)
            return
        self._record(command)

    def begin_macro(self, text: str) -> None:
        """Commands pushed until the matching ``end_macro`` undo and redo as one step."""
        self._open.append(Macro(text))

    def end_macro(self) -> None:
        macro = self._open.pop()
        if not macro.commands:
            return
        if self._open:
            self._open[-1].commands.append(macro)
        else:
            self._record(macro)

    @contextmanager
    def macro(self, text: str) -> Iterator[None]:
        self.begin_macro(text)
        try:
            yield
        finally:
            self.end_macro()

    def undo(self) -> None:
        if self.can_undo():
            self._index -= 1
            self._commands[self._index].undo(self.doc)
            self.edits += 1
            self._changed()

    def redo(self) -> None:
        if self.can_redo():
            self._commands[self._index].do(self.doc)
            self._index += 1
            self.edits += 1
            self._changed()

    def reset(self, doc: Document | None = None) -> None:
        """Forget every command (New, Open); the document as it is now is the clean state."""
        if doc is not None:
            self.doc = doc
        self._commands.clear()
        self._sizes.clear()
        self._open.clear()
        self._index = 0
        self._clean = 0
        self._changed()

    def trim(self) -> None:
        """Drop the oldest commands until the history fits ``limit_bytes`` (the newest always stays)."""
        dropped = oldest_to_drop(self._sizes, self.limit_bytes)
        if not dropped:
            return
        del self._commands[:dropped]
        del self._sizes[:dropped]
        self._index -= dropped
        if self._clean is not None:
            self._clean = self._clean - dropped if self._clean >= dropped else None
        self._changed()

    # -- internals ---------------------------------------------------------------------------
    def _record(self, command: Command) -> None:
        del self._commands[self._index :]
        del self._sizes[self._index :]
        if self._clean is not None and self._clean > self._index:
            self._clean = None  # the saved state was on the branch just dropped
        previous = self._commands[-1] if self._commands else None
        if previous is not None and self._clean != self._index and previous.merge(command):
            self._sizes[-1] = previous.size_bytes()
        else:
            self._commands.append(command)
            self._sizes.append(command.size_bytes())
            self._index += 1
        self.edits += 1
        self._changed()
        self.trim()

    def _changed(self) -> None:
        self.doc.modified = not self.is_clean()
        for listener in list(self.listeners):
            listener()
