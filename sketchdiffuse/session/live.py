"""Live mode's scheduling: when a finished stroke or a changed setting starts a live job.

A live job starts right after a change when the last one took under FAST_ENOUGH_S; otherwise the
scheduler waits DEBOUNCE_S for further strokes. The same drawing and settings are never submitted
twice; a change that arrives while the artist's own job runs waits for it. The clock is injectable,
so the policy is tested without timers; the window arms a timer for ``delay()`` and asks ``due()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

FAST_ENOUGH_S = 1.5
DEBOUNCE_S = 0.4


class LiveScheduler:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.enabled = False
        self.seed = 0  # fixed while live, so the picture changes only with the drawing
        self.last_seconds: float | None = None  # how long the last live job took (without a model load)
        self._due_at: float | None = None
        self._submitted: Hashable | None = None  # the state last submitted
        self._shown: Hashable | None = None  # the state whose result is shown
        self._waiting = False  # a change arrived while the artist's own job ran

    def enable(self, seed: int) -> None:
        self.enabled, self.seed = True, seed
        self._submitted = None
        self.changed()

    def disable(self) -> None:
        self.enabled = False
        self._due_at = None
        self._waiting = False

    def changed(self) -> None:
        """The drawing or the settings changed."""
        if self.enabled:
            self._due_at = self.clock() + self.delay()

    def delay(self) -> float:
        fast = self.last_seconds is not None and self.last_seconds < FAST_ENOUGH_S
        return 0.0 if fast else DEBOUNCE_S

    def due(self) -> bool:
        return self.enabled and self._due_at is not None and self.clock() >= self._due_at

    def should_submit(self, state: Hashable) -> bool:
        """Whether ``state`` (request and drawing) is new; the due time is used up either way."""
        self._due_at = None
        return self.enabled and state != self._submitted

    def submitted(self, state: Hashable) -> None:
        self._submitted = state

    def refused(self) -> None:
        """The artist's own job runs first; catch up when it ends."""
        self._waiting = True

    def shown(self, seconds: float) -> None:
        """A live result arrived: it is of the state last submitted (a newer one would have replaced it)."""
        self._shown = self._submitted
        self.last_seconds = seconds

    def failed(self) -> None:
        self._submitted = None  # the same state may be tried again once the problem is fixed

    def idle(self) -> bool:
        """The artist's job ended: True (and due again) when a change waited or the shown result is stale."""
        if self.enabled and (self._waiting or self._submitted != self._shown):
            self._waiting = False
            self._submitted = None
            self.changed()
            return True
        return False
