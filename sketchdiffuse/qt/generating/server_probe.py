"""Test connection off the window's thread: asking a server (which may be far away or not answer at all)
must never freeze painting. One probe object lives as long as the generation UI; each answer arrives
as ``reported`` on the window's thread."""

from __future__ import annotations

import contextlib
import threading

from PySide6.QtCore import QObject, Signal

from sketchdiffuse.generation.comfy.connection import ConnectionReport, check_connection
from sketchdiffuse.generation.model_lists import ModelLists


class ServerProbe(QObject):
    reported = Signal(object)  # ConnectionReport

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models: dict[str, ModelLists] = {}  # the last lists each server sent, by address
        self.reported.connect(self._remember)

    def ask(self, url: str, token: str = "") -> None:
        """Check ``url`` in the background; the report comes as ``reported``."""
        threading.Thread(target=self._check, args=(url, token), daemon=True).start()

    def _check(self, url: str, token: str) -> None:
        report = check_connection(url, token)
        with contextlib.suppress(RuntimeError):  # the window closed while the server was being asked
            self.reported.emit(report)

    def _remember(self, report: ConnectionReport) -> None:
        if report.models is not None:
            self.models[report.url] = report.models
