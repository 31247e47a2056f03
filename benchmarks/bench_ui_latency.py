"""Window responsiveness while generating: the longest gap between ticks of a 5 ms QTimer while the
worker thread runs the engine on a full-size SD-Turbo architecture (random weights) on the CPU.

Target (issue "Generate from the canvas"): longest gap under 30 ms.
Run: .venv/bin/python benchmarks/bench_ui_latency.py [--steps 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication

sys.path.insert(0, os.path.dirname(__file__))
from bench_generation import bench_cache, build_random_model
from timer_gaps import GapSummary, gaps_until_done

from sketchdiffuse.generation import GenerationRequest, ModelRef
from sketchdiffuse.generation.tuning import share_one_heap
from sketchdiffuse.qt.generating.worker import GenerationController


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2, help="schedule length at strength 0.5")
    args = parser.parse_args()
    share_one_heap()  # as the sketchdiffuse command does first
    app = QApplication(sys.argv)
    cache = bench_cache()
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
    rows: list[tuple[str, float, GapSummary]] = []
    # At start-up the window imports the ML libraries on the worker thread (GenerationUi.warm_up).
    seconds, gaps = gaps_until_done(controller.request_preload.emit, controller.worker.preloaded.connect)
    rows.append(("library import (at start-up)", seconds, gaps))
    job_ended: list[Callable[[], None]] = []  # the running measurement's end
    controller.finished.connect(lambda job, result: job_ended.pop()())
    controller.failed.connect(lambda job, message, model_problem: (print(message), job_ended.pop()()))
    for label in ("first job (includes loading)", "second job (model loaded)"):
        seconds, gaps = gaps_until_done(lambda: controller.submit(request), job_ended.append)
        rows.append((label, seconds, gaps))
    controller.shutdown()
    print("5 ms QTimer on the window thread while the worker generates (SD-Turbo architecture, 512 px, CPU)")
    print("less steal: the gap minus the CPU time the hypervisor took meanwhile; faulting: the window's")
    print("thread waited for a page the host had paged out")
    header = f"{'job':<30} | {'seconds':>7} | {'ticks':>6} | {'p99 ms':>6} | {'max ms':>6} | {'less steal':>10}"
    print(f"{header} | {'> 30 ms (faulting)':>18} | target")
    for label, seconds, g in rows:
        over = f"{g.over_30_ms} ({g.over_30_ms_faulting})"
        print(
            f"{label:<30} | {seconds:7.1f} | {g.ticks:>6} | {g.p99_ms:6.1f} | {g.max_ms:6.1f} | "
            f"{g.max_less_steal_ms:10.1f} | {over:>18} | < 30 ms"
        )
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
