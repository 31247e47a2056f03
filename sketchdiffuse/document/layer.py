"""A raster layer: premultiplied RGBA pixels plus the properties the layer panel shows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.control_role import ControlRole
from sketchdiffuse.document.rect import Rect

Pixels = np.ndarray  # H x W x 4 uint8, premultiplied RGBA


def blank_pixels(width: int, height: int) -> Pixels:
    return np.zeros((height, width, 4), dtype=np.uint8)


@dataclass(eq=False)
class Layer:
    """Premultiplied storage keeps compositing to one multiply-add per channel and
    makes transparent pixels canonical (all zero), which also compresses well."""

    name: str
    pixels: Pixels
    opacity: float = 1.0
    visible: bool = True
    blend_mode: BlendMode = BlendMode.NORMAL
    locked: bool = False
    control: ControlRole | None = None  # guidance for a ControlNet instead of colour (control_role.py)
    uid: int = field(default_factory=lambda: Layer._next_uid())
    # A box known to hold every painted pixel when the layer was made (a result placed in a region), so the
    # document need not scan a fresh canvas-size layer; it is trusted only until the pixels first change.
    painted_within: Rect | None = None

    _counter = 0

    @staticmethod
    def _next_uid() -> int:
        Layer._counter += 1
        return Layer._counter

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def copy(self, name: str | None = None) -> Layer:
        return Layer(
            name=self.name if name is None else name,
            pixels=self.pixels.copy(),
            opacity=self.opacity,
            visible=self.visible,
            blend_mode=self.blend_mode,
            locked=self.locked,
            control=self.control,
        )


def content_bounds(layer: Layer) -> Rect:
    """The box of ``layer``'s non-transparent pixels (premultiplied, a transparent pixel is all zero, so
    the pixels are tested as 32-bit words)."""
    return Rect.of_nonzero(layer.pixels.view(np.uint32).reshape(layer.pixels.shape[:2]))
