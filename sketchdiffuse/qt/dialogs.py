"""Small dialogs of the painting window: new document size, layer properties, shortcuts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.document import MAX_SIDE
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.generation.errors import GenerationError
from sketchdiffuse.generation.family_override import FamilyOverride
from sketchdiffuse.generation.limits import AESTHETIC_SCORE, REFINER_SWITCH
from sketchdiffuse.generation.model_ref import ModelRef
from sketchdiffuse.session.settings import RunSettings


def ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


PRESETS = [
    ("Square 512 (SD 1.x, SD-Turbo)", 512, 512),
    ("Square 768 (SD 2.x)", 768, 768),
    ("Square 1024 (SDXL)", 1024, 1024),
    ("Landscape 1024 x 768", 1024, 768),
    ("Portrait 768 x 1024", 768, 1024),
    ("Wide 1344 x 768", 1344, 768),
    ("Large 2048 x 2048", 2048, 2048),
]


class NewDocumentDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New document")
        self.preset = QComboBox()
        for label, w, h in PRESETS:
            self.preset.addItem(label, (w, h))
        self.preset.addItem("Custom", None)
        self.preset.setCurrentIndex(2)
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box in (self.width_box, self.height_box):
            box.setRange(1, MAX_SIDE)
            box.setSuffix(" px")
            box.setValue(1024)
        self.preset.currentIndexChanged.connect(self._preset)
        buttons = ok_cancel(self)
        form = QFormLayout(self)
        form.addRow("Preset", self.preset)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow(buttons)

    def _preset(self) -> None:
        size = self.preset.currentData()
        if size:
            self.width_box.setValue(size[0])
            self.height_box.setValue(size[1])

    def chosen_size(self) -> tuple[int, int]:
        return self.width_box.value(), self.height_box.value()


ANCHORS = [
    ("Centre", (0.5, 0.5)),
    ("Top left", (0.0, 0.0)),
    ("Top", (0.5, 0.0)),
    ("Top right", (1.0, 0.0)),
    ("Left", (0.0, 0.5)),
    ("Right", (1.0, 0.5)),
    ("Bottom left", (0.0, 1.0)),
    ("Bottom", (0.5, 1.0)),
    ("Bottom right", (1.0, 1.0)),
]


class NumbersDialog(QDialog):
    """Whole numbers in pixels (a canvas size, amounts per side), optionally with an anchor."""

    def __init__(
        self, title: str, fields: list[tuple[str, int, int]], anchor: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.boxes: list[QSpinBox] = []
        for label, value, low in fields:
            box = QSpinBox()
            box.setRange(low, MAX_SIDE)
            box.setSuffix(" px")
            box.setValue(value)
            form.addRow(label, box)
            self.boxes.append(box)
        self.anchor = QComboBox()
        for label, where in ANCHORS:
            self.anchor.addItem(label, where)
        if anchor:
            form.addRow("Keep the picture at", self.anchor)
        form.addRow(ok_cancel(self))

    def values(self) -> list[int]:
        return [box.value() for box in self.boxes]


class LayerPropertiesDialog(QDialog):
    def __init__(self, layer: Layer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Layer properties")
        self.name = QLineEdit(layer.name)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(layer.opacity * 100))
        self.blend = QComboBox()
        for mode in BlendMode:
            self.blend.addItem(mode.label, mode.value)
        self.blend.setCurrentIndex(self.blend.findData(layer.blend_mode.value))
        self.visible = QCheckBox("Visible")
        self.visible.setChecked(layer.visible)
        self.locked = QCheckBox("Locked (no painting)")
        self.locked.setChecked(layer.locked)
        buttons = ok_cancel(self)
        form = QFormLayout(self)
        form.addRow("Name", self.name)
        form.addRow("Opacity", self.opacity)
        form.addRow("Blend mode", self.blend)
        form.addRow("", self.visible)
        form.addRow("", self.locked)
        form.addRow(buttons)

    def values(self) -> dict[str, object]:
        return {
            "name": self.name.text(),
            "opacity": self.opacity.value() / 100,
            "blend_mode": self.blend.currentData(),
            "visible": self.visible.isChecked(),
            "locked": self.locked.isChecked(),
        }


class ShortcutsDialog(QDialog):
    def __init__(self, actions: list[QAction], extra: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = [(a.text().replace("&", ""), a.shortcut().toString()) for a in actions if not a.shortcut().isEmpty()]
        rows += extra
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        for i, (name, keys) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(name))
            table.setItem(i, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(420, 520)
        self.table = table


RUN_CHOICES: dict[str, list[tuple[str, str]]] = {
    "device": [("Automatic", "auto"), ("NVIDIA GPU (CUDA)", "cuda"), ("Apple GPU (MPS)", "mps"), ("CPU", "cpu")],
    "precision": [("Automatic", "auto"), ("fp16", "fp16"), ("bf16", "bf16"), ("fp32", "fp32")],
    "size_policy": [("Model's native size (aspect kept)", "native"), ("Canvas size", "canvas")],
    "live_side": [("384 px (faster)", "384"), ("256 px (fastest)", "256"), ("512 px", "512"), ("Work size", "0")],
    "autosave_minutes": [("Every 2 minutes", "2"), ("Every minute", "1"), ("Every 5 minutes", "5"), ("Off", "0")],
    "layer_cache_mb": [
        ("2 GB (canvases up to 8192 px)", "2048"),
        ("512 MB (up to 4096 px)", "512"),
        ("4 GB", "4096"),
        ("Off", "0"),
    ],
    "auxiliary_mb": [
        ("4 GB (a few SD 1.x ControlNets)", "4096"),
        ("2 GB", "2048"),
        ("8 GB", "8192"),
        ("None kept between jobs", "0"),
    ],
    "inpaint_padding": [("25 % around", "0.25"), ("10 % around", "0.1"), ("50 % around", "0.5"), ("100 % around", "1")],
    "empty_fill": [("Kept as drawn", "keep"), ("Filled from the neighbours", "neighbours"), ("Noise", "noise")],
}


def _choice_text(value: object) -> str:
    """A setting as the combo boxes' data spells it ("2" for 2.0 minutes)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


