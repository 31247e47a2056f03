"""Screenshots of the window for docs/, taken on a virtual screen:

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshot.py strokes docs/window-strokes.png

Modes: ``empty`` (a new document), ``strokes`` (two strokes on two layers),
``generate MODEL`` (strokes, then a generation with MODEL; the tests' tiny model works),
``live MODEL`` (strokes with live mode on), ``recovery`` (the dialog offered after a crash),
``settings`` (Generation settings with an SDXL refiner chosen) or
``toy`` (a crude red blob on a 512 px canvas turned into "a red circle" by the toy-shapes model,
three seeds in the history, the newest compared over the canvas) or ``toy-live`` (the same blob
with live mode on: the live pane shows the red circle), ``large`` (a 4096 x 4096 document of 24
layers fitted to the window, a layer's opacity just lowered: the reduced view's preview) or
``large-settled`` (the same once the idle canvas has made it exact), ``toy-select`` (a rectangle selected
beside a painted square) or ``toy-inpaint`` ("a red circle" generated in that selection by the toy
inpainting model and applied), ``transform`` (a free transform of the selected square in progress),
``quick-mask`` (a stroke painted in quick mask) or ``outpaint`` (the canvas expanded on the right and
"a red circle" generated into the new area), ``servers URL`` (pictures made on the ComfyUI server at URL,
for instance tests/comfy's test peer: the status bar and model row say so; the servers dialog after
Test connection is saved beside the target as ...-dialog.png).
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QPointF, QSettings, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from sketchdiffuse.qt.generating.generation_ui import GenerationUi
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.prompter import ScriptedPrompter
from sketchdiffuse.qt.theme import apply_theme
from sketchdiffuse.session.document_session import default_document


def paint_strokes(w: MainWindow) -> None:
    c = w.canvas
    w.tools.set_color(QColor(30, 60, 160))
    w.tools.set_brush(w.tools.brush.with_(size=18.0))
    ellipse = [
        c.to_widget(QPointF(300 + 300 * math.cos(t / 40), 420 + 250 * math.sin(t / 40))) for t in range(0, 252, 3)
    ]
    c.begin_stroke(ellipse[0], 0.3)
    for i, p in enumerate(ellipse[1:]):
        c.continue_stroke(p, 0.3 + 0.7 * math.sin(i / len(ellipse) * math.pi))
    c.end_stroke()
    w.actions_by_name["layer_new"].trigger()
    w.tools.set_color(QColor(220, 80, 40))
    w.tools.set_brush(w.tools.brush.with_(size=60.0, hardness=0.3, opacity=0.6))
    wave = [c.to_widget(QPointF(200 + i * 6, 300 + 120 * math.sin(i / 12))) for i in range(110)]
    c.begin_stroke(wave[0])
    for p in wave[1:]:
        c.continue_stroke(p)
    c.end_stroke()
    c._cursor_pos = c.to_widget(QPointF(700, 300))


def show_recovery(w: MainWindow, target: str) -> None:
    """A copy autosaved by a window whose process has gone, offered in the recovery dialog."""
    import subprocess
    import tempfile
    from pathlib import Path

    from sketchdiffuse.io.recovery import RecoveryStore
    from sketchdiffuse.qt.files.recovery_dialog import RecoveryDialog

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    store = RecoveryStore(Path(tempfile.mkdtemp()))
    store.folder = store.root / f"{child.pid}-1"
    store.write(w.doc, {}, "harbour study.ora", Path.home() / "Pictures" / "harbour study.ora")
    dialog = RecoveryDialog(RecoveryStore(store.root).recoverable(), w)
    dialog.show()

    def grab_dialog() -> None:
        dialog.grab().save(target)
        w.history.set_clean()
        QApplication.instance().quit()  # type: ignore[union-attr]

    QTimer.singleShot(800, grab_dialog)


def show_settings(target: str) -> None:
    """The Generation settings dialog with an SDXL refiner chosen."""
    from pathlib import Path

    from sketchdiffuse.qt.dialogs import GenerationSettingsDialog
    from sketchdiffuse.session.settings import RunSettings

    refiner = str(Path.home() / "models" / "sd_xl_refiner_1.0.safetensors")
    dialog = GenerationSettingsDialog(RunSettings(refiner=refiner, refiner_switch=0.8))
    dialog.show()

    def grab_dialog() -> None:
        dialog.grab().save(target)
        QApplication.instance().quit()  # type: ignore[union-attr]

    QTimer.singleShot(800, grab_dialog)


TOY = "tests/data/toy-shapes"


def paint_blob(w: MainWindow) -> None:
    """A quick, lumpy red scribble, as an artist blocks in a shape: zigzags of uneven reach."""
    c = w.canvas
    w.tools.set_color(QColor(210, 50, 40))
    w.tools.set_brush(w.tools.brush.with_(size=34.0, hardness=0.5))
    reach = [60, 95, 120, 110, 125, 90, 100, 70, 40]
    points = []
    for i, r in enumerate(reach):
        y = 150 + i * 26
        points += [QPointF(300 - r, y), QPointF(300 + r * 0.9, y + 13)]
    c.begin_stroke(c.to_widget(points[0]))
    for p in points[1:]:
        c.continue_stroke(c.to_widget(p))
    c.end_stroke()


def toy_setup(w: MainWindow, seed: int) -> GenerationUi:
    """A new 512 px document and the toy model asked for "a red circle" with ``seed``, locked."""
    w.set_document(default_document(512, 512), None)
    ui = w.generation
    ui.set_model(TOY)
    ui.panel.set_values(
        {"prompt": "a red circle", "strength": 0.8, "steps": 20, "guidance_scale": 4.0, "scheduler": "Euler"}
    )
    ui.panel.set_values({"seed": seed, "seed_locked": True})
    return ui


def toy_generation(w: MainWindow, grab: Callable[[], None]) -> None:
    ui = toy_setup(w, seed=3)
    paint_blob(w)
    done = {"n": 0}

    def next_job(*_: object) -> None:
        done["n"] += 1
        if done["n"] < 3:
            ui.panel.set_values({"seed": 3 + done["n"]})
            ui.generate()
        else:
            ui.compare(ui.strip.entries[0])  # the result over the scribble; the scribble stays below
            ui.strip.setCurrentRow(0)
            QTimer.singleShot(800, grab)

    ui.ensure_controller().finished.connect(next_job)
    ui.generate()


def toy_live(w: MainWindow, grab: Callable[[], None]) -> None:
    """Live mode with the toy model: the lumpy scribble, and the live pane's red circle beside it."""
    ui = toy_setup(w, seed=4)
    ui.live.resultShown.connect(lambda _r: QTimer.singleShot(800, grab))
    ui.actions["live"].setChecked(True)
    paint_blob(w)  # the finished stroke starts the live job


