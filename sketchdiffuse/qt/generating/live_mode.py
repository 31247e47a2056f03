"""Live mode: every finished stroke or layer change regenerates, with a fixed seed, into a pane
beside the canvas. Live results stay out of the history until the artist pins one.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from sketchdiffuse.generation.errors import GenerationError
from sketchdiffuse.generation.request import GenerationRequest, GenerationResult
from sketchdiffuse.qt.convert import rgb_to_qimage
from sketchdiffuse.session.live import LiveScheduler
from sketchdiffuse.session.requests import live_request
from sketchdiffuse.session.settings import RunSettings


class LiveHost(Protocol):
    """What live mode asks of the generation side of the window (GenerationUi provides it)."""

    def build_request(self, seed: int | None = None) -> GenerationRequest | None: ...
    def run_settings(self) -> RunSettings: ...
    def live_seed(self) -> int: ...
    def submit_live(self, request: GenerationRequest) -> bool: ...
    def cancel_live(self) -> None: ...
    def apply_result(self, result: GenerationResult) -> None: ...
    def pin_result(self, result: GenerationResult) -> None: ...
    def generate(self, seed: int | None = None) -> None: ...


class LivePane(QWidget):
    """The latest live result, scaled to the pane, with what to do with it."""

    applyRequested = Signal()
    pinRequested = Signal()
    fullSizeRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QLabel("Live mode is off. Turn it on (Ctrl+L) and draw: the picture follows each stroke.")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setWordWrap(True)
        self.image.setMinimumSize(120, 120)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Add the live result as a new layer (Ctrl+Shift+L)")
        self.pin_button = QPushButton("Pin")
        self.pin_button.setToolTip("Keep the live result in the history strip")
        self.full_button = QPushButton("Full size")
        self.full_button.setToolTip("Render the current drawing at full size with the live seed (Ctrl+Alt+Return)")
        self.apply_button.clicked.connect(self.applyRequested)
        self.pin_button.clicked.connect(self.pinRequested)
        self.full_button.clicked.connect(self.fullSizeRequested)
        buttons = QHBoxLayout()
        for button in (self.apply_button, self.pin_button, self.full_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.image, 1)
        self.setMinimumHeight(240)
        layout.addWidget(self.info)
        layout.addLayout(buttons)
        self._pixmap: QPixmap | None = None
        self.set_result_available(False)

    def set_result_available(self, available: bool) -> None:
        self.apply_button.setEnabled(available)
        self.pin_button.setEnabled(available)

    def show_image(self, rgb: np.ndarray) -> None:
        self._pixmap = QPixmap.fromImage(rgb_to_qimage(rgb))
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._pixmap is not None:
            size = self.image.size()
            self.image.setPixmap(
                self._pixmap.scaled(
                    size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )


class LiveMode(QObject):
    """Starts live jobs when the session's LiveScheduler says so; the generation controller runs them."""

    resultShown = Signal(object)  # GenerationResult

    def __init__(self, ui: LiveHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.pane = LivePane()
        self.scheduler = LiveScheduler()
        self.result: GenerationResult | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run_now)
        self.pane.applyRequested.connect(self.apply)
        self.pane.pinRequested.connect(self.pin)
        self.pane.fullSizeRequested.connect(self.render_full_size)

    @property
    def enabled(self) -> bool:
        return self.scheduler.enabled

    @property
    def pending(self) -> bool:
        """A change waits for the scheduler's timer (a start or a debounce)."""
        return self._timer.isActive()

    @property
    def seed(self) -> int:
        return self.scheduler.seed

    # -- switching ------------------------------------------------------------------------
    def set_enabled(self, on: bool) -> None:
        if on == self.enabled:
            return
        if on:
            # The seed stays fixed while live, so the picture changes only with the drawing.
            self.pane.info.setText(self._decoder_note())
            self.scheduler.enable(self.ui.live_seed())
            self._arm()
        else:
            self.scheduler.disable()
            self._timer.stop()
            self.ui.cancel_live()
            self.pane.info.setText("Live mode is off.")

    def _decoder_note(self) -> str:
        if self.ui.run_settings().tiny_autoencoder:
            return "Live: tiny autoencoder (fast, a little rougher than the final image)."
        return "Live: the model's full VAE. A tiny autoencoder (TAESD) in Generation Settings makes live mode faster."

    # -- scheduling -----------------------------------------------------------------------
    def changed(self) -> None:
        """The drawing or the settings changed: start now if live jobs are quick, else after a short pause."""
        self.scheduler.changed()
        self._arm()

    def _arm(self) -> None:
        if self.enabled:
            self._timer.start(round(self.scheduler.delay() * 1000))

    def controller_idle(self) -> None:
        """Catch up after the artist's own job: a change waited, or the live job shown is not the latest."""
        if self.scheduler.idle():
            self._arm()

    def request(self) -> GenerationRequest | None:
        request = self.ui.build_request(seed=self.seed)
        if request is None:
            return None
        try:
            return live_request(request, self.ui.run_settings())
        except GenerationError as exc:
            self.failed(str(exc))
            return None

    def run_now(self) -> bool:
        """Submit the current state unless it is the one already shown or being made; True when a job was queued."""
        if not self.enabled:
            return False
        request = self.request()
        if request is None:
            return False
        state = (request, request.drawing_digest, request.mask_digest, request.controls_digest)
        if not self.scheduler.should_submit(state):
            return False  # unchanged drawing and settings: nothing to do
        if not self.ui.submit_live(request):
            self.scheduler.refused()  # the artist's own generation runs first
            return False
        self.scheduler.submitted(state)
        return True

    # -- results --------------------------------------------------------------------------
    def finished(self, result: GenerationResult) -> None:
        seconds = result.timings.get("total", 0.0) - result.timings.get("load", 0.0)
        self.scheduler.shown(seconds)
        self.result = result
        self.pane.show_image(result.image)
        self.pane.set_result_available(True)
        used = ", ".join(result.shortcuts) or "no shortcuts"
        self.pane.info.setText(f"{seconds:.1f} s at {result.width} x {result.height} ({used}). {self._decoder_note()}")
        self.resultShown.emit(result)

    def failed(self, message: str) -> None:
        self.scheduler.failed()
        self.pane.info.setText(message)

    def apply(self) -> None:
        if self.result is not None:
            self.ui.apply_result(self.result)

    def pin(self) -> None:
        if self.result is not None:
            self.ui.pin_result(self.result)

    def render_full_size(self) -> None:
        """The current drawing at the normal work size with the live seed, into the history."""
        self.ui.generate(seed=self.seed)
