"""Generating from the canvas with the tiny real model: worker thread, history strip, apply, drops."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication

from sketchdiffuse.generation.request import GenerationResult
from sketchdiffuse.io.images import export_image
from sketchdiffuse.io.pixels import flatten_on
from sketchdiffuse.io.png_meta import format_parameters
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.session.settings import RunSettings
from tests.images import read_image

TIMEOUT = 60_000


def draw(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    qtbot.mouseMove(window.canvas, QPoint(150, 120))
    qtbot.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(150, 120))


def generate(qtbot, window: MainWindow, shortcut: str = "generate") -> GenerationResult:  # type: ignore[no-untyped-def]
    ui = window.generation
    with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT) as blocker:
        ui.actions[shortcut].trigger()
    return blocker.args[1]


def test_draw_generate_apply_undo(qtbot, gen_window: MainWindow):
    window, ui = gen_window, gen_window.generation
    draw(qtbot, window)
    assert ui.actions["generate"].shortcut().toString() == "Ctrl+Return"
    result = generate(qtbot, window)
    assert len(ui.strip.entries) == 1
    request = ui.strip.entries[0].result.request
    assert (request.prompt, request.strength, request.steps, request.guidance_scale, request.scheduler) == (
        "a cat",
        0.5,
        4,
        7.0,
        "Euler",
    )
    assert result.seed == 77 and result.image.shape == (150, 200, 3)
    # The sketch that was sent is the flattened canvas.
    assert np.array_equal(request.init_image, flatten_on(window.doc.composite()))
    assert request.init_image.min() == 0  # the black stroke is in it
    layers = len(window.doc.layers)
    ui.strip.itemDoubleClicked.emit(ui.strip.item(0))
    assert len(window.doc.layers) == layers + 1
    applied = window.doc.active_layer
    assert applied.name == "a cat (77)"
    assert np.array_equal(applied.pixels[..., :3], result.image) and (applied.pixels[..., 3] == 255).all()
    window.history.undo()
    assert len(window.doc.layers) == layers


def test_regenerate_uses_the_last_seed_and_unlocked_seeds_change(qtbot, gen_window: MainWindow):
    ui = gen_window.generation
    ui.panel.seed_lock.setChecked(False)
    first = generate(qtbot, gen_window)
    second = generate(qtbot, gen_window)
    assert first.seed != second.seed
    again = generate(qtbot, gen_window, "regenerate")
    assert again.seed == second.seed and np.array_equal(again.image, second.image)
    assert len(ui.strip.entries) == 3 and ui.strip.entries[0].result is again  # newest first


def test_cancel_leaves_no_entry_and_the_next_generation_works(qtbot, gen_window: MainWindow):
    ui = gen_window.generation
    ui.panel.set_values({"strength": 1.0, "steps": 150})
    controller = ui.ensure_controller()
    controller.progress.connect(lambda job, p: ui.actions["cancel"].trigger())
    with qtbot.waitSignal(controller.cancelled, timeout=TIMEOUT):
        ui.actions["generate"].trigger()
    assert ui.strip.entries == []
    controller.progress.disconnect()
    controller.progress.connect(ui._on_progress)
    ui.panel.set_values({"strength": 0.5, "steps": 4})
    generate(qtbot, gen_window)
    assert len(ui.strip.entries) == 1


def test_a_second_press_replaces_the_running_job(qtbot, gen_window: MainWindow):
    ui = gen_window.generation
    controller = ui.ensure_controller()
    finished: list[GenerationResult] = []
    controller.finished.connect(lambda job, r: finished.append(r))
    ui.panel.set_values({"strength": 1.0, "steps": 150, "prompt": "first"})
    ui.actions["generate"].trigger()
    qtbot.waitSignal(controller.progress, timeout=TIMEOUT).wait()
    ui.panel.set_values({"strength": 0.5, "steps": 4, "prompt": "second"})
    ui.actions["generate"].trigger()
    ui.actions["generate"].trigger()  # pressing again while busy never piles up jobs
    qtbot.waitUntil(lambda: not controller.busy, timeout=TIMEOUT)
    assert [r.request.prompt for r in finished] == ["second"]
    assert [e.result.request.prompt for e in ui.strip.entries] == ["second"]


def test_stale_messages_are_ignored(qtbot, gen_window: MainWindow):
    ui = gen_window.generation
    controller = ui.ensure_controller()
    result = generate(qtbot, gen_window)
    controller.worker.finished.emit(1, result)  # job 1 is long over
    QApplication.processEvents()  # delivered (the emit is on this thread) and ignored
    assert len(ui.strip.entries) == 1


def test_the_controller_relays_every_message_on_the_windows_thread(qtbot, gen_window: MainWindow):
    """Its job bookkeeping is not guarded by a lock: only the window's thread may read or change it."""

    controller = gen_window.generation.ensure_controller()
    threads: set[str] = set()
    for signal in (controller.progress, controller.preview, controller.finished, controller.busyChanged):
        # Direct: the slot runs in whichever thread the controller emits from.
        signal.connect(lambda *args: threads.add(threading.current_thread().name), Qt.ConnectionType.DirectConnection)
    generate(qtbot, gen_window)
    assert threads == {threading.main_thread().name}


