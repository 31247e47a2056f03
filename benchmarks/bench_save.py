"""Does saving freeze the window? The longest gap of a 5 ms QTimer while a 4096 x 4096 document with
8 layers is saved (Ctrl+S) and autosaved, against writing it on the window's thread as a baseline.

Target (issue "No lost work"): no gap over 100 ms.
Run: .venv/bin/python benchmarks/bench_save.py [--side 4096] [--layers 8]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QTimer
from timer_gaps import gaps_until_done  # benchmarks/ is on sys.path
from window_setup import bench_window, offscreen_app

from sketchdiffuse.document.document import Document
from sketchdiffuse.io.ora import write_ora


def painted_document(side: int, layers: int) -> Document:
    """Layers with strokes-like content (random noise would make PNG encoding unrepresentatively slow)."""
    doc = Document(side, side)
    rng = np.random.default_rng(0)
    for i in range(layers):
        layer = doc.new_layer(f"Layer {i}")
        for _ in range(40):
            x, y = rng.integers(0, side - 400, 2)
            w, h = rng.integers(50, 400, 2)
            layer.pixels[y : y + h, x : x + w] = (*rng.integers(0, 256, 3), 255)
        doc.layers.append(layer)
    return doc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=4096)
    parser.add_argument("--layers", type=int, default=8)
    args = parser.parse_args()
    _app, folder = offscreen_app("sketchdiffuse-bench-save")  # kept alive for the whole run
    window = bench_window(painted_document(args.side, args.layers), folder)
    target = folder / "drawing.ora"
    rows = []

    def blocking() -> None:
        write_ora(window.doc, target, window.generation.project_extras())
        QTimer.singleShot(0, done_blocking)

    done_callbacks: list[Callable[[], None]] = []

    def done_blocking() -> None:
        done_callbacks.pop()()

    for label, action, finished in (
        ("write on the window's thread (baseline)", blocking, done_callbacks.append),
        ("Ctrl+S (background)", lambda: window.files.save_as(), lambda quit: window.files.saved.connect(quit)),
        ("autosave (background)", window.autosaver.autosave_now, lambda quit: window.autosaver.saved.connect(quit)),
    ):
        window.prompter.answers["save_path"] = str(target)  # type: ignore[attr-defined]
        window.history.set_unsaved()  # modified, so autosave has something to do
        window.autosaver.mark_changed()
        seconds, gap = gaps_until_done(lambda a=action: QTimer.singleShot(30, a), finished)
        rows.append((label, seconds, gap))
    window.history.set_clean()
    window.close()
    print(
        f"Saving a {args.side} x {args.side} document with {args.layers} layers (.ora {target.stat().st_size / 1e6:.0f} MB)"
    )
    print("less steal: the longest gap minus the CPU time the hypervisor took meanwhile")
    print(f"{'how':<40} | {'seconds':>7} | {'longest gap ms':>14} | {'less steal':>10} | target")
    print(f"{'-' * 40}-|-{'-' * 7}-|-{'-' * 14}-|-{'-' * 10}-|-------")
    for label, seconds, gap in rows:
        print(f"{label:<40} | {seconds:7.2f} | {gap.max_ms:14.1f} | {gap.max_less_steal_ms:10.1f} | < 100 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
