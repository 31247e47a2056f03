"""The job queue: which generation runs, which wait, and whose messages still matter.

One job runs at a time. A new press of Generate replaces everything that waits and cancels the
running job at its next step, so repeated presses never pile up. A batch queues N variations with
consecutive seeds, each delivered as it is done. Live mode's jobs never displace the artist's own:
a live request is refused while the artist's job runs or waits. The queue drives a backend through
two callables (start a job, cancel a job) and is told when a job ends; it has no threads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sketchdiffuse.generation.limits import MAX_SEED, resolve_seed
from sketchdiffuse.generation.request import GenerationRequest


@dataclass(frozen=True)
class Job:
    id: int
    request: GenerationRequest
    live: bool = False
    batch: tuple[int, int] | None = None  # (position from 1, size) within a batch


@dataclass
class JobQueue:
    start: Callable[[Job], None]  # hands a job to the backend
    cancel_job: Callable[[int], None]  # asks the backend to stop a job at its next step
    on_busy: Callable[[bool], None] = lambda busy: None
    current: Job | None = None
    waiting: deque[Job] = field(default_factory=deque)
    _superseded: set[int] = field(default_factory=set)  # cancelled by a newer request: their messages are stale
    _next_id: int = 0
    _told_busy: bool = False

    # -- state -------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.current is not None

    @property
    def running_live(self) -> bool:
        return self.current is not None and self.current.live

    def is_live(self, job_id: int) -> bool:
        return self.current is not None and self.current.id == job_id and self.current.live

    def wants(self, job_id: int) -> bool:
        """Whether progress and previews of ``job_id`` should be shown (it runs and is not being replaced)."""
        return self.current is not None and self.current.id == job_id and job_id not in self._superseded

    # -- artist's actions --------------------------------------------------------------------
    def submit(self, request: GenerationRequest, live: bool = False) -> Job | None:
        """Run ``request`` next, replacing whatever waits; None when a live request would displace the artist's."""
        if live and not self._live_may_run():
            return None
        return self._replace_with([request], live)[0]

    def submit_batch(self, request: GenerationRequest, count: int) -> list[Job]:
        """``count`` variations with consecutive seeds (a random first seed is drawn now, so all are known)."""
        if count < 1:
            raise ValueError("A batch has at least one picture.")
        first = resolve_seed(request.seed)
        requests = [request.with_(seed=(first + i) % (MAX_SEED + 1)) for i in range(count)]
        return self._replace_with(requests, live=False)

    def cancel(self) -> None:
        """Stop everything: the waiting jobs are dropped and the running one stops at its next step."""
        self.waiting.clear()
        if self.current is not None:
            # Its end is shown ("Cancelled"), even if a press before this one was replacing it.
            self._superseded.discard(self.current.id)
            self.cancel_job(self.current.id)

    def cancel_live(self) -> None:
        """Stop live mode's work; the artist's own jobs, running or waiting, go on."""
        self.waiting = deque(job for job in self.waiting if not job.live)
        if self.running_live and not self.waiting:
            assert self.current is not None
            self.cancel_job(self.current.id)

    # -- the backend's answers ---------------------------------------------------------------
    def ended(self, job_id: int) -> bool:
        """A job's last message (result, cancel or failure) arrived; True when it should be shown."""
        if self.current is None or self.current.id != job_id:
            return False  # stale: a job this queue no longer tracks
        show = job_id not in self._superseded
        self._superseded.discard(job_id)
        self.current = None
        if self.waiting:
            self._run(self.waiting.popleft())
        else:
            self._told_busy = False
            self.on_busy(False)
        return show

    # -- internals ---------------------------------------------------------------------------
    def _live_may_run(self) -> bool:
        artists_running = self.current is not None and not self.current.live
        return not artists_running and all(job.live for job in self.waiting)

    def _replace_with(self, requests: list[GenerationRequest], live: bool) -> list[Job]:
        self.waiting.clear()
        jobs = []
        for i, request in enumerate(requests):
            self._next_id += 1
            batch = (i + 1, len(requests)) if len(requests) > 1 else None
            jobs.append(Job(self._next_id, request, live, batch))
        if self.current is not None:
            self._supersede(self.current)
            self.waiting.extend(jobs)
        else:
            self.waiting.extend(jobs[1:])
            self._run(jobs[0])
        return jobs

    def _supersede(self, job: Job) -> None:
        if job.id not in self._superseded:  # asked once; the backend stops it at its next step
            self._superseded.add(job.id)
            self.cancel_job(job.id)

    def _run(self, job: Job) -> None:
        self.current = job
        if not self._told_busy:
            self._told_busy = True
            self.on_busy(True)
        self.start(job)
