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
        ("ink.safetensors", 0.5),
        ("detail.safetensors", 0.3),
    ]
    qtbot.mouseClick(panel.lora_remove, Qt.MouseButton.LeftButton)
    assert panel.lora_list.count() == 1
    ui.panel.set_values({"prompt": "a boat <lora:unknown>"})
    assert ui.build_request() is None and "neither in the LoRA list" in panel.status.text()


def test_references_by_drop_file_and_history_menu_reach_the_request_and_the_project(
    qtbot, window: MainWindow, tmp_path: Path
):
    import numpy as np
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from sketchdiffuse.generation import GenerationRequest, GenerationResult, ModelRef
    from sketchdiffuse.generation.request import ModelIdentity
    from sketchdiffuse.session.settings import write_run
    from tests.qt.test_drop_events import png_bytes

    ui = window.generation
    area = ui.references
    path = tmp_path / "look.png"
    path.write_bytes(png_bytes((200, 30, 30), (40, 30)))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    actions, buttons, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(5, 5), actions, mime, buttons, mods)
    QApplication.sendEvent(area, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(area, QDropEvent(QPointF(5, 5), actions, mime, buttons, mods))
    assert len(area.references) == 1 and tuple(area.references[0].image[5, 5]) == (200, 30, 30)
    assert not area.add_file(str(tmp_path / "missing.png")) and len(area.references) == 1

    image = np.full((8, 8, 3), 90, np.uint8)
    result = GenerationResult(
        image, GenerationRequest("x", ModelRef.parse("some/model")), 1, 1, 1, {}, ModelIdentity("m", "", ""), 8, 8
    )
    ui.strip.add(result)
    ui.strip.menu_for(ui.strip.entries[0]).actions()[3].trigger()  # Use as reference
    assert len(area.references) == 2 and (area.references[1].image == 90).all()
    area.list.setCurrentRow(1)
    area.weight.setValue(1.2)
    assert area.references[1].weight == 1.2 and area.list.item(1).text() == "1.2"
    qtbot.mouseClick(area.style_only, Qt.MouseButton.LeftButton)
    assert area.references[1].style_only and area.list.item(1).text() == "1.2 style"

    assert ui.build_request() is None and "IP-Adapter" in ui.panel.status.text()  # none set yet
    write_run(ui.storage, replace_ip_adapter(ui.run_settings(), "h94/IP-Adapter:models/ip-adapter_sd15.safetensors"))
    request = ui.build_request()
    assert request is not None and [r.weight for r in request.references] == [0.6, 1.2]
    assert [r.style_only for r in request.references] == [False, True]

    extras = ui.project_extras()
    area.set_references([])
    ui.restore(extras)
    assert [(r.weight, r.style_only) for r in area.references] == [(0.6, False), (1.2, True)]


def replace_ip_adapter(run, source: str):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(run, ip_adapter=source)


def test_a_layer_becomes_a_reference_from_the_layer_menu(window: MainWindow):
    window.doc.active_layer.pixels[10:40, 10:60] = (0, 0, 200, 255)
    window.actions_by_name["layer_reference"].trigger()
    refs = window.generation.references.references
    assert (
        len(refs) == 1 and tuple(refs[0].image[20, 20]) == (0, 0, 200) and tuple(refs[0].image[100, 100]) == (255,) * 3
    )


def test_a_shift_drop_on_the_canvas_makes_a_reference_not_a_layer(window: MainWindow, tmp_path: Path):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from tests.qt.test_drop_events import png_bytes

    path = tmp_path / "look.png"
    path.write_bytes(png_bytes((10, 200, 10)))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    actions, buttons = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    shift = Qt.KeyboardModifier.ShiftModifier
    layers = len(window.doc.layers)
    QApplication.sendEvent(window.canvas, QDragEnterEvent(QPoint(50, 50), actions, mime, buttons, shift))
    QApplication.sendEvent(window.canvas, QDropEvent(QPointF(50, 50), actions, mime, buttons, shift))
    assert len(window.doc.layers) == layers
    refs = window.generation.references.references
    assert len(refs) == 1 and tuple(refs[0].image[2, 2]) == (10, 200, 10)


def test_a_dropped_pictures_controlnet_settings_reach_the_control_layer(window: MainWindow):
    from sketchdiffuse.document.control_role import ControlRole

    window.layers.set_control_role(ControlRole("lineart", "/nets/lineart", 1.0))
    ui = window.generation
    ui.load_parameters_text(
        'a boat <lora:ink:0.5>\nSteps: 12, ControlNet 0: "Module: lineart, Model: lineart, Weight: 0.4, '
        'Guidance Start: 0.2, Guidance End: 0.8", ControlNet 1: "Module: canny, Model: c, Weight: 1"'
    )
    role = window.doc.active_layer.control
    assert role == ControlRole("lineart", "/nets/lineart", 0.4, 0.2, 0.8)
    assert ui.panel.values()["prompt"] == "a boat <lora:ink:0.5>" and ui.panel.values()["steps"] == 12
    assert "1 of the picture's ControlNet settings found no control layer" in ui.panel.status.text()
    window.history.undo()
    assert window.doc.active_layer.control == ControlRole("lineart", "/nets/lineart", 1.0)
