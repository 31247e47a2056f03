"""Documents and random layer edits shared by the tests of the composite's caches."""

from __future__ import annotations

import numpy as np

from sketchdiffuse.document import BlendMode, Document, History, Rect
from sketchdiffuse.document import commands as cmd

MODES = [BlendMode.NORMAL, BlendMode.MULTIPLY, BlendMode.SCREEN, BlendMode.OVERLAY, BlendMode.DARKEN]
KINDS = ["opacity", "visible", "blend", "patch", "move", "undo", "clear"]


def painted(seed: int, layers: int = 5, w: int = 48, h: int = 40) -> Document:
    rng = np.random.default_rng(seed)
    doc = Document(w, h)
    doc.layers[0].pixels[:] = (250, 240, 230, 255)
    for i in range(1, layers):
        layer = doc.new_layer(f"L{i}")
        x, y = rng.integers(0, w // 2), rng.integers(0, h // 2)
        a = int(rng.integers(60, 256))
        layer.pixels[y : y + h // 2, x : x + w // 2] = (*(rng.integers(0, 256, 3) * a // 255), a)
        doc.layers.append(layer)
    return doc


def apply_edit(doc: Document, history: History, kind: str, index: int, value: int) -> None:
    """One edit of ``kind`` (KINDS) to layer ``index`` (modulo the stack), as the window makes it."""
    index = index % len(doc.layers)
    layer = doc.layers[index]
    if kind == "opacity":
        history.push(cmd.set_layer_property(doc, index, "opacity", (value % 100) / 100))
    elif kind == "visible":
        history.push(cmd.set_layer_property(doc, index, "visible", not layer.visible))
    elif kind == "blend":
        history.push(cmd.set_layer_property(doc, index, "blend_mode", MODES[value % len(MODES)]))
    elif kind == "patch":  # a stroke's worth of pixels, reported for its layer
        rect = Rect(value % 40, value % 30, 8, 8).intersected(doc.rect)
        before = [layer.pixels[rect.slices()].copy()]
        layer.pixels[rect.slices()] = (value % 256, 0, 0, 255)
        history.push(cmd.PixelPatches("stroke", layer, [rect], before))
        doc.notify_dirty(rect, layer)
    elif kind == "move" and len(doc.layers) > 1:
        history.push(cmd.move_layer(doc, index, (index + 1) % len(doc.layers)))
    elif kind == "clear":
        history.push(cmd.clear_layer(doc, index))
    elif kind == "undo" and history.can_undo():
        history.undo()
