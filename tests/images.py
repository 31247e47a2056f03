"""Reading an image in a test without leaving its file open (pytest turns ResourceWarning into errors)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def read_image(source: str | Path | bytes) -> Image.Image:
    """The image fully loaded (pixels, PNG text chunks), its file already closed."""
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        image.load()
        return image
