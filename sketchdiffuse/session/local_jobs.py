"""The job queue driving a backend (the local engine or a server) on the calling thread: for the command line, scripts and tests.
The window drives the same queue from a worker thread (qt/generating/worker.py)."""

from __future__ import annotations

from collections.abc import Callable

from sketchdiffuse.generation.backend import Backend
from sketchdiffuse.generation.engine import CancelToken
from sketchdiffuse.generation.request import GenerationRequest, GenerationResult
from sketchdiffuse.session.jobs import Job, JobQueue


class LocalJobs:
    def __init__(self, engine: Backend, delivered: Callable[[Job, GenerationResult], None]) -> None:
        self.engine = engine
        self.delivered = delivered
        self._tokens: dict[int, CancelToken] = {}
        self.queue = JobQueue(self._run, self._cancel)

    def generate(self, request: GenerationRequest) -> None:
        self.queue.submit(request)

    def generate_batch(self, request: GenerationRequest, count: int) -> None:
        self.queue.submit_batch(request, count)

    def _cancel(self, job_id: int) -> None:
        token = self._tokens.get(job_id)  # none once the job has ended
        if token is not None:
            token.cancel()

    def _run(self, job: Job) -> None:
        """Runs the job now; an engine error propagates to the caller after the queue has let the job go."""
        token = self._tokens[job.id] = CancelToken()
        outcome: object = None
        try:
            outcome = self.engine.generate(job.request, cancel=token)
            if self.queue.wants(job.id) and isinstance(outcome, GenerationResult):
                self.delivered(job, outcome)  # before the queue starts the next job of a batch
        finally:
            del self._tokens[job.id]
            self.queue.ended(job.id)
