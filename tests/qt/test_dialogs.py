"""The dialogs driven with real key and mouse events: what the artist types is what comes back,
and invalid values are refused in the dialog, not after it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from sketchdiffuse.document.layer import Layer, blank_pixels
from sketchdiffuse.qt.dialogs import GenerationSettingsDialog, LayerPropertiesDialog, NewDocumentDialog
from sketchdiffuse.session.settings import RunSettings


def press(qtbot, dialog, which: QDialogButtonBox.StandardButton) -> None:  # type: ignore[no-untyped-def]
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(which), Qt.MouseButton.LeftButton)


def retype(qtbot, widget, text: str) -> None:  # type: ignore[no-untyped-def]
    """Select all, delete, type: as an artist replaces a field's contents."""
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(widget, Qt.Key.Key_Backspace)
    qtbot.keyClicks(widget, text)


def test_new_document_size_as_typed(qtbot):
    dialog = NewDocumentDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    retype(qtbot, dialog.width_box, "640")
    retype(qtbot, dialog.height_box, "480")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.result() == 1 and dialog.chosen_size() == (640, 480)


def test_layer_properties_as_typed(qtbot):
    dialog = LayerPropertiesDialog(Layer("Ink", blank_pixels(4, 4)))
    qtbot.addWidget(dialog)
    dialog.show()  # laid out, so a click lands on the check box
    retype(qtbot, dialog.name, "Shadows")
    qtbot.keyClick(dialog.visible, Qt.Key.Key_Space)  # a short label: the keyboard toggles it reliably
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    values = dialog.values()
    assert values["name"] == "Shadows" and values["visible"] is False


def test_generation_settings_refuse_an_invalid_live_decoder_and_keep_the_dialog_open(qtbot, tmp_path):
    dialog = GenerationSettingsDialog(RunSettings(device="cpu", vae_tiling=True))
    qtbot.addWidget(dialog)
    dialog.show()
    retype(qtbot, dialog.tiny_autoencoder, str(tmp_path / "no-such-decoder.safetensors"))
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible() and dialog.problem.text()  # refused, with the reason shown
    retype(qtbot, dialog.tiny_autoencoder, "")
    qtbot.mouseClick(dialog.checks["cpu_offload"], Qt.MouseButton.LeftButton)
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    chosen = dialog.values()
    assert not dialog.isVisible() and dialog.result() == 1
    assert (chosen.device, chosen.vae_tiling, chosen.cpu_offload, chosen.tiny_autoencoder) == ("cpu", True, True, "")


def test_generation_settings_take_a_refiner_and_its_switch(qtbot, tmp_path):
    dialog = GenerationSettingsDialog(RunSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    retype(qtbot, dialog.refiner, str(tmp_path / "missing-refiner.safetensors"))
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible() and "missing-refiner" in dialog.problem.text()  # refused in the dialog
    refiner = tmp_path / "refiner"
    refiner.mkdir()
    (refiner / "model_index.json").write_text("{}")
    retype(qtbot, dialog.refiner, str(refiner))
    retype(qtbot, dialog.numbers["refiner_switch"].lineEdit(), "0.7")
    retype(qtbot, dialog.numbers["aesthetic_score"].lineEdit(), "7")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    chosen = dialog.values()
    assert not dialog.isVisible()
    assert (chosen.refiner, chosen.refiner_switch, chosen.aesthetic_score) == (str(refiner), 0.7, 7.0)


def test_the_control_role_dialog_returns_what_was_chosen_and_refuses_no_model(qtbot):
    from sketchdiffuse.document.control_role import ControlRole
    from sketchdiffuse.qt.painting.control_role_dialog import SUGGESTED, ControlRoleDialog

    dialog = ControlRoleDialog("Lines", None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.role() == ControlRole("scribble", SUGGESTED["scribble"])
    dialog.kind.setCurrentIndex(dialog.kind.findData("canny"))
    dialog.kind.activated.emit(dialog.kind.currentIndex())
    assert dialog.model.text() == SUGGESTED["canny"]  # the usual model follows the kind
    retype(qtbot, dialog.model, "/models/my-canny.safetensors")
    retype(qtbot, dialog.strength, "0.6")
    assert dialog.role() == ControlRole("canny", "/models/my-canny.safetensors", 0.6, 0.0, 1.0)
    retype(qtbot, dialog.model, "")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible() and "Name the ControlNet" in dialog.problem.text()
