"""Live mode end to end: from the release of a stroke on the canvas to the live result shown in the pane.

Runs the real window (offscreen) with live mode on, on a full-size SD-Turbo architecture with
random weights, 512 x 512 canvas, one effective step, in the precision sketchdiffuse picks for
this machine. Measures each combination of decoder (full VAE, tiny autoencoder) and live size
(512, 384): a few strokes each, after one untimed warm-up stroke.

Run: .venv/bin/python benchmarks/bench_live.py [--strokes 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

sys.path.insert(0, os.path.dirname(__file__))
from bench_generation import bench_cache, build_random_model, build_random_tiny_autoencoder
from window_setup import bench_window, offscreen_app, sketch_document, wait  # benchmarks/ is on sys.path

from sketchdiffuse.qt.main_window import MainWindow


def wait_for_result(window: MainWindow, timeout_s: float = 600) -> float:
    """When the live pane showed a new result (perf_counter seconds)."""
    live = window.generation.live
    if not wait(live.resultShown, timeout_s):
        raise SystemExit("no live result arrived: " + live.pane.info.text())
    return time.perf_counter()


def stroke(window: MainWindow, y: int) -> float:
    canvas = window.canvas
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(40, y))
    QTest.mouseMove(canvas, QPoint(300, y + 20))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(300, y + 20))
    return time.perf_counter()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strokes", type=int, default=3, help="timed strokes per configuration")
    args = parser.parse_args()
    app, scratch = offscreen_app("sketchdiffuse-bench-live")
    cache = bench_cache()
    folder = build_random_model("sd-turbo", cache / "sd-turbo-random")
    tiny = build_random_tiny_autoencoder(cache / "taesd-random")

    window = bench_window(sketch_document(512, 512), scratch, 1400, 900)
    ui = window.generation
    ui.set_model(str(folder))
    ui.panel.set_values(
        {"prompt": "a lighthouse", "strength": 0.5, "steps": 2, "guidance_scale": 0.0, "seed": 1, "seed_locked": True}
    )
    ui.panel.set_values({"scheduler": "Euler"})

    rows = []
    y = 20
    ui.actions["live"].setChecked(True)
    wait_for_result(window)  # loads the model
    for decoder in ("full VAE", "tiny autoencoder"):
        for side in (512, 384):
            window.settings.setValue("generation/live_side", str(side))
            window.settings.setValue("generation/tiny_autoencoder", str(tiny) if decoder != "full VAE" else "")
            y = (y + 13) % 480
            released = stroke(window, y)  # untimed: first job at this size and decoder
            wait_for_result(window)
            times = []
            for _ in range(args.strokes):
                y = (y + 13) % 480
                released = stroke(window, y)
                times.append(wait_for_result(window) - released)
            result = ui.live.result
            assert result is not None
            stages = {
                k: v for k, v in result.timings.items() if k in ("text_encode", "vae_encode", "denoise", "vae_decode")
            }
            rows.append((decoder, side, float(np.median(times)), min(times), stages, result.shortcuts))
    ui.actions["live"].setChecked(False)
    ui.shutdown()
    window.history.set_clean()  # nothing to ask about on close

    print("Live mode: stroke released -> live result shown (SD-Turbo architecture, random weights, 1 step, CPU)")
    print(f"{'decoder':<17} | {'live size':>9} | {'median s':>8} | {'best s':>6} | last job's stages (s)")
    print(f"{'-' * 17}-|-{'-' * 9}-|-{'-' * 8}-|-{'-' * 6}-|-{'-' * 40}")
    for decoder, side, median, best, stages, shortcuts in rows:
        stage_text = ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
        print(f"{decoder:<17} | {side:>9} | {median:8.2f} | {best:6.2f} | {stage_text} [{', '.join(shortcuts)}]")
    del window, app
    return 0


if __name__ == "__main__":
    sys.exit(main())
