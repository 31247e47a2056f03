"""Canvas latency: time from a mouse-move event to the end of its repaint, 4096 x 4096, 8 layers.

Targets (issue "Painting window"): under 8 ms per event at brush size 50, under 16 ms at 300.
Run: .venv/bin/python benchmarks/bench_canvas.py   (headless: QT_QPA_PLATFORM=offscreen is set here)
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

sys.path.insert(0, os.path.dirname(__file__))
from bench_document import painted_document

from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.prompter import ScriptedPrompter


def mouse(kind: QMouseEvent.Type, pos: QPointF, buttons: Qt.MouseButton) -> QMouseEvent:
    return QMouseEvent(kind, pos, pos, Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier)


def stroke_latencies(window: MainWindow, size: float, moves: int = 150) -> list[float]:
    app = QApplication.instance()
    canvas = window.canvas
    canvas.brush = canvas.brush.with_(size=size, hardness=0.7)
    centre = QPointF(canvas.width() / 2, canvas.height() / 2)
    points = [centre + QPointF(300 * math.cos(i / 25), 200 * math.sin(i / 17)) for i in range(moves + 1)]
    app.sendEvent(canvas, mouse(QMouseEvent.Type.MouseButtonPress, points[0], Qt.MouseButton.LeftButton))
    app.processEvents()
    samples = []
    for p in points[1:]:
        t = time.perf_counter()
        app.sendEvent(canvas, mouse(QMouseEvent.Type.MouseMove, p, Qt.MouseButton.LeftButton))
        app.processEvents()  # runs the pending paint of the dirty region
        samples.append(time.perf_counter() - t)
    app.sendEvent(canvas, mouse(QMouseEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton))
    app.processEvents()
    return samples


def main() -> int:
    app = QApplication(sys.argv)
    t = time.perf_counter()
    doc = painted_document(4096, 8)
    window = MainWindow(doc, ScriptedPrompter())
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    opened = time.perf_counter() - t
    window.canvas.actual_size()
    app.processEvents()
    print(f"4096 x 4096, 8 layers: document built and window shown in {opened:.1f} s; zoom 100 %")
    print(f"{'brush':>6} | {'events':>6} | {'mean ms':>7} | {'p95 ms':>7} | {'max ms':>7} | target")
    print("-------|--------|---------|---------|---------|-------")
    for size, target in ((50, 8), (300, 16)):
        samples = sorted(stroke_latencies(window, size))
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(
            f"{size:>6} | {len(samples):>6} | {statistics.mean(samples) * 1e3:7.2f} | {p95 * 1e3:7.2f} | "
            f"{samples[-1] * 1e3:7.2f} | < {target} ms"
        )
    window.history.reset()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
