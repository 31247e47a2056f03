"""The history of results, newest first: a memory cap that spares pinned entries, and change
notifications the window's strip mirrors."""

from __future__ import annotations

import time
from collections.abc import Callable

from sketchdiffuse.generation.history_store import StoredEntry
from sketchdiffuse.generation.request import GenerationResult

MAX_ENTRIES = 60  # memory cap: the oldest unpinned results go first

# (what, row): "inserted", "removed" and "changed" name one row; "reset" (row -1) means everything.
HistoryListener = Callable[[str, int], None]


class HistoryModel:
    def __init__(self, cap: int = MAX_ENTRIES, clock: Callable[[], float] = time.time) -> None:
        self.cap = cap
        self.clock = clock
        self.entries: list[StoredEntry] = []
        self.listeners: list[HistoryListener] = []

    def add(
        self, result: GenerationResult, pinned: bool = False, created: float | None = None, png: bytes | None = None
    ) -> StoredEntry:
        entry = StoredEntry(result, pinned, self.clock() if created is None else created, png)
        self.entries.insert(0, entry)
        self._tell("inserted", 0)
        self._enforce_cap()
        return entry

    def remove(self, entry: StoredEntry) -> None:
        row = self.entries.index(entry)
        self.entries.pop(row)
        self._tell("removed", row)

    def set_pinned(self, entry: StoredEntry, pinned: bool) -> None:
        entry.pinned = pinned
        self._tell("changed", self.entries.index(entry))
        self._enforce_cap()  # unpinning may let the cap apply again

    def replace_all(self, entries: list[StoredEntry]) -> None:
        """A project's history (newest first), e.g. after Open; the cap applies."""
        self.entries = list(entries)
        self._tell("reset", -1)
        self._enforce_cap()

    def _enforce_cap(self) -> None:
        while len(self.entries) > self.cap:
            # Pinned results and the newest one (just made, not seen yet) are never dropped.
            unpinned = [e for e in self.entries[1:] if not e.pinned]
            if not unpinned:
                return
            self.remove(unpinned[-1])  # the oldest unpinned

    def _tell(self, what: str, row: int) -> None:
        for listener in list(self.listeners):
            listener(what, row)