def test_the_window_keeps_responding_while_generating(qtbot, gen_window: MainWindow):
    ui = gen_window.generation
    ui.panel.set_values({"strength": 1.0, "steps": 60})
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    generate(qtbot, gen_window)
    timer.stop()
    # The event loop kept running during the job; how smoothly is measured by benchmarks/bench_ui_latency.py.
    assert len(ticks) > 10


def test_a_missing_model_is_a_clear_message_not_a_crash(
    qtbot, gen_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ui = gen_window.generation
    explained = gen_window.prompter.explained
    assert not ui.set_model(str(tmp_path / "nothing-here"))
    empty = tmp_path / "empty"
    empty.mkdir()
    ui.panel.model = str(empty)
    with qtbot.waitSignal(ui.ensure_controller().failed, timeout=TIMEOUT) as blocker:
        ui.actions["generate"].trigger()
    assert "model_index.json" in blocker.args[1] and blocker.args[2]  # a model problem
    assert "model_index.json" in ui.panel.status.text()
    assert explained and "model_index.json" in explained[0]  # the friendly page explains the choices


def test_drops_add_layers_and_report_bad_files(
    gen_window: MainWindow, tmp_path: Path, no_dialogs: list[str], monkeypatch: pytest.MonkeyPatch
):
    window = gen_window
    png = tmp_path / "ref.png"
    Image.new("RGB", (400, 100), (0, 255, 0)).save(png)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    layers = len(window.doc.layers)
    window.drop.import_paths([str(png), str(bad)])
    buf = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 255)).save(buf, "PNG")
    window.drop.import_image_data(buf.getvalue())
    assert len(window.doc.layers) == layers + 2
    assert len(no_dialogs) == 1 and "broken.jpg" in no_dialogs[0]
    ref = window.doc.layers[layers]
    assert ref.name == "ref"
    # Scaled to fit the 200 x 150 canvas (aspect kept) and centred.
    rows = np.flatnonzero(ref.pixels[..., 3].any(axis=1))
    assert ref.pixels[75, 0, 1] == 255 and (rows[0], rows[-1]) == (50, 99)  # 400 x 100 -> 200 x 50
    window.history.undo()
    window.history.undo()
    assert len(window.doc.layers) == layers