def square_document(w: MainWindow) -> GenerationUi:
    """The toy inpainting model's document: a blue square painted on the Sketch layer."""
    ui = toy_setup(w, seed=0)
    ui.set_model(TOY + "-inpaint")  # then the toy's values again: a model's defaults come with it
    ui.panel.set_values({"strength": 1.0, "guidance_scale": 4.0, "scheduler": "Euler", "steps": 20})
    doc = w.doc
    doc.layers[1].pixels[180:330, 60:210] = (40, 80, 220, 255)
    doc.notify_dirty(doc.rect, doc.layers[1])
    return ui


def toy_inpaint(w: MainWindow, grab: Callable[[], None], apply: bool) -> None:
    """A blue square painted on the left, a rectangle selected on the right and "a red circle" generated in
    it with the toy inpainting model: ``apply`` False shows the selection and its marching ants, True the
    result applied as a layer in the selection's place."""
    from sketchdiffuse.document import commands as cmd
    from sketchdiffuse.document import selection as sel

    ui = square_document(w)
    w.history.push(cmd.select(w.doc, sel.rectangle(512, 512, 270, 130, 470, 390), "Rectangle selection"))
    if not apply:
        QTimer.singleShot(500, grab)
        return

    def finished(*_: object) -> None:
        ui.apply(ui.strip.entries[0])
        QTimer.singleShot(800, grab)

    ui.ensure_controller().finished.connect(finished)
    ui.generate()


