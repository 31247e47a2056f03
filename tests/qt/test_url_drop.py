"""Images dropped as web links download in the background (loopback server only)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from sketchdiffuse.qt.main_window import MainWindow


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 0, 255)).save(buf, "PNG")
    return buf.getvalue()


ROUTES = {"/cat.png": ("image/png", _png()), "/page.html": ("text/html", b"<html></html>")}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path not in ROUTES:
            self.send_error(404)
            return
        kind, body = ROUTES[self.path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


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