def test_a_dropped_png_with_parameters_offers_them(
    gen_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    text = format_parameters("a red fox", "blurry", {"Steps": 9, "Sampler": "DDIM", "CFG scale": 4.5, "Seed": 1234})
    path = tmp_path / "fox.png"
    export_image(np.full((8, 8, 4), 255, np.uint8), path, text={"parameters": text})
    gen_window.prompter.answers["load_parameters"] = True
    gen_window.drop.import_paths([str(path)])
    values = gen_window.generation.panel.values()
    assert (values["prompt"], values["negative_prompt"], values["steps"], values["scheduler"], values["seed"]) == (
        "a red fox",
        "blurry",
        9,
        "DDIM",
        1234,
    )
    assert values["guidance_scale"] == 4.5


def test_history_and_settings_are_saved_in_the_project(
    qtbot, gen_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    window, ui = gen_window, gen_window.generation
    ui.panel.seed_lock.setChecked(False)
    results = [generate(qtbot, window) for _ in range(3)]
    ui.strip.set_pinned(ui.strip.entries[2], True)
    ui.panel.set_values({"prompt": "a castle", "steps": 9})
    path = tmp_path / "project.ora"
    window.prompter.answers["save_path"] = str(path)
    assert window.files.save_as()
    window.set_document(window.doc, None)  # a new, empty strip
    assert ui.strip.entries == []
    assert window.files.open_path(path)
    restored = ui.strip.entries
    assert [e.result.seed for e in restored] == [r.seed for r in reversed(results)]
    assert [e.pinned for e in restored] == [False, False, True]
    for entry, original in zip(restored, reversed(results), strict=True):
        assert np.array_equal(entry.result.image, original.image)
        r = entry.result.request
        assert (r.prompt, r.strength, r.steps, r.guidance_scale, r.scheduler) == ("a cat", 0.5, 4, 7.0, "Euler")
        assert entry.result.model == original.model
    assert ui.panel.values()["prompt"] == "a castle" and ui.panel.values()["steps"] == 9
    # Other programs see an ordinary OpenRaster file.
    import zipfile

    names = zipfile.ZipFile(path).namelist()
    assert "sketchdiffuse/history/index.json" in names and "stack.xml" in names


def test_damaged_history_entries_are_skipped():
    from sketchdiffuse.generation.history_store import decode_history

    entries, settings, warnings = decode_history({"history/index.json": b"{not json", "settings.json": b"[1]"})
    assert entries == [] and settings == {} and warnings
    index = b'{"version": 1, "entries": [{"file": "history/0000.png", "prompt": "x"}]}'
    entries, _, warnings = decode_history({"history/index.json": index, "history/0000.png": b"garbage"})
    assert entries == [] and "skipped" in warnings[0]


def test_choosing_a_turbo_model_applies_its_family_defaults(window: MainWindow, tiny_sd: Path, tmp_path: Path):
    import shutil

    turbo = tmp_path / "tiny-sd-turbo"
    shutil.copytree(tiny_sd, turbo)
    ui = window.generation
    ui.panel.set_values({"steps": 30, "guidance_scale": 8.0})
    assert ui.set_model(str(turbo))
    values = ui.panel.values()
    assert (values["steps"], values["guidance_scale"], values["scheduler"]) == (2, 0.0, "Euler a")
    assert ui.set_model(str(tiny_sd))
    assert ui.panel.values()["steps"] == 20


def test_generation_settings_reach_the_request(gen_window: MainWindow, monkeypatch: pytest.MonkeyPatch):
    ui = gen_window.generation
    chosen = {
        "device": "cpu",
        "precision": "fp32",
        "size_policy": "canvas",
        "cpu_offload": "false",
        "vae_tiling": "true",
    }
    ui.prompter.answers["run_settings"] = lambda current: RunSettings.from_mapping(chosen)
    ui.actions["settings"].trigger()
    request = ui.build_request()
    assert request is not None
    assert (request.model.device, request.model.precision, request.size_policy.value) == ("cpu", "fp32", "canvas")
    assert request.model.vae_tiling and not request.model.cpu_offload
    from sketchdiffuse.generation.models import load_model

    assert load_model(request.model).pipe.vae.use_tiling  # the option reaches the loaded pipeline


def test_closing_during_a_long_load_never_destroys_a_running_thread(
    qtbot, window: MainWindow, tiny_sd: Path, monkeypatch: pytest.MonkeyPatch
):
    from sketchdiffuse.qt.generating import worker as worker_module

    ui = window.generation
    assert ui.set_model(str(tiny_sd))
    controller = ui.ensure_controller()
    real = controller.worker.engine.ensure_model
    loading, release = threading.Event(), threading.Event()

    def slow_load(ref, on_load=None):  # a load that cannot be interrupted and outlasts the close
        loading.set()
        release.wait(30)
        return real(ref, on_load)

    monkeypatch.setattr(controller.worker.engine, "ensure_model", slow_load)
    ui.generate()
    qtbot.waitUntil(loading.is_set, timeout=TIMEOUT)
    assert window.close()  # returns while the load still runs
    assert controller in worker_module._outliving and controller.parent() is not ui
    release.set()
    qtbot.waitUntil(lambda: controller.worker_thread.isFinished(), timeout=15_000)
    qtbot.waitUntil(lambda: controller not in worker_module._outliving, timeout=5_000)


def test_a_first_run_starts_with_the_default_models_family_defaults(window: MainWindow):
    values = window.generation.panel.values()
    assert values["model"] == "stabilityai/sd-turbo"
    assert (values["steps"], values["guidance_scale"], values["scheduler"]) == (2, 0.0, "Euler a")


def test_save_as_png_keeps_the_parameters_and_the_record(qtbot, gen_window: MainWindow, tmp_path: Path, monkeypatch):
    from sketchdiffuse.generation.history_store import entry_from_png
    from sketchdiffuse.io.png_meta import PARAMETERS_KEY, parse_parameters

    window, ui = gen_window, gen_window.generation
    draw(qtbot, window)
    result = generate(qtbot, window)
    target = tmp_path / "kept"
    window.prompter.answers["save_path"] = str(target)
    ui.save_entry(ui.strip.entries[0])
    saved = target.with_suffix(".png").read_bytes()
    with Image.open(io.BytesIO(saved)) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), result.image)
        prompt, _negative, settings = parse_parameters(image.text[PARAMETERS_KEY])
    assert (prompt, settings["Seed"]) == ("a cat", str(result.seed))
    assert entry_from_png(saved).result.seed == result.seed  # Import Results reads it back