def transform_preview(w: MainWindow, grab: Callable[[], None]) -> None:
    """Free transform of the selected square: scaled, turned and moved, the handles around it."""
    from sketchdiffuse.document import canvas_commands as cc
    from sketchdiffuse.document import commands as cmd
    from sketchdiffuse.document import selection as sel

    square_document(w)
    w.history.push(cmd.select(w.doc, sel.rectangle(512, 512, 60, 180, 210, 330), "Rectangle selection"))
    w.canvas.begin_transform()
    transform = w.canvas._transform
    assert transform is not None
    transform.placement = cc.Placement(sx=1.3, sy=0.9, angle=25.0, dx=190.0, dy=-40.0)
    QTimer.singleShot(500, grab)


def quick_mask(w: MainWindow, grab: Callable[[], None]) -> None:
    """Quick mask: a brush stroke painted the selection; the rest is tinted red."""
    square_document(w)
    w.actions_by_name["quick_mask"].trigger()
    w.tools.set_brush(w.tools.brush.with_(size=70.0, hardness=0.8))
    c = w.canvas
    path = [c.to_widget(QPointF(280 + i * 8, 160 + 40 * math.sin(i / 5))) for i in range(25)]
    c.begin_stroke(path[0])
    for p in path[1:]:
        c.continue_stroke(p)
    c.end_stroke()
    QTimer.singleShot(500, grab)


def outpaint(w: MainWindow, grab: Callable[[], None]) -> None:
    """The canvas expanded by 256 px on the right; Generate painted "a red circle" into the new area."""
    square_document(w)
    w.prompter.answers["pixels"] = ([0, 0, 256, 0], (0.5, 0.5))  # type: ignore[attr-defined]
    w.actions_by_name["expand"].trigger()
    ui = w.generation

    def finished(*_: object) -> None:
        ui.apply(ui.strip.entries[0])
        QTimer.singleShot(800, grab)

    ui.ensure_controller().finished.connect(finished)
    ui.generate()


def large_document(w: MainWindow, grab: Callable[[], None], settled: bool) -> None:
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_document import painted_document

    w.set_document(painted_document(4096, 24), None)
    w.canvas.fit()
    w.doc.set_active(12)

    def lower() -> None:  # after the first paint, as an artist's drag would
        w.layers.opacity.setValue(25)
        if settled:
            QTimer.singleShot(400, wait)
        else:
            w.canvas.repaint()
            grab()

    def wait() -> None:
        QTimer.singleShot(200, grab) if w.doc.settled else QTimer.singleShot(200, wait)

    QTimer.singleShot(300, lower)


def toy_control(w: MainWindow, grab: Callable[[], None]) -> None:
    """A circle outlined on a control layer (Scribble, the toy ControlNet) steers "a red circle" to it; the
    result applied below the lines, the layer panel showing the control layer and its role."""
    import numpy as np

    from sketchdiffuse.document import commands as cmd
    from sketchdiffuse.document.control_role import ControlRole

    ui = toy_setup(w, seed=2)
    ui.panel.set_values({"strength": 1.0})
    doc = w.doc
    ys, xs = np.mgrid[0:512, 0:512]
    d = np.hypot(xs - 350, ys - 300)
    lines = doc.layers[1]
    lines.pixels[(d <= 110) & (d > 96)] = (30, 30, 30, 255)
    doc.notify_dirty(doc.rect, lines)
    w.history.push(cmd.set_layer_property(doc, 1, "name", "Lines"))
    w.layers.set_control_role(ControlRole("scribble", TOY + "-scribble"))

    def finished(*_: object) -> None:
        ui.apply(ui.strip.entries[0])
        w.history.push(cmd.move_layer(doc, 1, len(doc.layers) - 1))  # the lines over the picture
        ui.strip.setCurrentRow(0)
        QTimer.singleShot(800, grab)

    ui.ensure_controller().finished.connect(finished)
    ui.generate()


