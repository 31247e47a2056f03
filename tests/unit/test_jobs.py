"""The job queue's policy, without a window or threads: the backend is two lists."""

from __future__ import annotations

import numpy as np
import pytest

from sketchdiffuse.generation import GenerationRequest, ModelRef
from sketchdiffuse.session.jobs import Job, JobQueue


class Backend:
    def __init__(self) -> None:
        self.started: list[Job] = []
        self.cancelled: list[int] = []
        self.busy: list[bool] = []

    def queue(self) -> JobQueue:
        return JobQueue(self.started.append, self.cancelled.append, self.busy.append)


def req(prompt: str = "a cat", seed: int = 1) -> GenerationRequest:
    return GenerationRequest(prompt, ModelRef.parse("some/model"), np.zeros((8, 8, 3), np.uint8), seed=seed)


def test_one_runs_and_a_new_press_replaces_the_waiting_and_cancels_the_running():
    b = Backend()
    q = b.queue()
    first = q.submit(req("one"))
    second = q.submit(req("two"))
    third = q.submit(req("three"))
    assert [j.request.prompt for j in b.started] == ["one"] and b.cancelled == [first.id]
    assert list(q.waiting) == [third] and second not in q.waiting
    assert not q.wants(first.id)  # being replaced: its progress is not shown
    assert q.ended(first.id) is False  # its result is stale
    assert q.current == third and q.wants(third.id) and b.started[-1] == third
    assert q.ended(third.id) is True and not q.busy
    assert b.busy == [True, False]


def test_a_live_request_never_displaces_the_artists_job():
    b = Backend()
    q = b.queue()
    mine = q.submit(req("mine"))
    assert q.submit(req("live"), live=True) is None and b.cancelled == []
    assert q.ended(mine.id)
    live = q.submit(req("live"), live=True)
    assert live is not None and q.running_live and q.is_live(live.id)
    newer_live = q.submit(req("live 2"), live=True)  # live replaces live
    assert b.cancelled == [live.id] and list(q.waiting) == [newer_live]
    artist = q.submit(req("mine again"))  # the artist's press replaces live work
    assert list(q.waiting) == [artist]
    assert q.submit(req("live 3"), live=True) is None  # the artist's job waits: live may not queue


def test_cancel_live_keeps_the_artists_jobs():
    b = Backend()
    q = b.queue()
    live = q.submit(req(), live=True)
    artist = q.submit(req("mine"))
    q.cancel_live()
    assert list(q.waiting) == [artist]  # the running live job was already being replaced
    assert q.ended(live.id) is False and q.current == artist
    q.cancel_live()
    assert b.cancelled == [live.id] and q.wants(artist.id)  # the artist's job runs on


def test_a_batch_delivers_every_variation_with_consecutive_seeds():
    b = Backend()
    q = b.queue()
    jobs = q.submit_batch(req(seed=2**32 - 2), 4)
    assert [j.request.seed for j in jobs] == [2**32 - 2, 2**32 - 1, 0, 1]
    assert [j.batch for j in jobs] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    shown = [q.ended(j.id) for j in jobs]
    assert shown == [True] * 4 and b.started == jobs and b.cancelled == [] and b.busy == [True, False]


def test_a_random_seeded_batch_knows_its_seeds_before_it_runs():
    q = Backend().queue()
    jobs = q.submit_batch(req(seed=-1), 3)
    first = jobs[0].request.seed
    assert 0 <= first <= 2**32 - 1
    assert [j.request.seed for j in jobs] == [(first + i) % 2**32 for i in range(3)]


def test_cancel_stops_everything_and_stale_messages_are_ignored():
    b = Backend()
    q = b.queue()
    jobs = q.submit_batch(req(), 3)
    q.cancel()
    assert not q.waiting and b.cancelled == [jobs[0].id]
    assert q.wants(jobs[0].id)  # progress until it stops, then its "cancelled" is shown
    assert q.ended(jobs[0].id) is True and not q.busy
    assert q.ended(999) is False


def test_a_batch_needs_at_least_one_picture():
    with pytest.raises(ValueError, match="at least one"):
        Backend().queue().submit_batch(req(), 0)


def test_cancel_after_a_second_press_still_reports_the_cancel():
    b = Backend()
    q = b.queue()
    first = q.submit(req("one"))
    q.submit(req("two"))  # replaces: the first is being stopped, the second waits
    q.cancel()  # the artist stops everything
    assert not q.waiting and q.ended(first.id) is True and not q.busy
