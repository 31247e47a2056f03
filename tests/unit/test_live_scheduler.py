"""Live mode's timing policy on a hand-driven clock."""

from __future__ import annotations

from sketchdiffuse.session.live import DEBOUNCE_S, LiveScheduler


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_slow_jobs_wait_for_more_strokes_fast_ones_start_at_once():
    clock = Clock()
    live = LiveScheduler(clock)
    live.enable(seed=7)
    assert not live.due()  # nothing measured yet: wait for the stroke after this one
    clock.now += DEBOUNCE_S / 2
    live.changed()  # another stroke restarts the wait
    clock.now += DEBOUNCE_S * 0.9
    assert not live.due()
    clock.now += DEBOUNCE_S * 0.2
    assert live.due()
    assert live.should_submit("state 1")
    live.submitted("state 1")
    live.shown(seconds=0.8)
    live.changed()
    assert live.delay() == 0.0 and live.due()  # quick live jobs start right after the stroke


def test_the_same_state_is_never_submitted_twice():
    live = LiveScheduler(Clock())
    live.enable(seed=1)
    assert live.should_submit("a")
    live.submitted("a")
    assert not live.should_submit("a") and live.should_submit("b")
    live.failed()
    assert live.should_submit("a")  # after a failure the same state may be tried again


def test_a_change_during_the_artists_job_catches_up_when_it_ends():
    clock = Clock()
    live = LiveScheduler(clock)
    live.enable(seed=1)
    live.submitted("a")
    live.shown(seconds=3.0)
    assert not live.idle()  # nothing waited, the shown result is current
    live.refused()
    assert live.idle()
    clock.now += DEBOUNCE_S
    assert live.due() and live.should_submit("a")  # forgotten: submitted again after the artist's job


def test_disabled_never_runs():
    live = LiveScheduler(Clock())
    live.changed()
    assert not live.due() and not live.should_submit("x") and not live.idle()
    live.enable(seed=3)
    live.disable()
    assert not live.due()
