"""The generation worker: one long-lived QObject on one QThread owns the backends (the local engine and
the ComfyUI servers used, generation/backend.Router).

The window sends immutable requests tagged with a job id and gets messages back tagged
with the same id; it ignores messages of jobs it no longer waits for. No widget is
touched here, and no torch call runs on the window's thread.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, SignalInstance, Slot

import sketchdiffuse.generation.tuning as tuning
from sketchdiffuse.generation.backend import Router
from sketchdiffuse.generation.engine import CancelToken, Engine
from sketchdiffuse.generation.errors import GenerationError, ModelError
from sketchdiffuse.generation.models import preload_libraries
from sketchdiffuse.generation.request import Cancelled, GenerationRequest, GenerationResult
from sketchdiffuse.generation.results_folder import save_result
from sketchdiffuse.io.errors import describe_os_error
from sketchdiffuse.session.jobs import Job, JobQueue

log = logging.getLogger(__name__)


class GenerationWorker(QObject):
    progress = Signal(int, object)  # job id, Progress
    preview = Signal(int, object)  # job id, H x W x 3 uint8
    loading = Signal(int, str, int, int)  # job id, stage, done, total
    finished = Signal(int, object)  # job id, GenerationResult
    cancelled = Signal(int)
    failed = Signal(int, str, bool)  # job id, message, whether choosing another model would help
    preloaded = Signal()

    def __init__(self, engine: Engine | None = None) -> None:
        super().__init__()
        self.backend = Router(engine)  # each request goes where its model is: this computer or a server
        self.tokens: dict[int, CancelToken] = {}
        self.results_dir: Path | None = None  # every kept result is written here as it arrives
        self._priority_set = False

    @property
    def engine(self) -> Engine:
        return self.backend.local

    def use_tokens(self, tokens: dict[str, str]) -> None:
        """The saved servers' access tokens (address -> token); replaced whole, so the worker thread reads
        either the old mapping or the new one."""
        self.backend.tokens = dict(tokens)

    def token_for(self, job: int) -> CancelToken:
        """Created on the window's thread before the job is queued, so a cancel is never lost."""
        return self.tokens.setdefault(job, CancelToken())

    @Slot()
    def preload(self) -> None:
        """Import the ML libraries now, while the artist is not painting yet (see models.preload_libraries)."""
        tuning.lower_generation_priority()  # before torch starts its compute threads, which inherit it
        try:
            preload_libraries()
        except Exception:  # the first generation reports any real problem with a full sentence
            log.warning("preloading the generation libraries failed:\n%s", traceback.format_exc())
        self.preloaded.emit()

    @Slot(int, object, bool)
    def run(self, job: int, request: GenerationRequest, keep: bool = True) -> None:
        token = self.token_for(job)
        try:
            outcome = self.backend.generate(
                request,
                on_progress=lambda p: self.progress.emit(job, p),
                on_preview=lambda image: self.preview.emit(job, image),
                cancel=token,
                on_load=lambda stage, done, total: self.loading.emit(job, stage, done, total),
            )
        except GenerationError as exc:
            self.failed.emit(job, str(exc), isinstance(exc, ModelError))
        except Exception as exc:  # never let the thread die silently
            log.error("generation failed:\n%s", traceback.format_exc())
            self.failed.emit(job, f"Generation failed unexpectedly: {type(exc).__name__}: {exc}", False)
        else:
            if isinstance(outcome, Cancelled):
                self.cancelled.emit(job)
            else:
                self.finished.emit(job, self._write(outcome) if keep else outcome)
        finally:
            self.tokens.pop(job, None)
            self._settle_priority()

    def _settle_priority(self) -> None:
        """A GPU machine kept this thread's priority at start; a model that runs on its CPU anyway should
        not compete with painting, so the thread is lowered once the device is known (from the next job on)."""
        model = self.backend.model
        if self._priority_set or model is None:
            return
        self._priority_set = True  # decided once: no device-node lookups after every job
        if tuning.gpu_machine():
            tuning.lower_generation_priority(model.device)

    def _write(self, result: GenerationResult) -> GenerationResult:
        """On disk before the window even sees it; a failed write is reported with the result, never instead."""
        if self.results_dir is None:
            return result
        try:
            return save_result(result, self.results_dir)
        except OSError as exc:
            log.error("could not write a result to %s: %s", self.results_dir, exc)
            note = (
                f"The result could not be written to the results folder ({describe_os_error(exc)}); "
                "save it before closing."
            )
            return replace(result, warnings=(*result.warnings, note))


