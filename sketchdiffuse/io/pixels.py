"""Conversions between straight RGBA (files) and premultiplied RGBA (layers)."""

from __future__ import annotations

import numpy as np


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """Straight uint8 RGBA -> premultiplied uint8 RGBA (rounded)."""
    out = rgba.copy()
    a = rgba[..., 3:4].astype(np.uint16)
    out[..., :3] = (rgba[..., :3].astype(np.uint16) * a + 127) // 255
    return out


def unpremultiply(rgba: np.ndarray) -> np.ndarray:
    """Premultiplied uint8 RGBA -> straight uint8 RGBA; exact inverse of ``premultiply`` on its output."""
    out = rgba.copy()
    a = rgba[..., 3:4].astype(np.uint32)
    colour = rgba[..., :3].astype(np.uint32)
    safe = np.maximum(a, 1)
    straight = (colour * 255 + safe // 2) // safe
    out[..., :3] = np.where(a > 0, np.minimum(straight, 255), 0).astype(np.uint8)
    return out


def flatten_on(rgba_premultiplied: np.ndarray, background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Opaque RGB: the premultiplied image over a solid background colour."""
    if background == (255, 255, 255):  # over white it is c + 255 - a, exactly, in integers (the common case)
        from sketchdiffuse.document import compose_native  # numba's kernels, imported on first use

        kit = compose_native.kernels()
        if kit is not None:  # one compiled pass: the strided numpy passes cost ten times more
            out = np.empty((*rgba_premultiplied.shape[:2], 3), np.uint8)
            kit.flattened_on_white(rgba_premultiplied, out)
            return out
        over_white = rgba_premultiplied[..., :3].astype(np.int16)
        over_white += 255 - rgba_premultiplied[..., 3:4].astype(np.int16)
        return np.clip(over_white, 0, 255).astype(np.uint8)
    a = rgba_premultiplied[..., 3:4].astype(np.float32) / 255.0
    bg = np.array(background, dtype=np.float32)
    rgb = rgba_premultiplied[..., :3].astype(np.float32) + bg * (1.0 - a)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
