"""Where pictures are made, in the window: the servers dialog with Test connection, switching from the
Generate menu, the status bar, the model row, and a job for a server that is not there."""

from __future__ import annotations

import socket
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
from sketchdiffuse.generation.request import GenerationRequest, GenerationResult, ModelIdentity
from sketchdiffuse.qt.generating.servers_dialog import NEW_SERVER, PROBLEM_STYLE, ServersDialog
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.settings_storage import QSettingsStorage
from sketchdiffuse.session.servers import LOCAL, Server, ServerList, read_servers
from tests.unit.test_servers import free_port

TIMEOUT = 30_000


@pytest.fixture
def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_the_dialog_adds_servers_tests_them_and_chooses_where(qtbot, window: MainWindow, nowhere: str):
    probe = window.generation.probe
    dialog = ServersDialog(ServerList((Server("http://kept:8188", "t", "kept.safetensors"),)), probe, window)
    qtbot.addWidget(dialog)
    assert dialog.rows.count() == 2 and dialog.rows.currentRow() == 0 and dialog.form_box.isHidden()
    dialog.add_button.click()
    dialog.add_button.click()  # a second new one on the same machine gets the next port
    assert [dialog.rows.item(i).text() for i in range(4)][2:] == [NEW_SERVER, NEW_SERVER[:-1] + "9"]
    dialog.address.setText(nowhere.removeprefix("http://"))  # typed without the scheme
    dialog.address.editingFinished.emit()
    assert dialog.rows.currentItem().text() == nowhere
    dialog.test_button.click()
    assert not dialog.test_button.isEnabled() and "Asking" in dialog.report.text()
    qtbot.waitUntil(lambda: "cannot be reached" in dialog.report.text(), timeout=TIMEOUT)
    assert dialog.report.styleSheet() == PROBLEM_STYLE and dialog.test_button.isEnabled()
    dialog.rows.setCurrentRow(2)
    dialog.remove_button.click()
    dialog.rows.setCurrentRow(2)
    chosen = dialog.chosen()
    assert [s.url for s in chosen.servers] == ["http://kept:8188", nowhere] and chosen.active == nowhere
    assert chosen.find("http://kept:8188") == Server("http://kept:8188", "t", "kept.safetensors")
    dialog.rows.setCurrentRow(0)
    assert dialog.chosen().active == LOCAL and not dialog.local_note.isHidden()


def test_switching_shows_where_in_the_status_bar_the_menu_and_the_model_row(window: MainWindow, nowhere: str):
    ui = window.generation
    local_model = ui.panel.model
    assert window.where_label.text() == "Generating on this computer"
    servers = ServerList((Server(nowhere, model="sd15.safetensors"),))
    window.prompter.answers["servers"] = servers.switched(nowhere)  # type: ignore[attr-defined]
    ui.actions["servers"].trigger()
    assert window.where_label.text() == f"Generating on ComfyUI at {nowhere}"
    assert ui.panel.model_label.toolTip() == f"sd15.safetensors on ComfyUI at {nowhere}"
    assert ui.panel.model == local_model  # this computer's model is kept for switching back
    request = ui.build_request()
    assert request is not None and request.model.kind is SourceKind.SERVER and request.model.server == nowhere
    assert read_servers(QSettingsStorage(QSettings())) == servers.switched(nowhere)  # remembered
    menu = [a for a in ui.where_menu.actions()]
    assert [a.text() for a in menu] == ["This Computer", nowhere] and menu[1].isChecked()
    menu[0].trigger()
    assert window.where_label.text() == "Generating on this computer" and ui.panel.model_label.toolTip() == local_model
    assert ui.build_request().model.kind is not SourceKind.SERVER  # type: ignore[union-attr]
    assert ui.where_menu.actions()[0].isChecked()


def test_a_job_for_a_server_that_is_not_there_is_a_sentence_and_nothing_changes(
    qtbot, window: MainWindow, nowhere: str
):
    ui = window.generation
    ui.use_servers(ServerList((Server(nowhere, model="sd15.safetensors"),), active=nowhere))
    layers = len(window.doc.layers)
    with qtbot.waitSignal(ui.ensure_controller().failed, timeout=TIMEOUT) as blocker:
        ui.generate()
    assert f"The ComfyUI server at {nowhere} cannot be reached" in blocker.args[1]
    assert "cannot be reached" in ui.panel.status.text() and len(ui.strip.entries) == 0
    assert len(window.doc.layers) == layers and not window.prompter.explained  # type: ignore[attr-defined]
    assert ui.shutdown()


