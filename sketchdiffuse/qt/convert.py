"""numpy <-> QImage: the one place where pixels cross into Qt."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

PREMULTIPLIED = QImage.Format.Format_RGBA8888_Premultiplied


def qimage_view(pixels: np.ndarray) -> QImage:
    """A QImage sharing memory with an H x W x 4 uint8 premultiplied array.

    The QImage does not own the memory: keep ``pixels`` alive as long as the image is used
    (the returned image carries a reference in ``_keep``).
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 4 or not pixels.flags.c_contiguous:
        raise ValueError("expected a C-contiguous H x W x 4 uint8 array")
    h, w = pixels.shape[:2]
    image = QImage(pixels.data, w, h, w * 4, PREMULTIPLIED)
    image._keep = pixels  # type: ignore[attr-defined]
    return image


def to_qimage(pixels: np.ndarray) -> QImage:
    """An independent QImage copy of premultiplied RGBA pixels."""
    return qimage_view(np.ascontiguousarray(pixels)).copy()


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    h, w = rgb.shape[:2]
    data = np.ascontiguousarray(rgb, dtype=np.uint8)
    return QImage(data.data, w, h, w * 3, QImage.Format.Format_RGB888).copy()


def qimage_pixels(image: QImage) -> np.ndarray:
    """Premultiplied RGBA pixels (an independent H x W x 4 uint8 array) of any QImage."""
    image = image.convertToFormat(PREMULTIPLIED)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(h, image.bytesPerLine())
    return rows[:, : w * 4].reshape(h, w, 4).copy()