class GenerationSettingsDialog(QDialog):
    """Where and how the model runs; stored in the user's settings."""

    def __init__(self, current: RunSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current = current
        values = {key: _choice_text(value) for key, value in current.as_dict().items()}
        self.setWindowTitle("Generation settings")
        self.boxes: dict[str, QComboBox] = {}
        form = QFormLayout(self)
        labels = {
            "device": "Device",
            "precision": "Precision",
            "size_policy": "Work size",
            "live_side": "Live size",
            "autosave_minutes": "Autosave",
            "layer_cache_mb": "Layer cache",
            "auxiliary_mb": "ControlNet memory",
            "inpaint_padding": "Selection context",
            "empty_fill": "Empty areas",
        }
        for key, options in RUN_CHOICES.items():
            box = QComboBox()
            for label, value in options:
                box.addItem(label, value)
            index = box.findData(values.get(key, options[0][1]))
            box.setCurrentIndex(max(0, index))
            form.addRow(labels[key], box)
            self.boxes[key] = box
        self.checks: dict[str, QCheckBox] = {}
        for key, text in (
            ("cpu_offload", "CPU offload (NVIDIA GPUs with little memory; slower)"),
            ("vae_tiling", "Decode in tiles (less memory for big images)"),
            ("tuning", "Tune the process for CPU generation (off: to measure, or if something misbehaves)"),
        ):
            check = QCheckBox(text)
            check.setChecked(bool(getattr(current, key)))
            form.addRow("", check)
            self.checks[key] = check
        self.tiny_autoencoder = QLineEdit(values.get("tiny_autoencoder", ""))
        self.tiny_autoencoder.setPlaceholderText("none: live mode uses the model's full VAE")
        self.tiny_autoencoder.setToolTip(
            "A tiny autoencoder (TAESD for SD 1.x/2.x, TAESDXL for SDXL) makes live mode much faster: "
            "a folder, a .safetensors file or a Hub id such as madebyollin/taesd."
        )
        form.addRow("Live decoder", self.tiny_autoencoder)
        self.refiner = QLineEdit(current.refiner)
        self.refiner.setPlaceholderText("none")
        self.refiner.setToolTip(
            "An SDXL refiner (for example sd_xl_refiner_1.0.safetensors) finishes each SDXL picture: the base "
            "model runs until the switch, the refiner the rest. Also used by Refine in the history's menu."
        )
        form.addRow("SDXL refiner", self.refiner)
        self.lora_folder = QLineEdit(current.lora_folder)
        self.lora_folder.setPlaceholderText("none")
        self.lora_folder.setToolTip(
            "A folder of LoRA .safetensors files: <lora:name:weight> in a prompt finds them here"
        )
        form.addRow("LoRA folder", self.lora_folder)
        self.ip_adapter = QLineEdit(current.ip_adapter)
        self.ip_adapter.setPlaceholderText("none: references need one")
        self.ip_adapter.setToolTip(
            "The IP-Adapter that reads reference images: its .safetensors file with the image_encoder folder "
            "beside it, or HUB_ID:SUBFOLDER/FILE such as h94/IP-Adapter:models/ip-adapter_sd15.safetensors."
        )
        form.addRow("IP-Adapter", self.ip_adapter)
        self.numbers: dict[str, QDoubleSpinBox] = {}
        for key, label, low, high, step in (
            ("refiner_switch", "Refiner switch at", *REFINER_SWITCH, 0.05),
            ("aesthetic_score", "Aesthetic score", *AESTHETIC_SCORE, 0.5),
            ("negative_aesthetic_score", "Negative aesthetic score", *AESTHETIC_SCORE, 0.5),
        ):
            number = QDoubleSpinBox()
            number.setRange(low, high)
            number.setSingleStep(step)
            number.setDecimals(2)
            number.setValue(float(getattr(current, key)))
            form.addRow(label, number)
            self.numbers[key] = number
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #ff8a70;")
        form.addRow(self.problem)
        buttons = ok_cancel(self)
        form.addRow(buttons)

    def accept(self) -> None:
        for field in (self.tiny_autoencoder, self.refiner):
            source = field.text().strip()
            if source:
                try:
                    ModelRef.parse(source)  # a folder, a .safetensors file or a Hub id
                except GenerationError as exc:
                    self.problem.setText(str(exc))
                    field.setFocus()
                    return
        super().accept()

    def values(self) -> RunSettings:
        chosen: dict[str, object] = {key: box.currentData() for key, box in self.boxes.items()}
        chosen["tiny_autoencoder"] = self.tiny_autoencoder.text().strip()
        chosen["refiner"] = self.refiner.text().strip()
        chosen["lora_folder"] = self.lora_folder.text().strip()
        chosen["ip_adapter"] = self.ip_adapter.text().strip()
        chosen |= {key: box.value() for key, box in self.numbers.items()}
        chosen |= {key: check.isChecked() for key, check in self.checks.items()}
        return RunSettings.from_mapping(chosen)


OVERRIDE_CHOICES: dict[str, list[tuple[str, object]]] = {
    "base": [
        ("As detected", ""),
        ("SD 1.x", "sd1"),
        ("SD 2.x (512, noise prediction)", "sd2-512"),
        ("SD 2.x (768, v-prediction)", "sd2-768-v"),
        ("SDXL", "sdxl"),
        ("SDXL refiner", "sdxl-refiner"),
    ],
    "prediction": [("As detected", ""), ("Noise (epsilon)", "epsilon"), ("Velocity (v)", "v_prediction")],
    "distilled": [
        ("As detected", ""),
        ("Not distilled", "none"),
        ("Turbo", "turbo"),
        ("LCM", "lcm"),
        ("Lightning / Hyper", "lightning"),
    ],
}


class ModelOverrideDialog(QDialog):
    """What a model is, when detection got it wrong or could not tell; remembered for that model."""

    def __init__(
        self, name: str, detected: str, current: FamilyOverride | None, problem: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model settings: {name}")
        self.setMinimumWidth(440)
        current = current or FamilyOverride()
        form = QFormLayout(self)
        intro = QLabel(problem or f"Detected: {detected or 'not known yet'}. Change only what is wrong.")
        intro.setWordWrap(True)
        form.addRow(intro)
        self.boxes: dict[str, QComboBox] = {}
        labels = {"base": "Family", "prediction": "Prediction", "distilled": "Distillation"}
        for key, options in OVERRIDE_CHOICES.items():
            box = QComboBox()
            for label, value in options:
                box.addItem(label, value)
            box.setCurrentIndex(max(0, box.findData(getattr(current, key))))
            form.addRow(labels[key], box)
            self.boxes[key] = box
        self.native_size = QSpinBox()
        self.native_size.setRange(0, 4096)
        self.native_size.setSingleStep(64)
        self.native_size.setSpecialValueText("As detected")
        self.native_size.setSuffix(" px")
        self.native_size.setValue(current.native_size)
        form.addRow("Native size", self.native_size)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #ff8a70;")
        form.addRow(self.problem)
        form.addRow(ok_cancel(self))

    def accept(self) -> None:
        if 0 < self.native_size.value() < 64:
            self.problem.setText("A native size is at least 64 pixels (or 0: as detected).")
            return
        super().accept()

    def values(self) -> FamilyOverride:
        size = self.native_size.value()
        return FamilyOverride(
            base=str(self.boxes["base"].currentData()),
            prediction=str(self.boxes["prediction"].currentData()),
            distilled=str(self.boxes["distilled"].currentData()),
            native_size=size - size % 8 if size >= 64 else 0,
        )
