"""The dialog that gives a layer a control role: which kind of lines, which ControlNet, how strongly and in
which part of the schedule (document/control_role.py)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from sketchdiffuse.document.control_role import CONTROL_KINDS, ControlRole
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.generation.controls import ControlKind
from sketchdiffuse.qt.dialogs import ok_cancel

# What each kind is usually paired with; the artist may name any ControlNet (Hub id, folder or file).
SUGGESTED = {
    "scribble": "lllyasviel/control_v11p_sd15_scribble",
    "lineart": "lllyasviel/control_v11p_sd15_lineart",
    "canny": "lllyasviel/control_v11p_sd15_canny",
}


class ControlRoleDialog(QDialog):
    def __init__(self, layer_name: str, current: ControlRole | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Control role: {layer_name}")
        self.setMinimumWidth(460)
        role = current or ControlRole("scribble", SUGGESTED["scribble"])
        form = QFormLayout(self)
        intro = QLabel(
            "The layer's lines steer the picture through a ControlNet; the layer is not painted into the "
            "drawing. Hide the layer to switch the control off."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.kind = QComboBox()
        for kind in CONTROL_KINDS:
            self.kind.addItem(ControlKind(kind).label, kind)
        self.kind.setCurrentIndex(CONTROL_KINDS.index(role.kind))
        self.kind.activated.connect(self._kind_changed)
        form.addRow("Lines", self.kind)
        self.model = QLineEdit(role.model)
        self.model.setPlaceholderText("Hub id, diffusers folder or .safetensors file")
        browse = QPushButton("File…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(browse)
        form.addRow("ControlNet", row)
        self.strength = self._spin(role.strength, 0.0, 2.0)
        self.start = self._spin(role.start, 0.0, 1.0)
        self.end = self._spin(role.end, 0.0, 1.0)
        form.addRow("Strength", self.strength)
        form.addRow("Acts from", self.start)
        form.addRow("Until", self.end)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #ff8a70;")
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        form.addRow(ok_cancel(self))

    @staticmethod
    def _spin(value: float, low: float, high: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setValue(value)
        return spin

    def _kind_changed(self) -> None:
        kind = str(self.kind.currentData())
        if self.model.text().strip() in SUGGESTED.values() or not self.model.text().strip():
            self.model.setText(SUGGESTED[kind])  # follow the kind unless the artist chose another model

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "ControlNet file", "", "ControlNet (*.safetensors)")
        if path:
            self.model.setText(path)

    def role(self) -> ControlRole:
        return ControlRole(
            str(self.kind.currentData()),
            self.model.text().strip(),
            self.strength.value(),
            self.start.value(),
            self.end.value(),
        )

    def accept(self) -> None:
        try:
            if not self.role().model:
                raise DocumentError("Name the ControlNet: a Hub id, a diffusers folder or a .safetensors file.")
        except DocumentError as exc:
            self.problem.setText(str(exc))
            return
        super().accept()
