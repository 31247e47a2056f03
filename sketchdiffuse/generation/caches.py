"""Caches of the work a new job would repeat (the prompt's embeddings, the drawing's latents)."""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class OneEntryCache(Generic[K, V]):
    """Remembers the last value and the key it was made for; live mode repeats the same key."""

    def __init__(self) -> None:
        self._key: K | None = None
        self._value: V | None = None

    def get(self, key: K) -> V | None:
        return self._value if self._value is not None and self._key == key else None

    def put(self, key: K, value: V) -> None:
        self._key, self._value = key, value

    def clear(self) -> None:
        self._key = self._value = None
