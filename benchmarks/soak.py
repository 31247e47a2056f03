"""Long-session soak: 200 generations with the tiny model, interleaved with strokes, undo/redo, layer
operations, applying results and live mode on and off. Reports resident memory after warm-up and at
the end, the thread count, and every error.

Targets (issue "No lost work"): resident memory grows under 5 % after warm-up, the thread count
stays constant, no errors.
Run: .venv/bin/python benchmarks/soak.py [--generations 200]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from window_setup import bench_window, offscreen_app, sketch_document, wait  # benchmarks/ is on sys.path

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.qt.main_window import MainWindow
from tests.gen.tiny import build_tiny_sd


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def stroke(window: MainWindow, i: int) -> None:
    y = 10 + (i * 7) % 130
    QTest.mousePress(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(10, y))
    QTest.mouseMove(window.canvas, QPoint(100 + i % 90, y + 10))
    QTest.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(100 + i % 90, y + 10))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generations", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument(
        "--undo-limit-mb",
        type=int,
        default=16,
        help="the undo history grows by design up to its limit (512 MB in the app); a small one lets growth show leaks",
    )
    args = parser.parse_args()
    app, folder = offscreen_app("sketchdiffuse-soak")
    model = build_tiny_sd(folder / "tiny-sd", folder / "scratch")

    window = bench_window(sketch_document(200, 150), folder)
    window.history.limit_bytes = args.undo_limit_mb * 1024 * 1024
    ui = window.generation
    ui.set_model(str(model))
    ui.panel.set_values({"prompt": "a cat", "strength": 0.5, "steps": 4, "guidance_scale": 7.0, "seed_locked": False})
    errors: list[str] = []
    controller = ui.ensure_controller()
    controller.failed.connect(lambda job, message, _m: errors.append(message))

    baseline_rss = baseline_threads = 0.0
    checkpoints: list[tuple[int, float, int, float]] = []  # generations, RSS MB, strip entries, undo MB
    started = time.perf_counter()
    for i in range(args.generations):
        stroke(window, i)
        if i % 3 == 0:
            window.history.undo()
            window.history.redo()
        if i % 5 == 0:
            window.history.push(cmd.add_layer(window.doc))
            window.history.push(cmd.set_layer_property(window.doc, window.doc.active_index, "opacity", 0.7))
            window.history.push(cmd.delete_layer(window.doc, window.doc.active_index))
        if i % 10 == 5:  # live mode on for a stroke, then off
            ui.actions["live"].setChecked(True)
            stroke(window, i + 1)
            wait(ui.live.resultShown)
            ui.actions["live"].setChecked(False)
        ui.generate()
        got = wait(controller.finished)
        if not got:
            errors.append(f"generation {i} did not finish")
        if i % 10 == 0 and ui.strip.entries:
            ui.apply(ui.strip.entries[0])
            window.history.undo()
        if i % 25 == 0:
            window.autosaver.autosave_now()
            window.saver.wait()
        app.processEvents()
        if i + 1 == args.warm_up:
            gc.collect()
            baseline_rss, baseline_threads = rss_mb(), thread_count()
        if (i + 1) % 50 == 0:
            gc.collect()
            checkpoints.append((i + 1, rss_mb(), len(ui.strip.entries), window.history.memory_bytes() / 2**20))
    gc.collect()
    end_rss, end_threads = rss_mb(), thread_count()
    elapsed = time.perf_counter() - started
    results = len(list((folder / "results").rglob("*.png")))
    window.history.set_clean()
    window.close()

    growth = (end_rss - baseline_rss) / baseline_rss * 100
    print(
        f"soak: {args.generations} generations in {elapsed:.0f} s, tiny model, offscreen window, "
        f"undo history limit {args.undo_limit_mb} MB"
    )
    print(f"{'measure':<34} | {'value':>12} | target")
    print(f"{'-' * 34}-|-{'-' * 12}-|-------")
    print(f"{'resident memory after warm-up':<34} | {baseline_rss:9.0f} MB |")
    print(f"{'resident memory at the end':<34} | {end_rss:9.0f} MB |")
    print(f"{'growth after warm-up':<34} | {growth:10.1f} % | < 5 %")
    print(f"{'threads after warm-up / at the end':<34} | {baseline_threads:>5.0f} / {end_threads:<4} | constant")
    print(f"{'results written to disk':<34} | {results:>12} | {args.generations}")
    print(f"{'history entries kept in the strip':<34} | {len(ui.strip.entries):>12} | (memory cap)")
    print(f"{'errors':<34} | {len(errors):>12} | 0")
    print(
        "resident memory along the way: "
        + ", ".join(
            f"{n}: {mb:.0f} MB ({entries} strip entries, undo {undo:.0f} MB)" for n, mb, entries, undo in checkpoints
        )
    )
    for error in errors[:10]:
        print("  " + error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
