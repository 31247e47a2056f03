"""Window responsiveness while generating: the longest gap between ticks of a 5 ms QTimer while the
worker thread runs the engine on a full-size SD-Turbo architecture (random weights) on the CPU.

Target (issue "Generate from the canvas"): longest gap under 30 ms.
Run: .venv/bin/python benchmarks/bench_ui_latency.py [--steps 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

sys.path.insert(0, os.path.dirname(__file__))
from bench_generation import build_random_model

from sketchdiffuse.generation import GenerationRequest, ModelRef
from sketchdiffuse.qt.worker import GenerationController


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2, help="schedule length at strength 0.5")
    args = parser.parse_args()
    app = QApplication(sys.argv)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sketchdiffuse" / "bench"
    folder = cache / "sd-turbo-random"
    if not (folder / "model_index.json").is_file():  # building it imports the libraries on this thread
        build_random_model("sd-turbo", folder)
    controller = GenerationController()
    sketch = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    request = GenerationRequest(
        "a lighthouse",
        ModelRef.parse(str(folder)),
        init_image=sketch,
        strength=0.5,
        steps=args.steps,
        guidance_scale=0.0,
        seed=1,
        scheduler="Euler",
    )
    rows = []
    # At start-up the window imports the ML libraries on the worker thread (GenerationUi.warm_up).
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    controller.worker.preloaded.connect(loop.quit)
    start = time.perf_counter()
    timer.start()
    controller.request_preload.emit()
    loop.exec()
    timer.stop()
    gaps = np.diff(ticks) * 1000
    rows.append(
        (
            "library import (at start-up)",
            time.perf_counter() - start,
            len(ticks),
            float(np.percentile(gaps, 99)),
            float(gaps.max()),
        )
    )
    for label in ("first job (includes loading)", "second job (model loaded)"):
        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda t=ticks: t.append(time.perf_counter()))
        loop = QEventLoop()
        controller.finished.connect(loop.quit)
        controller.failed.connect(loop.quit)
        controller.failed.connect(lambda job, msg: print(msg))
        start = time.perf_counter()
        timer.start()
        controller.submit(request)
        loop.exec()
        timer.stop()
        controller.finished.disconnect(loop.quit)
        controller.failed.disconnect()
        gaps = np.diff(ticks) * 1000
        rows.append((label, time.perf_counter() - start, len(ticks), float(np.percentile(gaps, 99)), float(gaps.max())))
    controller.shutdown()
    print("5 ms QTimer on the window thread while the worker generates (SD-Turbo architecture, 512 px, CPU)")
    print(f"{'job':<30} | {'seconds':>7} | {'ticks':>6} | {'p99 gap ms':>10} | {'max gap ms':>10} | target")
    for label, seconds, n, p99, worst in rows:
        print(f"{label:<30} | {seconds:7.1f} | {n:>6} | {p99:10.1f} | {worst:10.1f} | < 30 ms")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
