"""What a drag carries that sketchdiffuse can use: local files, image data (a picture dragged from a web
browser), or web addresses; the canvas and the References area read drops the same way."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QMimeData


class Drop(NamedTuple):
    files: list[str]  # local paths
    image: bytes | None  # encoded image data, when no file came
    urls: list[str]  # web addresses, when neither came


def offers_images(mime: QMimeData) -> bool:
    return mime.hasUrls() or mime.hasImage() or any(f.startswith("image/") for f in mime.formats())


def read_drop(mime: QMimeData) -> Drop:
    local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    if local:
        return Drop(local, None, [])
    fmt = next((f for f in mime.formats() if f.startswith("image/")), None)
    if fmt is not None:
        return Drop([], bytes(mime.data(fmt).data()), [])
    return Drop([], None, [u.toString() for u in mime.urls()])
