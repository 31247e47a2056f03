"""The prompt panel's LoRA list and the settings that steer generation, driven as the artist would."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from sketchdiffuse.qt.main_window import MainWindow


def test_the_lora_list_adds_weights_and_removes_and_reaches_the_request(qtbot, window: MainWindow, tmp_path: Path):
    ui = window.generation
    panel = ui.panel
    ink, detail = tmp_path / "ink.safetensors", tmp_path / "detail.safetensors"
    ink.write_bytes(b"")
    panel.add_lora(str(ink), 0.8)
    panel.add_lora(str(detail))
    panel.add_lora(str(ink))  # already there: not twice
    assert panel.lora_list.count() == 2 and panel.lora_list.item(0).text() == "ink  × 0.8"
    assert "missing" in panel.lora_list.item(1).toolTip()
    panel.lora_list.setCurrentRow(1)
    panel.lora_weight.clear()
    qtbot.keyClicks(panel.lora_weight, "0.3")
    qtbot.keyClick(panel.lora_weight, Qt.Key.Key_Return)
    assert panel.lora_list.item(1).text() == "detail  × 0.3"
    ui.panel.set_values({"prompt": "a boat <lora:ink:0.5>"})
    request = ui.build_request()
    assert request is not None and request.prompt == "a boat"
    assert [(Path(x.path).name, x.weight) for x in request.loras] == [
        ("ink.safetensors", 0.8),
        ("detail.safetensors", 0.3),
        ("ink.safetensors", 0.5),
    ]
    qtbot.mouseClick(panel.lora_remove, Qt.MouseButton.LeftButton)
    assert panel.lora_list.count() == 1
    ui.panel.set_values({"prompt": "a boat <lora:unknown>"})
    assert ui.build_request() is None and "neither in the LoRA list" in panel.status.text()
