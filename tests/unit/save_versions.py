"""Two different documents the killed-save test writes in turn (imported by its child process too)."""

from __future__ import annotations

import numpy as np

from sketchdiffuse.document.document import Document


def version(n: int) -> Document:
    rng = np.random.default_rng(n)
    doc = Document(384, 256)
    for i in range(3):
        layer = doc.new_layer(f"layer {i}")
        layer.pixels[:] = rng.integers(0, 256, layer.pixels.shape, dtype=np.uint8)
        layer.pixels[..., 3] = 255
        doc.layers.append(layer)
    return doc