def references_area(w: MainWindow, grab: Callable[[], None]) -> None:
    """The prompt panel's LoRA list (the toy LoRA) and References area with two pictures, the second selected."""
    import numpy as np

    ui = toy_setup(w, seed=2)
    ui.panel.add_lora(TOY + "-lora/pytorch_lora_weights.safetensors", 0.8)
    ys, xs = np.mgrid[0:256, 0:256]
    circle = np.full((256, 256, 3), 255, np.uint8)
    circle[np.hypot(xs - 128, ys - 128) < 80] = (220, 40, 40)
    stripes = np.full((256, 256, 3), 255, np.uint8)
    stripes[(xs // 32) % 2 == 0] = (40, 80, 220)
    ui.references.add_pixels(circle)
    ui.references.add_pixels(stripes)
    ui.references.weight.setValue(0.35)
    paint_blob(w)
    QTimer.singleShot(500, grab)


def servers(w: MainWindow, grab: Callable[[], None]) -> None:
    """A blob generated on the server given on the command line, then the servers dialog tested."""
    from sketchdiffuse.qt.generating.servers_dialog import ServersDialog
    from sketchdiffuse.session.servers import Server, ServerList

    url, target = sys.argv[3], sys.argv[2]
    ui = w.generation
    listed = (Server("https://gpu.studio.example"), Server(url, model="sd15-random.safetensors"))
    ui.use_servers(ServerList(listed, active=url))
    ui.panel.set_values({"prompt": "a red circle", "steps": 3, "strength": 0.6, "scheduler": "Euler"})
    paint_blob(w)

    def test_connection(*_: object) -> None:
        dialog = ServersDialog(ui.servers, ui.probe, w)
        dialog.show()
        dialog.test_button.click()

        def reported(*_: object) -> None:
            QTimer.singleShot(300, lambda: (dialog.grab().save(target.replace(".png", "-dialog.png")), grab()))

        ui.probe.reported.connect(reported)

    ui.ensure_controller().finished.connect(lambda *_: QTimer.singleShot(500, test_connection))
    ui.generate()


# Scenes that set the window up and call grab when the picture is ready.
SCENES: dict[str, Callable[[MainWindow, Callable[[], None]], None]] = {
    "toy": toy_generation,
    "toy-live": toy_live,
    "toy-control": toy_control,
    "references": references_area,
    "servers": servers,
    "transform": transform_preview,
    "quick-mask": quick_mask,
    "outpaint": outpaint,
    "toy-select": partial(toy_inpaint, apply=False),
    "toy-inpaint": partial(toy_inpaint, apply=True),
    "large": partial(large_document, settled=False),
    "large-settled": partial(large_document, settled=True),
}


def main() -> None:
    mode, target = sys.argv[1], sys.argv[2]
    app = QApplication(sys.argv)
    app.setOrganizationName("sketchdiffuse-screenshots")
    # Fresh settings for every picture: one taken earlier must not leave its prompt or model behind.
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    apply_theme(app)
    w = MainWindow(prompter=ScriptedPrompter())
    w.show()

    def grab() -> None:
        w.grab().save(target)
        w.history.set_clean()
        w.close()
        app.quit()

    def start() -> None:
        if mode in ("strokes", "generate", "live", "recovery"):
            paint_strokes(w)
        if mode == "recovery":
            show_recovery(w, target)
            return
        if mode == "live":
            ui = w.generation
            ui.set_model(sys.argv[3])
            ui.panel.set_values({"prompt": "a lighthouse at dusk, watercolour", "strength": 0.6, "steps": 8})
            ui.live.resultShown.connect(lambda _r: QTimer.singleShot(800, grab))
            ui.actions["live"].setChecked(True)
            return
        scene = SCENES.get(mode)
        if scene is not None:
            scene(w, grab)
            return
        if mode == "settings":
            show_settings(target)
            return
        if mode == "generate":
            ui = w.generation
            ui.set_model(sys.argv[3])
            ui.panel.set_values(
                {
                    "prompt": "a lighthouse at dusk, watercolour",
                    "strength": 0.6,
                    "steps": 8,
                    "guidance_scale": 7.0,
                    "scheduler": "Euler a",
                    "seed_locked": False,
                }
            )
            controller = ui.ensure_controller()
            done = {"n": 0}

            def next_job(*_: object) -> None:
                done["n"] += 1
                if done["n"] < 3:
                    ui.generate()
                else:
                    ui.compare(ui.strip.entries[1])
                    ui.strip.setCurrentRow(1)
                    QTimer.singleShot(800, grab)

            controller.finished.connect(next_job)
            ui.generate()
            return
        QTimer.singleShot(800, grab)  # thumbnails refresh on a short timer

    QTimer.singleShot(500, start)
    app.exec()


if __name__ == "__main__":
    main()
