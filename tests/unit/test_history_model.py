"""The history of results: newest first, a cap that spares pins, notifications for the strip."""

from __future__ import annotations

import numpy as np

from sketchdiffuse.generation import GenerationRequest, GenerationResult, ModelRef
from sketchdiffuse.generation.request import ModelIdentity
from sketchdiffuse.session.history_model import HistoryModel


def result(seed: int) -> GenerationResult:
    request = GenerationRequest("a cat", ModelRef.parse("some/model"), seed=seed)
    image = np.zeros((4, 4, 3), np.uint8)
    return GenerationResult(image, request, seed, 2, 2, {}, ModelIdentity("m", "", "SD 1.x"), 4, 4)


def test_newest_first_with_the_clock_given():
    ticks = iter([10.0, 20.0])
    model = HistoryModel(clock=lambda: next(ticks))
    model.add(result(1))
    model.add(result(2))
    assert [e.result.seed for e in model.entries] == [2, 1]
    assert [e.created for e in model.entries] == [20.0, 10.0]


def test_the_cap_drops_the_oldest_unpinned_and_never_a_pinned_one():
    model = HistoryModel(cap=3)
    events: list[tuple[str, int]] = []
    model.listeners.append(lambda what, row: events.append((what, row)))
    oldest = model.add(result(0))
    model.set_pinned(oldest, True)
    for seed in (1, 2, 3):
        model.add(result(seed))
    assert [e.result.seed for e in model.entries] == [3, 2, 0]  # 1 was the oldest unpinned
    assert events[-1] == ("removed", 2)  # row of 1 in [3, 2, 1, 0]
    for entry in model.entries:
        model.set_pinned(entry, True)
    model.add(result(4))
    assert len(model.entries) == 4  # the rest pinned: over the cap rather than lose a pin or the newest
    model.set_pinned(model.entries[1], False)  # unpinning lets the cap apply again
    assert [e.result.seed for e in model.entries] == [4, 2, 0]


def test_replacing_all_entries_resets_and_caps():
    model = HistoryModel(cap=2)
    events: list[tuple[str, int]] = []
    model.listeners.append(lambda what, row: events.append((what, row)))
    other = HistoryModel()
    entries = [other.add(result(s)) for s in (1, 2, 3)][::-1]
    model.replace_all(entries)
    assert [e.result.seed for e in model.entries] == [3, 2] and events[0] == ("reset", -1)
