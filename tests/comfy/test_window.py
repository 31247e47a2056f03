"""The window on a real ComfyUI server (conftest.py): Test connection lists its checkpoints, the Model
button chooses one, Generate makes the picture there with the artist's own LoRA file found by name,
the result joins the history with the server named, applies as a layer, and Reuse stays on the server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sketchdiffuse.generation.model_ref import SourceKind
from sketchdiffuse.generation.request import SizePolicy
from sketchdiffuse.qt.generating.servers_dialog import OK_STYLE, ServersDialog
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.session.loras import encode_loras
from sketchdiffuse.session.servers import Server, ServerList
from sketchdiffuse.session.settings import write_run
from tests.comfy.conftest import CHECKPOINT, LORA
from tests.comfy.conftest import Server as ComfyServer
from tests.qt.conftest import isolated_settings, window  # noqa: F401 (fixtures)

pytestmark = pytest.mark.comfy
TIMEOUT = 240_000


def test_test_connection_lists_the_servers_checkpoints(qtbot, window: MainWindow, comfy_server: ComfyServer):  # noqa: F811
    dialog = ServersDialog(ServerList(), window.generation.probe, window)
    qtbot.addWidget(dialog)
    dialog.add_button.click()
    dialog.address.setText(comfy_server.url)
    dialog.address.editingFinished.emit()
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.report.text().startswith("Connected"), timeout=60_000)
    assert dialog.report.styleSheet() == OK_STYLE
    assert "with 1 checkpoint, 1 LoRA, 1 ControlNet." in dialog.report.text()
    assert [dialog.checkpoint.itemText(i) for i in range(dialog.checkpoint.count())] == [CHECKPOINT]
    assert dialog.chosen() == ServerList((Server(comfy_server.url, "", CHECKPOINT),), comfy_server.url)


def test_generate_on_the_server_from_the_window(
    qtbot,
    window: MainWindow,  # noqa: F811
    comfy_server: ComfyServer,
    tmp_path: Path,
):
    ui = window.generation
    ui.use_servers(ServerList((Server(comfy_server.url),), active=comfy_server.url))
    window.prompter.answers["server_checkpoint"] = lambda names, chosen: names[0]  # type: ignore[attr-defined]
    ui.choose_model()  # not heard from yet: asked first, then the menu
    qtbot.waitUntil(lambda: ui.servers.current is not None and ui.servers.current.model == CHECKPOINT, timeout=60_000)
    assert ui.panel.model_label.text() == f"{CHECKPOINT} (server)"
    write_run(ui.storage, ui.run_settings().with_(size_policy=SizePolicy.CANVAS))  # 200 x 150: quick on the CPU
    mine = tmp_path / "my-loras" / LORA  # the artist's copy of the file the server has
    mine.parent.mkdir()
    shutil.copy(comfy_server.base / "models" / "loras" / LORA, mine)
    ui.panel.set_values({"prompt": "a red square", "steps": 3, "strength": 0.7, "seed": 5, "seed_locked": True,
                         "scheduler": "Euler", "loras": encode_loras([(str(mine), 0.8)])})  # fmt: skip
    with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT) as blocker:
        ui.generate()
    result = blocker.args[1]
    assert result.server == comfy_server.url and result.request.model.server == comfy_server.url
    assert result.image.shape == (150, 200, 3) and result.request.loras[0].path == str(mine)
    assert len(ui.strip.entries) == 1 and f"Made on ComfyUI at {comfy_server.url}" in ui.panel.status.text()
    layers = len(window.doc.layers)
    ui.apply(ui.strip.entries[0])
    assert len(window.doc.layers) == layers + 1
    ui.use_servers(ui.servers.switched(""))  # back on this computer; Reuse returns to the server
    ui.reuse(ui.strip.entries[0])
    assert ui.servers.active == comfy_server.url and ui.build_request().model.kind is SourceKind.SERVER  # type: ignore[union-attr]
    assert ui.shutdown()
