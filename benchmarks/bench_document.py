"""Document speed: compositing, dab cost and OpenRaster save/load. Prints a table.

Run: .venv/bin/python benchmarks/bench_document.py [--quick]
Targets (issue "Foundation"): a 256 x 256 dirty rectangle through 8 layers < 2 ms; a 50 px dab < 0.2 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sketchdiffuse.brush import BrushSettings, StrokePainter, StrokePoint
from sketchdiffuse.document import Document, Layer, Rect
from sketchdiffuse.io.ora import read_ora, write_ora


def timeit(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` runs after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def painted_document(size: int, layers: int = 8) -> Document:
    """Layers with realistic content: partly transparent strokes, not noise."""
    rng = np.random.default_rng(0)
    stack = []
    for i in range(layers):
        px = np.zeros((size, size, 4), np.uint8)
        for _ in range(6):
            x, y = rng.integers(0, size - size // 4, 2)
            a = int(rng.integers(64, 256))
            c = rng.integers(0, 256, 3) * a // 255
            px[y : y + size // 4, x : x + size // 4] = (*c, a)
        stack.append(Layer(f"Layer {i}", px, opacity=1.0 if i % 3 else 0.8))
    return Document(size, size, stack)


def dab_cost(size: float, dabs: int = 400) -> float:
    doc = Document(2048, 2048)
    painter = StrokePainter(doc, doc.active_layer, BrushSettings(size=size, hardness=0.7, spacing=0.1))
    step = size * 0.1
    points = [StrokePoint(100 + (i * step) % 1800, 100 + (i * step) // 1800 * size, 1.0) for i in range(dabs)]
    t = time.perf_counter()
    for p in points:
        painter.add_point(p)
    return (time.perf_counter() - t) / dabs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 3 if args.quick else 10
    rows: list[tuple[str, str, str]] = []

    for size in (2048, 4096):
        doc = painted_document(size)
        whole = timeit(lambda d=doc: d.composite(), max(1, repeat // 3))
        rows.append((f"composite 8 layers, whole {size}²", f"{whole * 1000:9.1f} ms", ""))
        rect = Rect(size // 2, size // 2, 256, 256)
        small = timeit(lambda d=doc, r=rect: d.composite(r), repeat * 20)
        rows.append((f"composite 8 layers, 256² rect of {size}²", f"{small * 1000:9.3f} ms", "target < 2 ms"))

    for size in (5, 50, 200):
        cost = min(dab_cost(size) for _ in range(3))
        target = "target < 0.2 ms" if size == 50 else ""
        rows.append((f"dab, brush {size} px", f"{cost * 1000:9.3f} ms", target))

    doc = painted_document(2048)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.ora"
        save = timeit(lambda: write_ora(doc, path), max(1, repeat // 3))
        load = timeit(lambda: read_ora(path), max(1, repeat // 3))
        rows.append(("ORA save, 8 layers 2048²", f"{save * 1000:9.0f} ms", f"{path.stat().st_size / 1e6:.1f} MB"))
        rows.append(("ORA load, 8 layers 2048²", f"{load * 1000:9.0f} ms", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'case'.ljust(width)} | {'median':>12} | note")
    print(f"{'-' * width}-|-{'-' * 12}-|-----")
    for name, value, note in rows:
        print(f"{name.ljust(width)} | {value:>12} | {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