class GenerationController(QObject):
    """Window-side driver of the worker. The policy (one job runs, a newer press replaces what waits and
    cancels what runs, live jobs never displace the artist's, batches) is the headless JobQueue's;
    this class only carries its decisions across the thread boundary."""

    request_job = Signal(int, object, bool)  # job id, request, whether the result is kept (not live)
    request_preload = Signal()
    started = Signal(int)
    progress = Signal(int, object)
    preview = Signal(int, object)
    loading = Signal(int, str, int, int)
    finished = Signal(int, object)
    cancelled = Signal(int)
    failed = Signal(int, str, bool)
    busyChanged = Signal(bool)

    def __init__(self, engine: Engine | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("sketchdiffuse-generation")
        self.worker = GenerationWorker(engine)
        self.worker.moveToThread(self.worker_thread)
        self.request_job.connect(self.worker.run)
        self.request_preload.connect(self.worker.preload)
        # Bound methods, never closures: PySide6 runs a closure in the emitting (worker) thread, a
        # method of this object in the window's thread, where the job bookkeeping lives.
        self.worker.progress.connect(self._on_progress)
        self.worker.preview.connect(self._on_preview)
        self.worker.loading.connect(self._on_loading)
        self.worker.finished.connect(self._on_finished)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.failed.connect(self._on_failed)
        self.worker_thread.start()
        self.queue = JobQueue(self._start, lambda job: self.worker.token_for(job).cancel(), self.busyChanged.emit)

    def _on_progress(self, job: int, progress: object) -> None:
        if self.queue.wants(job):
            self.progress.emit(job, progress)

    def _on_preview(self, job: int, image: object) -> None:
        if self.queue.wants(job):
            self.preview.emit(job, image)

    def _on_loading(self, job: int, stage: str, done: int, total: int) -> None:
        if self.queue.current is not None and self.queue.current.id == job:
            self.loading.emit(job, stage, done, total)

    @property
    def busy(self) -> bool:
        return self.queue.busy

    def is_live(self, job: int) -> bool:
        return self.queue.is_live(job)

    def submit(self, request: GenerationRequest, live: bool = False) -> bool:
        """Run ``request`` next; False (nothing queued) when a live request would displace the artist's own."""
        return self.queue.submit(request, live) is not None

    def submit_batch(self, request: GenerationRequest, count: int) -> list[Job]:
        return self.queue.submit_batch(request, count)

    def cancel(self) -> None:
        self.queue.cancel()

    def cancel_live(self) -> None:
        """Stop live mode's work; the artist's own job, running or waiting, goes on."""
        self.queue.cancel_live()

    def _start(self, job: Job) -> None:
        self.worker.token_for(job.id)  # made here, before the job is queued, so a cancel is never lost
        self.started.emit(job.id)
        self.request_job.emit(job.id, job.request, not job.live)

    def _on_finished(self, job: int, result: object) -> None:
        self._end(self.finished, job, result)

    def _on_cancelled(self, job: int) -> None:
        self._end(self.cancelled, job)

    def _on_failed(self, job: int, message: str, model_problem: bool) -> None:
        self._end(self.failed, job, message, model_problem)

    def _end(self, signal: SignalInstance, job: int, *details: object) -> None:
        """A job's last message (result, cancel or failure): passed on unless a newer request replaced it."""
        if self.queue.wants(job):
            signal.emit(job, *details)
        self.queue.ended(job)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Cancel what runs and stop the thread; True when it stopped in time.

        A model load cannot be interrupted. If one outlasts ``timeout_ms`` the controller moves to the
        application, away from the closing window, and the application waits for the thread before it
        exits, so no QThread is ever destroyed while running."""
        self.cancel()
        self.worker_thread.quit()
        if self.worker_thread.wait(timeout_ms):
            return True
        app = QCoreApplication.instance()
        if app is not None:
            self.setParent(app)
            _outliving.append(self)
            app.aboutToQuit.connect(self.worker_thread.wait)
            self.worker_thread.finished.connect(lambda: _outliving.remove(self) if self in _outliving else None)
        return False


_outliving: list[GenerationController] = []  # controllers whose thread still finishes a load