@pytest.mark.parametrize("seed", [0, 2**31 - 1, 2**31, 4_000_000_000, 2**32 - 1])
def test_every_seed_survives_the_panel(window: MainWindow, seed: int):
    panel = window.generation.panel
    panel.set_values({"seed": seed, "seed_locked": True})
    assert panel.values()["seed"] == seed and panel.seed_for_next() == seed
    panel.last_seed = seed
    panel.set_values({"seed": 1})
    panel.reuse_seed.click()
    assert panel.seed_for_next() == seed


def test_a_seed_above_two_to_the_31_survives_history_project_and_png(
    qtbot, gen_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from sketchdiffuse.generation.history_store import entry_from_png
    from sketchdiffuse.io.png_meta import parse_parameters

    window, ui = gen_window, gen_window.generation
    seed = 4_000_000_000
    ui.panel.set_values({"seed": seed, "seed_locked": True})
    assert generate(qtbot, window).seed == seed
    path = tmp_path / "project.ora"
    window.prompter.answers["save_path"] = str(path)
    assert window.files.save_as(wait=True)
    window.set_document(window.doc, None)
    assert window.files.open_path(path)
    entry = ui.strip.entries[0]
    assert entry.result.seed == seed
    ui.panel.set_values({"seed": 5})
    ui.reuse(entry)
    assert ui.panel.values()["seed"] == seed
    png = tmp_path / "result.png"
    window.prompter.answers["save_path"] = str(png)
    ui.save_entry(entry)
    assert parse_parameters(read_image(png).text["parameters"])[2]["Seed"] == str(seed)
    assert entry_from_png(png.read_bytes()).result.seed == seed


def test_every_history_menu_action(qtbot, gen_window: MainWindow, tmp_path: Path):
    from PySide6.QtWidgets import QApplication

    window, ui = gen_window, gen_window.generation
    ui.panel.set_values({"seed": 4_000_000_000, "seed_locked": True})
    generate(qtbot, window)
    entry = ui.strip.entries[0]

    def trigger(text: str) -> None:
        (action,) = [a for a in ui.strip.menu_for(entry).actions() if a.text() == text]
        action.trigger()

    ui.panel.set_values({"seed": 1, "prompt": "something else"})
    trigger("Reuse settings")
    assert ui.panel.values()["seed"] == 4_000_000_000 and ui.panel.values()["prompt"] == "a cat"
    layers = len(window.doc.layers)
    trigger("Apply as layer")
    assert len(window.doc.layers) == layers + 1
    trigger("Copy image")
    copied = QApplication.clipboard().image()
    assert (copied.width(), copied.height()) == entry.result.image.shape[1::-1]
    window.prompter.answers["save_path"] = str(tmp_path / "kept.png")
    trigger("Save as PNG…")
    assert (tmp_path / "kept.png").is_file()
    trigger("Pin")
    assert entry.pinned
    trigger("Unpin")
    assert not entry.pinned
    trigger("Delete")
    assert entry not in ui.strip.entries and ui.strip.count() == len(ui.strip.entries)


def test_generate_variations_fills_the_history_one_by_one(qtbot, gen_window: MainWindow):
    ui = gen_window.generation
    ui.panel.set_values({"seed": 2**32 - 2, "seed_locked": True})
    arrived: list[int] = []
    ui.ensure_controller().finished.connect(lambda job, result: arrived.append(result.seed))
    ui.actions["variations"].trigger()
    qtbot.waitUntil(lambda: len(arrived) == 4, timeout=TIMEOUT)
    assert arrived == [2**32 - 2, 2**32 - 1, 0, 1]
    assert [e.result.seed for e in ui.strip.entries] == [1, 0, 2**32 - 1, 2**32 - 2]  # newest first


def test_refine_from_the_history_menu_runs_the_refiner_over_the_picture(
    qtbot, window: MainWindow, tiny_sdxl: Path, tiny_refiner: Path
):
    ui = window.generation
    assert ui.set_model(str(tiny_sdxl))
    ui.panel.set_values({"prompt": "a cat", "strength": 0.6, "steps": 10, "scheduler": "Euler", "seed": 5})
    ui.panel.set_values({"seed_locked": True})
    draw(qtbot, window)
    first = generate(qtbot, window)
    entry = ui.strip.entries[0]
    refine = next(a for a in ui.strip.menu_for(entry).actions() if a.text() == "Refine")
    refine.trigger()  # no refiner chosen yet: a message, no job
    assert "refiner" in ui.panel.status.text().lower() and len(ui.strip.entries) == 1
    window.prompter.answers["run_settings"] = lambda current: current.with_(refiner=str(tiny_refiner))
    ui.edit_settings()
    with qtbot.waitSignal(ui.ensure_controller().finished, timeout=TIMEOUT) as blocker:
        next(a for a in ui.strip.menu_for(entry).actions() if a.text() == "Refine").trigger()
    refined: GenerationResult = blocker.args[1]
    assert refined.request.model.source == str(tiny_refiner) and refined.request.strength == 0.3
    assert refined.seed == first.seed and refined.model.family == "SDXL refiner"
    assert np.array_equal(refined.request.init_image, first.image)  # the picture, not the canvas
    assert len(ui.strip.entries) == 2
    # With the refiner set, Generate runs base + refiner and says so in the picture's parameters.
    both = generate(qtbot, window)
    assert both.refiner is not None and both.refiner.name == "tiny-refiner"
    assert ui.shutdown()


def test_a_model_nobody_recognises_asks_what_it_is(qtbot, window: MainWindow, tmp_path: Path):
    import torch
    from safetensors.torch import save_file

    from sketchdiffuse.generation.family_override import FamilyOverride

    odd = tmp_path / "odd-model.safetensors"
    save_file({"model.diffusion_model.odd_block.weight": torch.zeros(4, 4)}, odd)
    ui = window.generation
    ui.set_model(str(odd))
    asked: list[str] = []

    def answer(name, detected, current, problem):  # type: ignore[no-untyped-def]
        asked.append(problem)
        return FamilyOverride(base="sd1", distilled="turbo")

    window.prompter.answers["model_override"] = answer
    with qtbot.waitSignal(ui.ensure_controller().failed, timeout=TIMEOUT):
        ui.generate()
    qtbot.waitUntil(lambda: bool(asked), timeout=TIMEOUT)
    assert "does not recognise" in asked[0] and not window.prompter.explained  # asked, not the model page
    request = ui.build_request()
    assert request is not None and request.model.override == FamilyOverride(base="sd1", distilled="turbo")
    assert ui.panel.values()["steps"] == 2  # the family's defaults (a Turbo: 2 steps)
    # The Generate menu's Model Settings shows what is remembered and can clear it.
    window.prompter.answers["model_override"] = lambda name, detected, current, problem: (
        asked.append(f"current={current.base}") or FamilyOverride()
    )
    ui.actions["model_settings"].trigger()
    assert asked[-1] == "current=sd1"
    request = ui.build_request()
    assert request is not None and request.model.override is None
    assert ui.shutdown()
