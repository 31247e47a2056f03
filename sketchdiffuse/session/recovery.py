"""Crash recovery at start-up: offer each copy a crashed window left, until one is restored, the rest
are discarded, or the artist decides later."""

from __future__ import annotations

from collections.abc import Callable

from sketchdiffuse.io.recovery import Recoverable, RecoveryStore

RESTORE, DISCARD, LATER = "restore", "discard", "later"

# Shown the copies, newest first: the artist's choice and the copy it is about.
AskRecovery = Callable[[list[Recoverable]], tuple[str, Recoverable | None]]


def offer_recovery(store: RecoveryStore, ask: AskRecovery, restore: Callable[[Recoverable], bool]) -> None:
    while entries := store.recoverable():
        choice, entry = ask(entries)
        if entry is None or choice == LATER:
            return
        if choice == DISCARD:
            store.discard(entry)
            continue
        if restore(entry):
            store.discard(entry)  # the window autosaves it again under its own folder
        return
