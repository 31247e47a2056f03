"""Every question the window asks the artist goes through one Prompter: file dialogs, "save changes?",
the new-document size, crash recovery, the generation settings, error boxes. The window gets a
DialogPrompter; tests give it a scripted one, so no test replaces attributes of the window."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Protocol

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox, QWidget

from sketchdiffuse.document.layer import Layer
from sketchdiffuse.generation.family_override import FamilyOverride
from sketchdiffuse.io.recovery import Recoverable
from sketchdiffuse.qt.dialogs import (
    GenerationSettingsDialog,
    LayerPropertiesDialog,
    ModelOverrideDialog,
    NewDocumentDialog,
    NumbersDialog,
)
from sketchdiffuse.qt.files.recovery_dialog import RecoveryDialog
from sketchdiffuse.qt.generating.server_probe import ServerProbe
from sketchdiffuse.qt.generating.servers_dialog import ServersDialog
from sketchdiffuse.session.servers import ServerList
from sketchdiffuse.session.settings import RunSettings

Unsaved = Literal["save", "discard", "cancel"]


class Prompter(Protocol):
    def open_path(self, title: str, folder: str, filters: str) -> str | None: ...
    def open_paths(self, title: str, folder: str, filters: str) -> list[str]: ...
    def model_location(self, anchor: QWidget) -> str | None: ...
    def model_override(
        self, name: str, detected: str, current: FamilyOverride | None, problem: str = ""
    ) -> FamilyOverride | None: ...
    def save_path(self, title: str, filters: str, suggested: str) -> str | None: ...
    def unsaved(self, name: str) -> Unsaved: ...
    def new_size(self) -> tuple[int, int] | None: ...
    def layer_properties(self, layer: Layer) -> dict[str, object] | None: ...
    def load_parameters(self, name: str) -> bool: ...
    def recovery(self, entries: list[Recoverable]) -> tuple[str, Recoverable | None]: ...
    def run_settings(self, current: RunSettings) -> RunSettings | None: ...
    def servers(self, current: ServerList, probe: ServerProbe) -> ServerList | None: ...
    def server_checkpoint(self, anchor: QWidget, names: list[str], chosen: str) -> str | None: ...
    def error(self, title: str, text: str) -> None: ...
    def explain_models(self, problem: str) -> bool: ...
    def number(self, title: str, label: str, value: float, low: float, high: float) -> float | None: ...
    def pixels(
        self, title: str, fields: list[tuple[str, int, int]], anchor: bool = False
    ) -> tuple[list[int], tuple[float, float]] | None: ...


class DialogPrompter:
    """The real dialogs, parented to ``parent`` (the window)."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def open_path(self, title: str, folder: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, folder, filters)
        return path or None

    def open_paths(self, title: str, folder: str, filters: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self.parent, title, folder, filters)
        return list(paths)

    def model_location(self, anchor: QWidget) -> str | None:
        """A model folder, a .safetensors file or a Hub id, chosen from a menu below ``anchor``."""
        menu = QMenu(self.parent)
        folder = menu.addAction("A diffusers model folder…")
        file = menu.addAction("A .safetensors file…")
        hub = menu.addAction("A Hugging Face Hub id…")
        chosen = menu.exec(anchor.mapToGlobal(anchor.rect().bottomLeft()))
        if chosen is folder:
            return QFileDialog.getExistingDirectory(self.parent, "Model folder") or None
        if chosen is file:
            return QFileDialog.getOpenFileName(self.parent, "Model file", "", "Safetensors (*.safetensors)")[0] or None
        if chosen is hub:
            text, ok = QInputDialog.getText(self.parent, "Hub model", "Model id (e.g. stabilityai/sd-turbo):")
            return text if ok and text else None
        return None

    def model_override(
        self, name: str, detected: str, current: FamilyOverride | None, problem: str = ""
    ) -> FamilyOverride | None:
        dialog = ModelOverrideDialog(name, detected, current, problem, self.parent)
        return dialog.values() if dialog.exec() else None

    def save_path(self, title: str, filters: str, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, filters)
        return path or None

    def unsaved(self, name: str) -> Unsaved:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.parent,
            "Unsaved changes",
            f"Save the changes to '{name}' before closing it?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")  # type: ignore[return-value]

    def new_size(self) -> tuple[int, int] | None:
        dialog = NewDocumentDialog(self.parent)
        return dialog.chosen_size() if dialog.exec() else None

    def layer_properties(self, layer: Layer) -> dict[str, object] | None:
        dialog = LayerPropertiesDialog(layer, self.parent)
        return dialog.values() if dialog.exec() else None

    def load_parameters(self, name: str) -> bool:
        buttons = QMessageBox.StandardButton
        question = f"'{name}' carries generation settings. Load its prompt and settings into the panel?"
        return (
            QMessageBox.question(self.parent, "Generation settings", question, buttons.Yes | buttons.No) == buttons.Yes
        )

    def recovery(self, entries: list[Recoverable]) -> tuple[str, Recoverable | None]:
        dialog = RecoveryDialog(entries, self.parent)
        dialog.exec()
        return dialog.choice, dialog.selected()

    def run_settings(self, current: RunSettings) -> RunSettings | None:
        dialog = GenerationSettingsDialog(current, self.parent)
        return dialog.values() if dialog.exec() else None

    def servers(self, current: ServerList, probe: ServerProbe) -> ServerList | None:
        dialog = ServersDialog(current, probe, self.parent)
        try:
            return dialog.chosen() if dialog.exec() else None
        finally:
            dialog.deleteLater()  # not kept as the window's child after each opening

    def server_checkpoint(self, anchor: QWidget, names: list[str], chosen: str) -> str | None:
        """One of the server's checkpoints, from a menu below ``anchor`` (the chosen one ticked)."""
        menu = QMenu(self.parent)
        for name in names:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == chosen)
        picked = menu.exec(anchor.mapToGlobal(anchor.rect().bottomLeft()))
        return picked.text() if picked is not None else None

    def error(self, title: str, text: str) -> None:
        QMessageBox.warning(self.parent, title, text)

    def explain_models(self, problem: str) -> bool:
        """A friendly page instead of a stack trace when no usable model is set; True: choose one now."""
        box = QMessageBox(self.parent)
        box.setWindowTitle("Choose a model")
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(problem)
        box.setInformativeText(
            "sketchdiffuse turns drawings into pictures with a Stable Diffusion model on this computer. "
            "You can use:\n"
            "• a model folder in diffusers layout (it contains model_index.json),\n"
            "• a single .safetensors checkpoint, the format most models are shared in,\n"
            "• a Hugging Face Hub id such as stabilityai/sd-turbo, downloaded once when online.\n\n"
            "Fast models (SD-Turbo, SDXL-Turbo, LCM) need only 1–4 steps and suit slower computers."
        )
        choose = box.addButton("Choose a model…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.exec()
        return box.clickedButton() is choose

    def number(self, title: str, label: str, value: float, low: float, high: float) -> float | None:
        chosen, ok = QInputDialog.getDouble(self.parent, title, label, value, low, high, 1)
        return chosen if ok else None

    def pixels(
        self, title: str, fields: list[tuple[str, int, int]], anchor: bool = False
    ) -> tuple[list[int], tuple[float, float]] | None:
        """Whole pixel amounts (label, value, lowest) and, with ``anchor``, where the picture stays."""
        dialog = NumbersDialog(title, fields, anchor, self.parent)
        return (dialog.values(), dialog.anchor.currentData()) if dialog.exec() else None


class ScriptedPrompter:
    """For tests, benchmarks and scripted screenshots: answers the window's questions from ``answers``
    (a value, or a callable given the question's arguments) and records errors and model
    explanations instead of showing modal boxes."""

    DEFAULTS: ClassVar[dict[str, object]] = {
        "open_path": None,
        "open_paths": [],
        "model_location": None,
        "model_override": None,
        "save_path": None,
        "unsaved": "discard",  # closing a modified window at teardown must not wait on a question
        "new_size": None,
        "layer_properties": None,
        "load_parameters": False,
        "recovery": ("later", None),
        "run_settings": None,
        "servers": None,
        "server_checkpoint": None,
        "number": None,
        "pixels": None,
    }

    def __init__(self) -> None:
        self.answers: dict[str, object] = {}
        self.asked: list[str] = []
        self.errors: list[str] = []
        self.explained: list[str] = []

    def _answer(self, question: str, *args: object) -> Any:
        self.asked.append(question)
        value = self.answers.get(question, self.DEFAULTS[question])
        return value(*args) if callable(value) else value

    def open_path(self, title: str, folder: str, filters: str) -> str | None:
        return self._answer("open_path", title)

    def open_paths(self, title: str, folder: str, filters: str) -> list[str]:
        return self._answer("open_paths", title)

    def model_location(self, anchor: QWidget) -> str | None:
        return self._answer("model_location")

    def model_override(
        self, name: str, detected: str, current: FamilyOverride | None, problem: str = ""
    ) -> FamilyOverride | None:
        return self._answer("model_override", name, detected, current, problem)

    def save_path(self, title: str, filters: str, suggested: str) -> str | None:
        return self._answer("save_path", title, suggested)

    def unsaved(self, name: str) -> Unsaved:
        return self._answer("unsaved", name)

    def new_size(self) -> tuple[int, int] | None:
        return self._answer("new_size")

    def layer_properties(self, layer: Layer) -> dict[str, object] | None:
        return self._answer("layer_properties", layer)

    def load_parameters(self, name: str) -> bool:
        return self._answer("load_parameters", name)

    def recovery(self, entries: list[Recoverable]) -> tuple[str, Recoverable | None]:
        return self._answer("recovery", entries)

    def run_settings(self, current: RunSettings) -> RunSettings | None:
        return self._answer("run_settings", current)

    def servers(self, current: ServerList, probe: ServerProbe) -> ServerList | None:
        return self._answer("servers", current, probe)

    def server_checkpoint(self, anchor: QWidget, names: list[str], chosen: str) -> str | None:
        return self._answer("server_checkpoint", names, chosen)

    def error(self, title: str, text: str) -> None:
        self.errors.append(text)

    def explain_models(self, problem: str) -> bool:
        self.explained.append(problem)
        return False

    def number(self, title: str, label: str, value: float, low: float, high: float) -> float | None:
        return self._answer("number", title, value)

    def pixels(
        self, title: str, fields: list[tuple[str, int, int]], anchor: bool = False
    ) -> tuple[list[int], tuple[float, float]] | None:
        return self._answer("pixels", title, fields)
