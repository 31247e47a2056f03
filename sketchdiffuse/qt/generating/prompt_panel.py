"""Prompt panel: prompt, negative prompt, strength, steps, guidance, seed, sampler, model, Generate / Cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sketchdiffuse.generation.controls import lora_text_width, made_for
from sketchdiffuse.generation.family import Family
from sketchdiffuse.generation.request import MAX_SEED, RANDOM_SEED
from sketchdiffuse.generation.schedulers import SCHEDULER_NAMES
from sketchdiffuse.qt.elided_label import ElidedLabel
from sketchdiffuse.qt.icons import icon
from sketchdiffuse.session.loras import decode_loras, encode_loras

DEFAULT_MODEL = "stabilityai/sd-turbo"


class SeedBox(QDoubleSpinBox):
    """Seeds 0..2^32-1. QSpinBox is 32-bit signed; a double holds every such integer exactly."""

    def __init__(self) -> None:
        super().__init__()
        self.setDecimals(0)
        self.setRange(0, MAX_SEED)

    def seed(self) -> int:
        return int(self.value())

    def set_seed(self, seed: int) -> None:
        self.setValue(min(max(0, seed), MAX_SEED))


class PromptPanel(QWidget):
    generateRequested = Signal()
    cancelRequested = Signal()
    chooseModelRequested = Signal()
    changed = Signal()  # any value that shapes the picture

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("Describe the picture: subject, style, light…")
        self.prompt.setFixedHeight(90)
        self.negative = QPlainTextEdit()
        self.negative.setPlaceholderText("Negative prompt: what to avoid")
        self.negative.setFixedHeight(50)
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(60)
        self.strength_label = QLabel("60 %")
        self.strength.valueChanged.connect(lambda v: self.strength_label.setText(f"{v} %"))
        self.strength.setToolTip("0 % keeps the drawing, 100 % ignores it")
        self.steps = QSpinBox()
        self.steps.setRange(1, 150)
        self.steps.setValue(20)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, 30.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setValue(7.0)
        self.seed = SeedBox()
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.setToolTip("Locked: the same seed every time. Unlocked: a new random seed each generation.")
        self.reuse_seed = QToolButton()
        self.reuse_seed.setText("Last")
        self.reuse_seed.setToolTip("Use the seed of the last result")
        self.last_seed: int | None = None
        self.reuse_seed.clicked.connect(self._reuse_last_seed)
        self.scheduler = QComboBox()
        self.scheduler.addItems(list(SCHEDULER_NAMES))
        # A long path keeps its end (the file's name); the whole path is the tooltip.
        self.model_label = ElidedLabel(DEFAULT_MODEL, mode=Qt.TextElideMode.ElideLeft)
        self.model_button = QToolButton()
        self.model_button.setText("Change…")
        self.model_button.clicked.connect(self.chooseModelRequested)
        self.generate_button = QPushButton(icon("generate"), "Generate")
        self.generate_button.setToolTip("Generate (Ctrl+Enter); same seed again: Ctrl+Shift+Enter")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel (Esc)")
        self.cancel_button.setEnabled(False)
        self.generate_button.clicked.connect(self.generateRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = ElidedLabel("")  # a long error must not widen the dock and push the canvas aside

        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_label)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.seed_lock)
        seed_row.addWidget(self.reuse_seed)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_label, 1)
        model_row.addWidget(self.model_button)
        # The LoRA list: files with weights; <lora:name:weight> tags in the prompt add more (session/loras.py).
        self._loras: list[tuple[str, float]] = []
        self.lora_list = QListWidget()
        self.lora_list.setFixedHeight(58)
        self.lora_list.setToolTip("LoRA styles applied to every picture; <lora:name:weight> in the prompt adds more")
        self.lora_add = QToolButton()
        self.lora_add.setText("Add…")
        self.lora_add.clicked.connect(self._choose_loras)
        self.lora_remove = QToolButton()
        self.lora_remove.setText("Remove")
        self.lora_remove.clicked.connect(self._remove_lora)
        self.lora_weight = QDoubleSpinBox()
        self.lora_weight.setRange(-2.0, 2.0)
        self.lora_weight.setSingleStep(0.05)
        self.lora_weight.setValue(1.0)
        self.lora_weight.setToolTip("The selected LoRA's weight (0: no effect)")
        self.lora_weight.valueChanged.connect(self._weight_changed)
        self.lora_list.currentRowChanged.connect(self._lora_selected)
        lora_buttons = QHBoxLayout()
        lora_buttons.addWidget(self.lora_add)
        lora_buttons.addWidget(self.lora_remove)
        lora_buttons.addStretch(1)
        lora_buttons.addWidget(QLabel("Weight"))
        lora_buttons.addWidget(self.lora_weight)
        lora_box = QVBoxLayout()
        lora_box.addWidget(self.lora_list)
        lora_box.addLayout(lora_buttons)
        self._show_loras()
        form = self.form = QFormLayout()  # GenerationUi adds the References row
        form.addRow("Strength", strength_row)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Seed", seed_row)
        form.addRow("Sampler", self.scheduler)
        form.addRow("Model", model_row)
        form.addRow("LoRA", lora_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.prompt)
        layout.addWidget(self.negative)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self._server: tuple[str, str] | None = None  # (where, checkpoint) while a server makes the pictures
        self.model = DEFAULT_MODEL
        for text in (self.prompt, self.negative):
            text.textChanged.connect(self.changed)
        for spin in (self.strength, self.steps, self.seed):
            spin.valueChanged.connect(self.changed)
        self.guidance.valueChanged.connect(self.changed)
        self.scheduler.currentTextChanged.connect(self.changed)

    # -- values --------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self._model

    @model.setter
    def model(self, value: str) -> None:
        self._model = value
        self._show_model()
        self.changed.emit()

    def show_server(self, where: str, checkpoint: str) -> None:
        """Pictures are made on a server (``where`` "" : this computer): the model row shows the checkpoint
        chosen there, while ``model`` keeps this computer's."""
        self._server = (where, checkpoint) if where else None
        self._show_model()

    def _show_model(self) -> None:
        if self._server is None:
            text = tip = self._model
        else:
            where, checkpoint = self._server
            text = f"{checkpoint or 'no checkpoint chosen'} (server)"
            tip = f"{checkpoint or 'No checkpoint chosen yet'} on {where}"
        self.model_label.setText(text)
        self.model_label.setToolTip(tip)

    def apply_family_defaults(self, family: Family) -> None:
        """A distilled model (Turbo, LCM) starts at few steps and low guidance."""
        self.steps.setValue(family.default_steps)
        self.guidance.setValue(family.default_guidance)
        self.scheduler.setCurrentText(family.default_scheduler)

    def seed_for_next(self) -> int:
        return self.seed.seed() if self.seed_lock.isChecked() else RANDOM_SEED

    def _reuse_last_seed(self) -> None:
        if self.last_seed is not None:
            self.seed.set_seed(self.last_seed)
            self.seed_lock.setChecked(True)

    def values(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt.toPlainText(),
            "negative_prompt": self.negative.toPlainText(),
            "strength": self.strength.value() / 100,
            "steps": self.steps.value(),
            "guidance_scale": self.guidance.value(),
            "seed": self.seed.seed(),
            "seed_locked": self.seed_lock.isChecked(),
            "scheduler": self.scheduler.currentText(),
            "model": self.model,
            "loras": encode_loras(self._loras),
        }

    def set_values(self, values: dict[str, Any]) -> None:
        """Load settings (Reuse settings, a dropped PNG's parameters, saved preferences); unknown keys are ignored."""
        if "prompt" in values:
            self.prompt.setPlainText(str(values["prompt"]))
        if "negative_prompt" in values:
            self.negative.setPlainText(str(values["negative_prompt"]))
        if "strength" in values:
            self.strength.setValue(round(float(values["strength"]) * 100))
        if "steps" in values:
            self.steps.setValue(int(values["steps"]))
        if "guidance_scale" in values:
            self.guidance.setValue(float(values["guidance_scale"]))
        if "seed" in values and int(values["seed"]) >= 0:
            self.seed.set_seed(int(values["seed"]))
        if "seed_locked" in values:
            self.seed_lock.setChecked(values["seed_locked"] in (True, "true", "1", 1))
        if values.get("scheduler") in SCHEDULER_NAMES:
            self.scheduler.setCurrentText(str(values["scheduler"]))
        if values.get("model"):
            self.model = str(values["model"])
        if values.get("loras") is not None:
            self._loras = decode_loras(str(values["loras"]))
            self._show_loras()

    # -- LoRAs ---------------------------------------------------------------------------
    def add_lora(self, path: str, weight: float = 1.0) -> None:
        if path not in [p for p, _ in self._loras]:
            self._loras.append((path, weight))
            self._show_loras(len(self._loras) - 1)
            self.changed.emit()

    def _choose_loras(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add LoRA", "", "LoRA (*.safetensors)")
        for path in paths:
            self.add_lora(path)

    def _remove_lora(self) -> None:
        row = self.lora_list.currentRow()
        if 0 <= row < len(self._loras):
            del self._loras[row]
            self._show_loras(min(row, len(self._loras) - 1))
            self.changed.emit()

    def _weight_changed(self, value: float) -> None:
        row = self.lora_list.currentRow()
        if 0 <= row < len(self._loras) and self._loras[row][1] != value:
            self._loras[row] = (self._loras[row][0], value)
            self.lora_list.item(row).setText(self._lora_text(row))
            self.changed.emit()

    def _lora_selected(self, row: int) -> None:
        if 0 <= row < len(self._loras):
            self.lora_weight.blockSignals(True)
            self.lora_weight.setValue(self._loras[row][1])
            self.lora_weight.blockSignals(False)
        self.lora_remove.setEnabled(row >= 0)
        self.lora_weight.setEnabled(row >= 0)

    def _lora_text(self, row: int) -> str:
        path, weight = self._loras[row]
        return f"{Path(path).stem}  × {weight:g}"

    def _show_loras(self, current: int = -1) -> None:
        self.lora_list.clear()
        for row, (path, _) in enumerate(self._loras):
            item = QListWidgetItem(self._lora_text(row))
            family = made_for(lora_text_width(Path(path)))
            item.setToolTip(f"{path}\nMade for {family}" if Path(path).is_file() else f"{path}\nThe file is missing")
            self.lora_list.addItem(item)
        self.lora_list.setCurrentRow(current)
        self._lora_selected(current)

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
