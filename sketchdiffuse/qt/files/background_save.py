"""Saving without freezing the window: a chunked snapshot on the window's thread, the write on another.

Jobs run one after another. The snapshot is copied a few rows per event-loop turn (see
document/snapshot.py), then encoding and the atomic write happen on a Python thread (zlib and
numpy release the GIL), and the outcome comes back to the window's thread as a signal.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

import sketchdiffuse.generation.tuning as tuning
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.snapshot import Snapshot
from sketchdiffuse.io.errors import describe_os_error

log = logging.getLogger(__name__)

Write = Callable[[Document, Mapping[str, bytes]], None]
Done = Callable[[bool, str, object], None]  # ok, message for the artist, what ``capture`` returned


@dataclass
class SaveJob:
    doc: Document
    write: Write
    extras: Callable[[], Mapping[str, bytes]]
    capture: Callable[[], object]  # read when the snapshot is complete, e.g. the undo index it matches
    done: Done
    what: str  # "Save" or "Autosave": names the action in error messages
    outcome: tuple[bool, str, object] | None = None  # set by the writing thread


class BackgroundSaver(QObject):
    _written = Signal(object)  # the SaveJob whose write ended; its outcome is on it

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: list[SaveJob] = []
        self._job: SaveJob | None = None
        self._snapshot: Snapshot | None = None
        self._thread: threading.Thread | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._step)
        self._written.connect(self._finish)

    @property
    def busy(self) -> bool:
        return self._job is not None or bool(self._queue)

    def save(self, job: SaveJob) -> None:
        self._queue.append(job)
        if self._job is None:
            self._next()

    def _next(self) -> None:
        if not self._queue:
            return
        self._job = self._queue.pop(0)
        self._snapshot = Snapshot(self._job.doc)
        self._timer.start()

    def _step(self) -> None:
        assert self._snapshot is not None
        if self._snapshot.step():
            self._timer.stop()
            self._start_write()

    def _start_write(self) -> None:
        job, snapshot = self._job, self._snapshot
        assert job is not None and snapshot is not None
        copy = snapshot.finish()
        self._snapshot = None
        captured = job.capture()
        extras = job.extras()

        def run() -> None:
            tuning.lower_background_priority()
            try:
                job.write(copy, extras)
            except OSError as exc:
                log.warning("%s failed: %s", job.what, exc)
                job.outcome = (False, describe_os_error(exc), captured)
            except Exception as exc:  # logged with its trace; the artist gets one sentence
                log.error("%s failed:\n%s", job.what, traceback.format_exc())
                job.outcome = (False, f"{type(exc).__name__}: {exc}", captured)
            else:
                job.outcome = (True, "", captured)
            self._written.emit(job)

        self._thread = threading.Thread(target=run, name=f"sketchdiffuse-{job.what.lower()}")
        self._thread.start()

    def _finish(self, job: SaveJob) -> None:
        if job is not self._job or job.outcome is None:
            return  # finished already by wait()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._job = None
        job.done(*job.outcome)
        self._next()

    def wait(self) -> None:
        """Finish every queued job now (closing the window, saving before a new document)."""
        while self._job is not None:
            job = self._job
            if self._snapshot is not None:
                self._timer.stop()
                self._start_write()
            if self._thread is not None:
                self._thread.join()
            self._finish(job)
