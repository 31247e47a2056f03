"""Images dropped as web links download in the background (loopback server only)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from sketchdiffuse.qt.main_window import MainWindow
from tests.web import serving


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 0, 255)).save(buf, "PNG")
    return buf.getvalue()


ROUTES = {"/cat.png": ("image/png", _png()), "/page.html": ("text/html", b"<html></html>")}


@pytest.fixture
def server() -> Iterator[str]:
    with serving(ROUTES) as url:
        yield url


def test_dropped_image_links_become_layers_and_bad_links_explain(
    qtbot, window: MainWindow, server: str, no_dialogs: list[str]
):
    layers = len(window.doc.layers)
    with qtbot.waitSignal(window.drop.fetcher.fetched, timeout=10_000):
        window.drop.import_urls([f"{server}/cat.png"])
    assert len(window.doc.layers) == layers + 1
    assert window.doc.active_layer.pixels[75, 100].tolist() == [0, 0, 255, 255]  # centred on the canvas
    for path, words in (("/page.html", "not an image"), ("/missing.png", "could not be downloaded")):
        with qtbot.waitSignal(window.drop.fetcher.failed, timeout=10_000):
            window.drop.import_urls([f"{server}{path}"])
        assert words in no_dialogs[-1]
    window.drop.import_urls(["ftp://example.invalid/x.png"])
    assert "not a web address" in no_dialogs[-1]
    assert len(window.doc.layers) == layers + 1
