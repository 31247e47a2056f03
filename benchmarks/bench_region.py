"""Generating in a selection, the work outside the pipeline: for a 1024 x 1024 selection on a 4096 x 4096
canvas of 8 layers, the context area cut from the composite (with empty parts filled), the drawing and
mask scaled to the working size as the engine does, the picture scaled back, the layer made and
applied (one undo step, composite read again). Then the canvas repaint with marching ants, and during
a free transform of the selection, against without a selection, in the offscreen window, fitted.

Targets (issue "Selections"): the work outside the pipeline under 100 ms; ants keep a repaint under 8 ms.

Run: .venv/bin/python benchmarks/bench_region.py [--repeat 5]
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
from PIL import Image

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document import selection as sel
from sketchdiffuse.document.history import History
from sketchdiffuse.generation.engine import work_size
from sketchdiffuse.generation.request import SizePolicy
from sketchdiffuse.session.region import region_layer, region_of


def median_ms(call: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


def region_stages(repeat: int) -> dict[str, float]:
    doc = painted_document(4096, 8)
    history = History(doc)
    mask = sel.feather(sel.ellipse(4096, 4096, 1500, 1500, 2524, 2524), 8)
    history.push(cmd.select(doc, mask, "select"))
    composite = doc.composite_view()
    region = region_of(composite, mask, 0.25, 512, SizePolicy.NATIVE, "keep")
    area = region.area
    work = work_size(area.w, area.h, SizePolicy.NATIVE, 512)
    result = np.asarray(Image.fromarray(region.drawing).resize(work, Image.Resampling.LANCZOS))

    def to_work() -> None:
        Image.fromarray(region.drawing).resize(work, Image.Resampling.LANCZOS, reducing_gap=3.0)
        Image.fromarray(region.mask, "L").resize(work, Image.Resampling.BILINEAR, reducing_gap=3.0)

    back = np.asarray(Image.fromarray(result).resize((area.w, area.h), Image.Resampling.LANCZOS))

    def apply() -> None:
        layer = region_layer(doc.width, doc.height, back, area, region.mask, "result")
        history.push(cmd.add_layer(doc, layer))
        doc.composite_view()

    def apply_and_time() -> float:
        started = time.perf_counter()
        apply()
        seconds = time.perf_counter() - started
        history.undo()
        doc.composite_view()
        return seconds

    stages = {
        f"context area {area.w} x {area.h} (cut, flatten)": median_ms(
            lambda: region_of(composite, mask, 0.25, 512, SizePolicy.NATIVE, "keep"), repeat
        ),
        f"drawing and mask to {work[0]} x {work[1]}": median_ms(to_work, repeat),
        "picture back to the area": median_ms(
            lambda: Image.fromarray(result).resize((area.w, area.h), Image.Resampling.LANCZOS), repeat
        ),
        "layer made, applied, composite read": statistics.median(apply_and_time() for _ in range(repeat)) * 1e3,
    }
    stages["total"] = sum(stages.values())
    return stages


def ants_repaint(repeat: int) -> tuple[float, float, float]:
    from PySide6.QtWidgets import QApplication

    from sketchdiffuse.qt.main_window import MainWindow
    from sketchdiffuse.qt.prompter import ScriptedPrompter

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow(painted_document(4096, 8), ScriptedPrompter())
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.canvas.fit()
    window.canvas.repaint()
    without = median_ms(window.canvas.repaint, repeat)
    mask = sel.ellipse(4096, 4096, 800, 900, 3300, 3000)
    window.history.push(cmd.select(window.doc, mask, "select"))
    window.canvas.repaint()
    with_ants = median_ms(window.canvas.repaint, repeat)
    window.canvas.begin_transform()  # the free transform's preview: the lifted pixels drawn transformed
    transform = window.canvas._transform
    assert transform is not None
    transform.placement = transform.placement.__class__(sx=1.3, sy=0.8, angle=20.0, dx=120.0, dy=-60.0)
    window.canvas.repaint()
    transforming = median_ms(window.canvas.repaint, repeat)
    window.canvas.cancel_transform()
    window.history.reset()
    window.close()
    return without, with_ants, transforming


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("1024 x 1024 selection (feathered ellipse) on 4096 x 4096, 8 layers: median ms")
    for name, ms in region_stages(args.repeat).items():
        print(f"{name:<46} | {ms:8.1f}" + ("   (target < 100)" if name == "total" else ""))
    without, with_ants, transforming = ants_repaint(args.repeat)
    print("\ncanvas repaint, 4096 x 4096 fitted in a 1600 x 1000 window: median ms")
    print(f"{'no selection':<46} | {without:8.1f}")
    print(f"{'with marching ants':<46} | {with_ants:8.1f}   (target < 8)")
    print(f"{'free transform preview (selection 2500 px)':<46} | {transforming:8.1f}   (target < 8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