def test_the_model_button_asks_the_server_for_its_checkpoints(qtbot, window: MainWindow, nowhere: str):
    ui = window.generation
    ui.use_servers(ServerList((Server(nowhere),), active=nowhere))
    assert ui.build_request() is None and "Choose a checkpoint on ComfyUI at" in ui.panel.status.text()
    ui.choose_model()
    assert "Asking ComfyUI at" in ui.panel.status.text()
    qtbot.waitUntil(lambda: "cannot be reached" in ui.panel.status.text(), timeout=TIMEOUT)
    assert "server_checkpoint" not in window.prompter.asked  # type: ignore[attr-defined]


def test_switching_to_a_server_that_cannot_be_used_says_so_at_once(qtbot, window: MainWindow, nowhere: str):
    ui = window.generation
    ui.use_servers(ServerList((Server(nowhere, model="sd15.safetensors"),), active=nowhere))
    assert ui.panel.status.text() == f"Pictures are now made on ComfyUI at {nowhere}."
    qtbot.waitUntil(lambda: "cannot be reached" in ui.panel.status.text(), timeout=TIMEOUT)
    assert ui.controller is None  # nothing was generated to find out


def test_switching_applies_the_defaults_of_the_model_now_in_use(window: MainWindow, nowhere: str):
    ui = window.generation
    turbo = (ui.panel.steps.value(), ui.panel.guidance.value(), ui.panel.scheduler.currentText())
    assert turbo[1] == 0.0  # the first run's default model is SD-Turbo: no guidance
    ui.use_servers(ServerList((Server(nowhere, model="v1-5-pruned-emaonly.safetensors"),), active=nowhere))
    assert (ui.panel.steps.value(), ui.panel.guidance.value(), ui.panel.scheduler.currentText()) == (
        20,
        7.0,
        "DPM++ 2M Karras",
    )
    ui.use_servers(ui.servers.switched(LOCAL))
    assert (ui.panel.steps.value(), ui.panel.guidance.value(), ui.panel.scheduler.currentText()) == turbo


def test_a_test_left_unanswered_does_not_lock_the_button_and_duplicates_are_refused(qtbot, window: MainWindow):
    silent = socket.socket()  # accepts connections (the backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    quiet = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        saved = ServerList((Server("http://a:8188", "ta", "a.safetensors"), Server(quiet)))
        dialog = ServersDialog(saved, window.generation.probe, window)
        qtbot.addWidget(dialog)
        dialog.rows.setCurrentRow(2)
        dialog.test_button.click()
        assert not dialog.test_button.isEnabled()
        dialog.rows.setCurrentRow(1)
        assert dialog.test_button.isEnabled() and dialog.address.text() == "http://a:8188"
        dialog.rows.setCurrentRow(2)
        dialog.address.setText("a:8188")  # row 1's address
        dialog.address.editingFinished.emit()
        assert dialog.address.text() == quiet and "is saved already" in dialog.report.text()
        dialog.address.setText("a:8188")
        dialog.test_button.click()  # the refusal stays; nothing is asked
        assert "is saved already" in dialog.report.text() and dialog.test_button.isEnabled()
        assert dialog.chosen().find("http://a:8188") == Server("http://a:8188", "ta", "a.safetensors")
        assert len(dialog.chosen().servers) == 2
    finally:
        silent.close()


def test_reuse_of_a_picture_made_here_comes_back_here(window: MainWindow, nowhere: str):
    ui = window.generation
    local = GenerationRequest(prompt="a cat", model=ModelRef.parse("stabilityai/sd-turbo"), steps=2)
    made = GenerationResult(np.zeros((8, 8, 3), np.uint8), local, 4, 2, 2, {}, ModelIdentity("m", "", "SD"), 8, 8)
    ui.strip.add(made)
    ui.use_servers(ServerList((Server(nowhere, model="sd15.safetensors"),), active=nowhere))
    ui.reuse(ui.strip.entries[0])
    assert ui.servers.active == LOCAL and ui.panel.model == "stabilityai/sd-turbo"
    assert window.where_label.text() == "Generating on this computer"
    elsewhere = replace(made, request=replace(local, model=ModelRef.on_server("x.safetensors", "http://gone:1")))
    ui.strip.add(elsewhere)
    ui.reuse(ui.strip.entries[0])
    assert "not among the saved servers" in ui.panel.status.text() and ui.servers.active == LOCAL
