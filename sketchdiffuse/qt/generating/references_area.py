"""The References area of the prompt panel: pictures whose look steers the results (IP-Adapter), each with
its weight. Images are dropped on it (files, or image data from a browser), added from a file, or sent from
a layer's or a history entry's menu ("Use as reference")."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sketchdiffuse.io.errors import ImageImportError
from sketchdiffuse.io.images import open_image
from sketchdiffuse.qt.convert import rgb_to_qimage
from sketchdiffuse.qt.drops import Drop, offers_images, read_drop
from sketchdiffuse.session.references import ReferencePicture, reference_from

ICON = 52


class ReferencesArea(QWidget):
    changed = Signal()
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.references: list[ReferencePicture] = []
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(ICON, ICON))
        self.list.setFixedHeight(ICON + 22)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setAcceptDrops(False)  # drops land on the area itself
        self.list.setToolTip(
            "Drop pictures here (or Shift+drop them on the canvas): their look steers the results "
            "through the IP-Adapter named in Generation settings"
        )
        self.add = QToolButton()
        self.add.setText("Add…")
        self.add.clicked.connect(self._choose)
        self.remove = QToolButton()
        self.remove.setText("Remove")
        self.remove.clicked.connect(self._remove)
        self.weight = QDoubleSpinBox()
        self.weight.setRange(0.0, 2.0)
        self.weight.setSingleStep(0.05)
        self.weight.setToolTip("How strongly the selected picture's look steers (0: not at all)")
        self.weight.valueChanged.connect(self._weight_changed)
        self.style_only = QCheckBox("Style only")
        self.style_only.setToolTip("Take the selected picture's colours and strokes, not its subject or layout")
        self.style_only.toggled.connect(self._style_changed)
        self.list.currentRowChanged.connect(self._selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addWidget(self.style_only)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Weight"))
        buttons.addWidget(self.weight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.setAcceptDrops(True)
        self._show()

    # -- the list ----------------------------------------------------------------------------
    def set_references(self, references: list[ReferencePicture]) -> None:
        self.references = list(references)
        self._show(0 if references else -1)
        self.changed.emit()

    def add_pixels(self, pixels: np.ndarray) -> None:
        """A picture (premultiplied RGBA or RGB) as a new reference."""
        self.references.append(reference_from(pixels))
        self._show(len(self.references) - 1)
        self.changed.emit()

    def add_file(self, source: str | bytes) -> bool:
        try:
            self.add_pixels(open_image(source).pixels)
        except ImageImportError as exc:
            self.message.emit(str(exc))
            return False
        return True

    def _choose(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add reference", "", "Images (*.png *.jpg *.jpeg *.webp)")
        for path in paths:
            self.add_file(path)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.references):
            del self.references[row]
            self._show(min(row, len(self.references) - 1))
            self.changed.emit()

    def _weight_changed(self, value: float) -> None:
        self._edit_selected("weight", value)

    def _style_changed(self, on: bool) -> None:
        self._edit_selected("style_only", on)

    def _edit_selected(self, field: str, value: object) -> None:
        """The selected reference's weight or style box from its control; its label follows."""
        row = self.list.currentRow()
        if 0 <= row < len(self.references) and getattr(self.references[row], field) != value:
            setattr(self.references[row], field, value)
            self.list.item(row).setText(self._label(self.references[row]))
            self.changed.emit()

    def _selected(self, row: int) -> None:
        if 0 <= row < len(self.references):
            with QSignalBlocker(self.weight), QSignalBlocker(self.style_only):
                self.weight.setValue(self.references[row].weight)
                self.style_only.setChecked(self.references[row].style_only)
        enabled = row >= 0
        self.remove.setEnabled(enabled)
        self.weight.setEnabled(enabled)
        self.style_only.setEnabled(enabled)

    @staticmethod
    def _label(ref: ReferencePicture) -> str:
        return f"{ref.weight:g} style" if ref.style_only else f"{ref.weight:g}"

    def _show(self, current: int = -1) -> None:
        self.list.clear()
        for ref in self.references:
            pixmap = QPixmap.fromImage(rgb_to_qimage(ref.image)).scaled(
                ICON, ICON, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            self.list.addItem(QListWidgetItem(QIcon(pixmap), self._label(ref)))
        self.list.setCurrentRow(current)
        self._selected(current)

    # -- drops -------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if offers_images(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.add_drop(read_drop(event.mimeData()))
        event.acceptProposedAction()

    def add_drop(self, drop: Drop) -> None:
        """What a drop carries as references (the canvas sends Shift+drops here too)."""
        for path in drop.files:
            self.add_file(path)
        if drop.image is not None:
            self.add_file(drop.image)
        if drop.urls:
            self.message.emit("Drop a picture from a file or a web page; web addresses are not fetched here.")
