"""Layer panel: a Qt item model over the document's layers, top layer first; every edit is undoable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.control_role import CONTROL_KINDS, ControlRole
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.history import History
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.generation.controls import ControlKind
from sketchdiffuse.qt.convert import to_qimage
from sketchdiffuse.qt.icons import icon
from sketchdiffuse.qt.painting.control_role_dialog import SUGGESTED, ControlRoleDialog

THUMB = 40
_MIME = "application/x-sketchdiffuse-layer-row"
Index = QModelIndex | QPersistentModelIndex


def thumbnail(layer: Layer, size: int = THUMB) -> QImage:
    """A small preview; sampled with a stride first so big layers stay cheap."""
    h, w = layer.pixels.shape[:2]
    step = max(1, max(h, w) // (size * 2))
    small = np.ascontiguousarray(layer.pixels[::step, ::step])
    image = to_qimage(small).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    framed = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    framed.fill(QColor(60, 60, 66))
    p = QPainter(framed)
    x, y = (size - image.width()) // 2, (size - image.height()) // 2
    # Checks show where the layer is transparent.
    p.fillRect(x, y, image.width(), image.height(), QBrush(_checks()))
    p.drawImage(x, y, image)
    p.end()
    return framed


@cache
def _checks() -> QPixmap:
    pixmap = QPixmap(8, 8)
    pixmap.fill(QColor(200, 200, 200))
    p = QPainter(pixmap)
    p.fillRect(0, 0, 4, 4, QColor(255, 255, 255))
    p.fillRect(4, 4, 4, 4, QColor(255, 255, 255))
    p.end()
    return pixmap


def _rows(doc: Document) -> list[tuple]:
    """What each row shows, top first; uid first."""
    return [
        (layer.uid, layer.name, layer.visible, layer.opacity, layer.blend_mode, layer.locked, layer.control)
        for layer in reversed(doc.layers)
    ]


class LayerModel(QAbstractListModel):
    """Row 0 is the top layer. Structural changes reset the model; it follows undo and menus alike."""

    layersChanged = Signal()  # after the model followed any change of the stack or the active layer

    def __init__(self, doc: Document, history: History, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.history = doc, history
        self._thumbs: dict[int, tuple[tuple[int, int], QPixmap]] = {}  # uid: pixels version, thumbnail
        self._shown: list[tuple] = []  # what the rows show, top first (_rows)
        self._thumb_timer = QTimer(self)
        self._thumb_timer.setSingleShot(True)
        self._thumb_timer.setInterval(300)  # thumbnails follow strokes without costing each dab
        self._thumb_timer.timeout.connect(self._refresh_thumbnails)
        self.attach(doc, history)

    def attach(self, doc: Document, history: History) -> None:
        self.beginResetModel()
        self.doc.remove_listeners(self)  # also when the same document comes again: one callback, not two
        self.doc, self.history = doc, history
        self._thumbs.clear()
        self._shown = _rows(doc)
        doc.add_layers_listener(self._on_layers)
        doc.add_dirty_listener(self._on_dirty)
        self.endResetModel()

    def layer_index(self, row: int) -> int:
        return len(self.doc.layers) - 1 - row

    def row_of(self, layer_index: int) -> int:
        return len(self.doc.layers) - 1 - layer_index

    def _on_layers(self) -> None:
        rows = _rows(self.doc)
        if [row[0] for row in rows] == [row[0] for row in self._shown]:
            # The same layers: only rows whose properties changed repaint (a slider drag changes one).
            for i, (now, before) in enumerate(zip(rows, self._shown, strict=True)):
                if now != before:
                    self.dataChanged.emit(self.index(i), self.index(i))
            self._shown = rows
        else:
            self.beginResetModel()
            self._shown = rows
            uids = {row[0] for row in rows}
            self._thumbs = {uid: kept for uid, kept in self._thumbs.items() if uid in uids}
            self.endResetModel()
        self.layersChanged.emit()

    def _on_dirty(self, rect: Rect) -> None:
        self._thumb_timer.start()

    def _refresh_thumbnails(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1), [Qt.ItemDataRole.DecorationRole])

    # -- model ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.doc.layers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        layer = self.doc.layers[self.layer_index(index.row())]
        if role == Qt.ItemDataRole.DisplayRole and layer.control is not None:
            return f"{layer.name}  \u25c6 {ControlKind(layer.control.kind).label}"  # a control layer says so
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return layer.name
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole:
            version = self.doc.pixels_version(layer)
            kept = self._thumbs.get(layer.uid)
            if kept is None or kept[0] != version:
                kept = self._thumbs[layer.uid] = (version, QPixmap.fromImage(thumbnail(layer)))
            return kept[1]
        if role == Qt.ItemDataRole.ToolTipRole:
            extra = ", locked" if layer.locked else ""
            if layer.control is not None:
                extra += f", steers as {ControlKind(layer.control.kind).label} ({layer.control.model})"
            return f"{layer.name}: {layer.blend_mode.label}, {round(layer.opacity * 100)} %{extra}"
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid():
            return False
        i = self.layer_index(index.row())
        try:
            if role == Qt.ItemDataRole.EditRole:
                if str(value).strip() == self.doc.layers[i].name:
                    return False
                self.history.push(cmd.set_layer_property(self.doc, i, "name", value))
            elif role == Qt.ItemDataRole.CheckStateRole:
                visible = Qt.CheckState(value) == Qt.CheckState.Checked
                self.history.push(cmd.set_layer_property(self.doc, i, "visible", visible))
            else:
                return False
        except DocumentError:
            return False
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return base
        return (
            base
            | Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemIsDragEnabled
        )

    # -- drag to reorder -----------------------------------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        if indexes:
            data.setData(_MIME, str(indexes[0].row()).encode())
        return data

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        if not data.hasFormat(_MIME):
            return False
        source = int(bytes(data.data(_MIME).data()).decode())
        target = row if row >= 0 else (parent.row() if parent.isValid() else self.rowCount())
        self.move_row(source, target)
        return False  # the move is done; the view must not remove the source row itself

    def move_row(self, source: int, target_row: int) -> None:
        """Move the layer shown at ``source`` so it appears just above the row ``target_row``."""
        if target_row > source:
            target_row -= 1
        if target_row == source:
            return
        self.history.push(cmd.move_layer(self.doc, self.layer_index(source), self.layer_index(target_row)))


class LayerPanel(QWidget):
    """List of layers plus opacity, blend mode and the add / duplicate / delete / merge buttons."""

    message = Signal(str)

    def __init__(self, doc: Document, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LayerModel(doc, history, self)  # owned by the panel: its timer dies with the window
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setIconSize(QSize(THUMB, THUMB))
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSpacing(1)

        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity_label = QLabel("100 %")
        self.opacity_label.setMinimumWidth(44)
        self.blend = QComboBox()
        for mode in BlendMode:
            self.blend.addItem(mode.label, mode.value)

        row1 = QHBoxLayout()
        row1.addWidget(QLabel("Opacity"))
        row1.addWidget(self.opacity, 1)
        row1.addWidget(self.opacity_label)
        row2 = QHBoxLayout()
        row2.addWidget(QLabel("Blend"))
        row2.addWidget(self.blend, 1)
        self.control = QComboBox()
        self.control.addItem("None (colour)", "")
        for kind in CONTROL_KINDS:
            self.control.addItem(ControlKind(kind).label, kind)
        self.control.setToolTip(
            "A control layer's lines steer the picture through a ControlNet instead of being painted"
        )
        self.control_settings = QToolButton()
        self.control_settings.setText("…")
        self.control_settings.setToolTip("ControlNet, strength and schedule of this control layer")
        row3 = QHBoxLayout()
        row3.addWidget(QLabel("Control"))
        row3.addWidget(self.control, 1)
        row3.addWidget(self.control_settings)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QToolButton] = {}
        for key, tip in (
            ("layer-add", "New layer"),
            ("layer-duplicate", "Duplicate layer"),
            ("layer-merge", "Merge down"),
            ("layer-delete", "Delete layer"),
        ):
            button = QToolButton()
            button.setIcon(icon(key))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            buttons.addWidget(button)
            self.buttons[key] = button
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addLayout(row3)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

        self.buttons["layer-add"].clicked.connect(lambda: self._run(lambda d: cmd.add_layer(d)))
        self.buttons["layer-duplicate"].clicked.connect(
            lambda: self._run(lambda d: cmd.duplicate_layer(d, d.active_index))
        )
        self.buttons["layer-merge"].clicked.connect(lambda: self._run(lambda d: cmd.merge_down(d, d.active_index)))
        self.buttons["layer-delete"].clicked.connect(lambda: self._run(lambda d: cmd.delete_layer(d, d.active_index)))
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.blend.activated.connect(self._blend_changed)
        self.control.activated.connect(self._control_changed)
        self.control_settings.clicked.connect(self.edit_control_role)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.model.layersChanged.connect(self.sync_from_document)
        self.sync_from_document()

    @property
    def doc(self) -> Document:
        return self.model.doc

    def attach(self, doc: Document, history: History) -> None:
        self.model.attach(doc, history)
        self.sync_from_document()

    def _run(self, make: Any) -> None:
        try:
            self.model.history.push(make(self.doc))
        except DocumentError as exc:
            self.message.emit(str(exc))

    def sync_from_document(self) -> None:
        """Select the active layer and show its opacity and blend mode (after any change, undo included)."""
        layer = self.doc.active_layer
        current = self.model.index(self.model.row_of(self.doc.active_index))
        if current != self.view.currentIndex():
            self.view.setCurrentIndex(current)
        for widget, value in ((self.opacity, round(layer.opacity * 100)), (self.blend, None)):
            widget.blockSignals(True)
            if value is not None:
                self.opacity.setValue(value)
            else:
                self.blend.setCurrentIndex(self.blend.findData(layer.blend_mode.value))
            widget.blockSignals(False)
        self.control.setCurrentIndex(self.control.findData(layer.control.kind if layer.control else ""))
        self.opacity_label.setText(f"{round(layer.opacity * 100)} %")
        self.buttons["layer-merge"].setEnabled(self.doc.active_index > 0)
        self.buttons["layer-delete"].setEnabled(len(self.doc.layers) > 1)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            index = self.model.layer_index(current.row())
            if index != self.doc.active_index:
                self.doc.set_active(index)

    def _opacity_changed(self, value: int) -> None:
        self.opacity_label.setText(f"{value} %")
        self._run(lambda d: cmd.set_layer_property(d, d.active_index, "opacity", value / 100))

    def _blend_changed(self, row: int) -> None:
        self._run(lambda d: cmd.set_layer_property(d, d.active_index, "blend_mode", self.blend.itemData(row)))

    def _control_changed(self, row: int) -> None:
        """None takes the role away; a kind keeps the layer's ControlNet unless it was the other kind's usual one."""
        kind = str(self.control.itemData(row))
        current = self.doc.active_layer.control
        if not kind:
            role = None
        elif current is None or current.model in SUGGESTED.values():
            role = ControlRole(
                kind, SUGGESTED[kind], *((current and (current.strength, current.start, current.end)) or ())
            )
        else:
            role = replace(current, kind=kind)
        self.set_control_role(role)

    def set_control_role(self, role: ControlRole | None) -> None:
        if role != self.doc.active_layer.control:
            self._run(lambda d: cmd.set_layer_property(d, d.active_index, "control", role))

    def edit_control_role(self) -> None:
        layer = self.doc.active_layer
        dialog = ControlRoleDialog(layer.name, layer.control, self)
        if dialog.exec() == ControlRoleDialog.DialogCode.Accepted:
            self.set_control_role(dialog.role())
