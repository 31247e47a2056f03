"""History strip: results newest first; hover for parameters, click to compare, double-click to apply."""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMenu, QWidget

from sketchdiffuse.generation.history_store import StoredEntry
from sketchdiffuse.generation.request import GenerationResult
from sketchdiffuse.qt.convert import rgb_to_qimage

THUMB = 96
MAX_ENTRIES = 60  # memory cap: the oldest unpinned results go first


def layer_name_for(result: GenerationResult) -> str:
    """A layer made from a result is named from its prompt and seed."""
    words = " ".join(result.request.prompt.split()[:6]) or "Generated"
    return f"{words} ({result.seed})"


class HistoryEntry(StoredEntry):
    """A stored result plus what the strip shows of it."""

    def tooltip(self) -> str:
        r, res = self.result.request, self.result
        h, w = res.image.shape[:2]
        rows = [
            ("Prompt", r.prompt or "(none)"),
            ("Negative", r.negative_prompt or "(none)"),
            ("Seed", str(res.seed)),
            ("Strength", f"{round(r.strength * 100)} %"),
            ("Steps", f"{r.steps} ({res.steps_run} run)"),
            ("Guidance", f"{r.guidance_scale:g}"),
            ("Sampler", r.scheduler),
            ("Model", f"{res.model.name} [{res.model.short_hash}]"),
            ("Size", f"{w} × {h}"),
            ("Time", f"{res.timings.get('total', 0.0):.1f} s"),
        ]
        body = "".join(f"<tr><td><b>{k}</b></td><td>{_escape(v)}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>" + ("<i>Pinned</i>" if self.pinned else "")


def _describe(item: QListWidgetItem, entry: HistoryEntry) -> None:
    item.setToolTip(entry.tooltip())
    item.setText("📌" if entry.pinned else "")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class HistoryStrip(QListWidget):
    previewRequested = Signal(object)
    applyRequested = Signal(object)
    reuseRequested = Signal(object)
    saveRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setMovement(QListWidget.Movement.Static)
        self.setFixedHeight(THUMB + 36)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.entries: list[HistoryEntry] = []  # newest first, like the strip
        self.itemClicked.connect(lambda item: self.previewRequested.emit(self._entry(item)))
        self.itemDoubleClicked.connect(lambda item: self.applyRequested.emit(self._entry(item)))
        self.currentRowChanged.connect(self._row_changed)
        self.customContextMenuRequested.connect(self._menu)

    def _entry(self, item: QListWidgetItem) -> HistoryEntry:
        return self.entries[self.row(item)]

    def add(
        self, result: GenerationResult, pinned: bool = False, created: float | None = None, png: bytes | None = None
    ) -> HistoryEntry:
        from PySide6.QtGui import QIcon, QPixmap

        entry = HistoryEntry(result, pinned, time.time() if created is None else created, png)
        self.entries.insert(0, entry)
        image = rgb_to_qimage(result.image).scaled(
            THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        item = QListWidgetItem(QIcon(QPixmap.fromImage(image)), "")
        _describe(item, entry)
        self.insertItem(0, item)
        self._enforce_cap()
        return entry

    def clear_entries(self) -> None:
        self.entries.clear()
        self.clear()

    def remove(self, entry: HistoryEntry) -> None:
        row = self.entries.index(entry)
        self.entries.pop(row)
        self.takeItem(row)

    def _enforce_cap(self) -> None:
        while len(self.entries) > MAX_ENTRIES:
            unpinned = [e for e in self.entries if not e.pinned]
            if not unpinned:
                return
            self.remove(unpinned[-1])  # the oldest unpinned

    def set_pinned(self, entry: HistoryEntry, pinned: bool) -> None:
        entry.pinned = pinned
        _describe(self.item(self.entries.index(entry)), entry)

    def _row_changed(self, row: int) -> None:
        if 0 <= row < len(self.entries) and self.hasFocus():
            self.previewRequested.emit(self.entries[row])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self.applyRequested.emit(self.entries[self.currentRow()])
            return
        if event.key() == Qt.Key.Key_Escape:
            self.clearSelection()
            self.previewRequested.emit(None)
        super().keyPressEvent(event)

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        entry = self._entry(item)
        menu = QMenu(self)
        actions: list[tuple[str, object]] = [
            ("Apply as layer", lambda: self.applyRequested.emit(entry)),
            ("Reuse settings", lambda: self.reuseRequested.emit(entry)),
            ("Copy image", lambda: QGuiApplication.clipboard().setImage(rgb_to_qimage(entry.result.image))),
            ("Save as PNG…", lambda: self.saveRequested.emit(entry)),
            ("Unpin" if entry.pinned else "Pin", lambda: self.set_pinned(entry, not entry.pinned)),
            ("Delete", lambda: self.remove(entry)),
        ]
        for text, slot in actions:
            action = QAction(text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.exec(self.viewport().mapToGlobal(pos))
