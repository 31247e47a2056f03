"""History strip: results newest first; hover for parameters, click to compare, double-click to apply."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMenu, QWidget

from sketchdiffuse.generation.history_store import StoredEntry
from sketchdiffuse.generation.request import GenerationResult
from sketchdiffuse.qt.convert import rgb_to_qimage
from sketchdiffuse.session.history_model import HistoryModel

THUMB = 96


HistoryEntry = StoredEntry  # what the strip shows; the session's HistoryModel owns the list


def tooltip(entry: StoredEntry) -> str:
    r, res = entry.result.request, entry.result
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
    return f"<table>{body}</table>" + ("<i>Pinned</i>" if entry.pinned else "")


def _describe(item: QListWidgetItem, entry: HistoryEntry) -> None:
    item.setToolTip(tooltip(entry))
    item.setText("📌" if entry.pinned else "")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class HistoryStrip(QListWidget):
    previewRequested = Signal(object)
    applyRequested = Signal(object)
    reuseRequested = Signal(object)
    refineRequested = Signal(object)
    referenceRequested = Signal(object)  # its look should steer the next pictures
    saveRequested = Signal(object)

    def __init__(self, model: HistoryModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setMovement(QListWidget.Movement.Static)
        self.setFixedHeight(THUMB + 36)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.history = model or HistoryModel()
        self.history.listeners.append(self._model_changed)
        self._model_changed("reset", -1)
        self.itemClicked.connect(lambda item: self.previewRequested.emit(self._entry(item)))
        self.itemDoubleClicked.connect(lambda item: self.applyRequested.emit(self._entry(item)))
        self.currentRowChanged.connect(self._row_changed)
        self.customContextMenuRequested.connect(self._menu)

    @property
    def entries(self) -> list[HistoryEntry]:
        """Newest first, like the strip."""
        return self.history.entries

    def _entry(self, item: QListWidgetItem) -> HistoryEntry:
        return self.entries[self.row(item)]

    # The model decides; these forward the window's and the menu's requests to it.
    def add(
        self, result: GenerationResult, pinned: bool = False, created: float | None = None, png: bytes | None = None
    ) -> HistoryEntry:
        return self.history.add(result, pinned, created, png)

    def remove(self, entry: HistoryEntry) -> None:
        self.history.remove(entry)

    def set_pinned(self, entry: HistoryEntry, pinned: bool) -> None:
        self.history.set_pinned(entry, pinned)

    def clear_entries(self) -> None:
        self.history.replace_all([])

    def _item(self, entry: HistoryEntry) -> QListWidgetItem:

        image = rgb_to_qimage(entry.result.image).scaled(
            THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        item = QListWidgetItem(QIcon(QPixmap.fromImage(image)), "")
        _describe(item, entry)
        return item

    def _model_changed(self, what: str, row: int) -> None:
        if what == "inserted":
            self.insertItem(row, self._item(self.entries[row]))
        elif what == "removed":
            self.takeItem(row)
        elif what == "changed":
            _describe(self.item(row), self.entries[row])
        else:
            self.clear()
            for entry in self.entries:
                self.addItem(self._item(entry))

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

    def menu_for(self, entry: HistoryEntry) -> QMenu:
        """The context menu of one entry (its actions are what the tests trigger)."""
        menu = QMenu(self)
        actions: list[tuple[str, Callable[[], object]]] = [
            ("Apply as layer", lambda: self.applyRequested.emit(entry)),
            ("Reuse settings", lambda: self.reuseRequested.emit(entry)),
            ("Refine", lambda: self.refineRequested.emit(entry)),
            ("Use as reference", lambda: self.referenceRequested.emit(entry)),
            ("Copy image", lambda: QGuiApplication.clipboard().setImage(rgb_to_qimage(entry.result.image))),
            ("Save as PNG…", lambda: self.saveRequested.emit(entry)),
            ("Unpin" if entry.pinned else "Pin", lambda: self.set_pinned(entry, not entry.pinned)),
            ("Delete", lambda: self.remove(entry)),
        ]
        for text, slot in actions:
            action = QAction(text, menu)
            action.triggered.connect(lambda _=False, slot=slot: slot())
            menu.addAction(action)
        return menu

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is not None:
            self.menu_for(self._entry(item)).exec(self.viewport().mapToGlobal(pos))
