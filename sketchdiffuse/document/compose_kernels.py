"""The compiled source-over loops (see compose_native, which imports this module only when numba is there).

They are module-level functions so that numba's on-disk cache finds them again in the next process:
the first composite of a session then costs no compilation."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit


# nogil: the window's thread pool runs strips of one composite side by side.
@njit(cache=True, nogil=True)
def accumulate(layers: Any, opacities: Any, y: int, x0: int, row: Any) -> None:
    """Row ``y`` of every layer from column ``x0`` blended source-over onto ``row`` (cleared first)."""
    w = row.shape[0]
    row[:] = 0.0
    for i in range(len(layers)):
        src = layers[i][y]
        opacity = opacities[i]
        scale = np.float32(-opacity / 255.0)
        for x in range(w):
            alpha = src[x0 + x, 3]
            if alpha == 0:  # premultiplied: a transparent pixel is all zero and changes nothing
                continue
            if alpha == 255 and opacity == 1.0:  # opaque: it hides what is under it
                for c in range(4):
                    row[x, c] = np.float32(src[x0 + x, c])
                continue
            keep = np.float32(alpha) * scale + np.float32(1.0)
            for c in range(4):
                row[x, c] = row[x, c] * keep + np.float32(src[x0 + x, c]) * opacity


@njit(cache=True, nogil=True)
def normal_stack_u8(layers: Any, opacities: Any, y0: int, x0: int, out: Any) -> None:
    row = np.empty((out.shape[1], 4), dtype=np.float32)
    for y in range(out.shape[0]):
        accumulate(layers, opacities, y0 + y, x0, row)
        for x in range(out.shape[1]):
            for c in range(4):
                out[y, x, c] = np.uint8(min(max(row[x, c] + np.float32(0.5), np.float32(0.0)), np.float32(255.0)))


@njit(cache=True, nogil=True)
def normal_stack_f32(layers: Any, opacities: Any, y0: int, x0: int, out: Any) -> None:
    row = np.empty((out.shape[1], 4), dtype=np.float32)
    for y in range(out.shape[0]):
        accumulate(layers, opacities, y0 + y, x0, row)
        out[y] = row


@njit(cache=True, nogil=True)
def premultiplied_into(rgb: Any, alpha: Any, out: Any) -> None:
    """``out`` (H x W x 4) = ``rgb`` premultiplied by ``alpha``, rounded: (t + 128 + ((t + 128) >> 8)) >> 8
    is round(t / 255) for every product t of two bytes. One pass, no temporary arrays."""
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            a = np.uint32(alpha[y, x])
            for c in range(3):
                t = np.uint32(rgb[y, x, c]) * a + np.uint32(128)
                out[y, x, c] = np.uint8((t + (t >> np.uint32(8))) >> np.uint32(8))
            out[y, x, 3] = np.uint8(a)


@njit(cache=True, nogil=True)
def flattened_on_white(pixels: Any, out: Any) -> None:
    """``out`` (H x W x 3) = premultiplied ``pixels`` over white: min(c, a) + 255 - a, exactly (the min
    guards damaged input, where colour exceeds alpha)."""
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            a = np.int32(pixels[y, x, 3])
            for c in range(3):
                out[y, x, c] = np.uint8(min(np.int32(pixels[y, x, c]), a) + 255 - a)
