"""Layer operations on large canvases: from the change to the end of the repaint, in the offscreen window.

4096 x 4096 documents with 8, 24 and 48 layers of partly transparent content. Each operation is
pushed through the undo history as the layer panel does, then the window's events are processed
until the canvas has repainted: an opacity change (one step of a slider drag), a visibility toggle,
a blend-mode change, moving a layer, and undoing. Also the compositor against QPainter's raster
engine for the same source-over blend of the same pixels, in the same run.

Each table is printed twice: with the canvas fitted to the window, where the canvas shows the reduced
view (document/reduced_view.py: layer changes are previewed at the view's resolution), and at 100 %,
where it composes the visible part at full resolution. The first change of a layer builds its caches
and is listed apart; "settle" is the time the idle canvas then spends, in small steps, making the
composite exact; "caches" their memory at the end (MB). "first change, after idle" is the first
change of another layer once the idle canvas has settled (and, zoomed out, reduced the layers ahead).

Targets (issue "Large canvases stay fluid"): under 50 ms per operation at 24 layers; an opacity drag
under 16 ms per frame up to 48 layers; the compositor at most 2x QPainter.

Run: .venv/bin/python benchmarks/bench_layers.py [--layers 8 24 48] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
from bench_document import painted_document
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.compose import composite
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.qt.convert import qimage_view
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.painting import canvas as canvas_module
from sketchdiffuse.qt.prompter import ScriptedPrompter


def timed(app: QApplication, action: Callable[[], None], repeat: int) -> list[float]:
    """Seconds from the change to the end of the repaint it causes, for each of ``repeat`` changes."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        app.processEvents()  # the canvas repaints (and the document recomposes) here
        samples.append(time.perf_counter() - started)
    return samples


def layer_operations(app: QApplication, layers: int, repeat: int, zoom: float | None) -> dict[str, float]:
    """Median time of each operation (and the first change of a layer, which builds its caches), with the
    canvas fitted to the window (``zoom`` None) or at ``zoom``; then the time the document takes to settle
    (make the composite exact, in the steps the idle canvas takes) and the caches' size: milliseconds,
    megabytes."""
    window = MainWindow(painted_document(4096, layers), ScriptedPrompter())
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.canvas.fit()
    if zoom is not None:
        window.canvas.set_zoom(zoom)
    app.processEvents()
    doc, history = window.doc, window.history
    middle = layers // 2
    opacity = iter(np.linspace(0.3, 0.9, 1000))
    push = history.push
    drag = timed(app, lambda: push(cmd.set_layer_property(doc, middle, "opacity", float(next(opacity)))), repeat)
    while not doc.settle(canvas_module.SETTLE_PIXELS, reduce_ahead=zoom is None):  # what the idle canvas does
        pass
    other = timed(app, lambda: push(cmd.set_layer_property(doc, middle - 1, "opacity", 0.5)), 1)
    results = {
        "first change, just opened": drag[0],
        "first change, after idle": other[0],
        "opacity (drag step)": statistics.median(drag[1:]),
        "visibility toggle": statistics.median(
            timed(
                app,
                lambda: push(cmd.set_layer_property(doc, middle, "visible", not doc.layers[middle].visible)),
                repeat,
            )
        ),
        "blend mode": statistics.median(
            timed(
                app,
                lambda: push(
                    cmd.set_layer_property(
                        doc,
                        middle,
                        "blend_mode",
                        BlendMode.MULTIPLY if doc.layers[middle].blend_mode is BlendMode.NORMAL else BlendMode.NORMAL,
                    )
                ),
                repeat,
            )
        ),
        "move layer": statistics.median(timed(app, lambda: push(cmd.move_layer(doc, middle, middle + 1)), repeat)),
        "undo": statistics.median(timed(app, history.undo, repeat)),
    }
    started = time.perf_counter()
    while not doc.settle(canvas_module.SETTLE_PIXELS):
        pass
    results["settle to exact (steps)"] = time.perf_counter() - started
    shown = {name: seconds * 1e3 for name, seconds in results.items()}  # milliseconds
    shown["caches (MB)"] = doc.cache_bytes / 1e6
    history.reset()
    window.close()
    return shown


def compositor_against_qpainter(repeat: int) -> list[tuple[str, float, float]]:
    """Source-over of 8 layers, numpy compositor against QPainter on the same premultiplied pixels."""
    doc = painted_document(4096, 8)
    images = [qimage_view(np.ascontiguousarray(layer.pixels)) for layer in doc.layers]
    rows = []
    for label, rect in (("256 x 256 rectangle", Rect(1024, 1024, 256, 256)), ("whole 4096 x 4096", doc.rect)):
        ours = statistics.median(_time(lambda rect=rect: composite(doc.layers, rect)) for _ in range(repeat))

        def painter(rect: Rect = rect) -> None:
            target = QImage(rect.w, rect.h, QImage.Format.Format_ARGB32_Premultiplied)
            target.fill(0)
            p = QPainter(target)
            for layer, image in zip(doc.layers, images, strict=True):
                p.setOpacity(layer.opacity)
                p.drawImage(QPoint(0, 0), image, QRect(rect.x, rect.y, rect.w, rect.h))
            p.end()

        theirs = statistics.median(_time(painter) for _ in range(repeat))
        rows.append((label, ours, theirs))
    return rows


def _time(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, nargs="+", default=[8, 24, 48])
    parser.add_argument("--repeat", type=int, default=6)
    args = parser.parse_args()
    app = QApplication(sys.argv)
    for zoom, title in ((None, "canvas fitted (reduced view)"), (1.0, "canvas at 100 % (1600 x 1000 window)")):
        print(f"4096 x 4096, {title}: change to end of repaint, median ms")
        table = {n: layer_operations(app, n, args.repeat, zoom) for n in args.layers}
        names = list(next(iter(table.values())))
        print(f"{'operation':<26} | " + " | ".join(f"{n:>3} layers" for n in args.layers) + " | target")
        for name in names:
            target = {"opacity (drag step)": "< 16 ms"}.get(name, "< 50 ms at 24" if "(" not in name else "")
            cells = " | ".join(f"{table[n][name]:10.0f}" for n in args.layers)
            print(f"{name:<26} | {cells} | {target}")
        print()
    print("compositor, 8 layers source-over, median ms")
    print(f"{'area':<22} | {'sketchdiffuse':>13} | {'QPainter':>9} | ratio | target")
    for label, ours, theirs in compositor_against_qpainter(args.repeat):
        print(f"{label:<22} | {ours * 1e3:13.1f} | {theirs * 1e3:9.1f} | {ours / theirs:5.1f} | <= 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
