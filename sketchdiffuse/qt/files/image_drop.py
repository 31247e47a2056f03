"""Images arriving by drop, paste or download become layers (one undo step per drop); a dropped
.ora opens instead; a dropped PNG made by a Stable Diffusion tool offers its settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QObject
from PySide6.QtWidgets import QApplication

from sketchdiffuse.document import canvas_commands as cc
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.history import History
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.generation.digest import image_digest
from sketchdiffuse.io.images import open_image
from sketchdiffuse.io.png_meta import PARAMETERS_KEY
from sketchdiffuse.qt.convert import qimage_pixels, to_qimage
from sketchdiffuse.qt.files.url_fetch import UrlFetcher
from sketchdiffuse.qt.prompter import Prompter
from sketchdiffuse.session.image_layers import fitted_layer


class ImageDrop(QObject):
    def __init__(
        self,
        document: Callable[[], Document],
        history: History,
        prompter: Prompter,
        notify: Callable[[str], None],
        open_project: Callable[[str], object],
        load_parameters: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document, self.history, self.prompter, self.notify = document, history, prompter, notify
        self.open_project, self.load_parameters = open_project, load_parameters
        self._copied: tuple[int, int, str] | None = None  # where the last copy lay, and its pixels' digest
        self.fetcher = UrlFetcher(self)
        self.fetcher.fetched.connect(lambda url, data: self.import_image_data(data))
        self.fetcher.failed.connect(lambda url, message: self.prompter.error("Import", message))

    def import_paths(self, paths: list[str]) -> None:
        """Dropped files: an .ora opens; images become layers (one undo step for the whole drop)."""
        projects = [p for p in paths if p.lower().endswith(".ora")]
        if projects:
            self.open_project(projects[0])
            return
        layers, errors, parameters = [], [], None
        for path in paths:
            try:
                image = open_image(path)
            except DocumentError as exc:
                errors.append(str(exc))
                continue
            layers.append(fitted_layer(self.document(), image, Path(path).stem))
            if PARAMETERS_KEY in image.text and parameters is None:
                parameters = (Path(path).name, image.text[PARAMETERS_KEY])
        self._add_layers(layers)
        if errors:
            self.prompter.error("Import", "\n".join(errors))
        if parameters and self.prompter.load_parameters(parameters[0]):
            self.load_parameters(parameters[1])

    def import_urls(self, urls: list[str]) -> None:
        """Web images download in the background; each arrives as its own undoable layer."""
        for url in urls:
            self.notify(f"Downloading {url} …")
            self.fetcher.fetch(url)

    def import_image_data(self, data: bytes) -> None:
        try:
            image = open_image(data)
        except DocumentError as exc:
            self.prompter.error("Import", str(exc))
            return
        self._add_layers([fitted_layer(self.document(), image, "Pasted image")])

    def _add_layers(self, layers: list[Layer]) -> None:
        if not layers:
            return
        doc = self.document()
        try:
            with self.history.macro(f"Import {len(layers)} image(s)"):
                for layer in layers:
                    self.history.push(cmd.add_layer(doc, layer=layer))
        except DocumentError as exc:
            self.notify(str(exc))

    def copy(self, cut: bool = False) -> None:
        """The selection's contents on the active layer (all of it without a selection) to the clipboard, with
        where they lay, so that Paste puts them back in place; ``cut`` also erases them."""
        doc = self.document()
        box, pixels = cc.selected_pixels(doc, doc.active_index)
        clipboard = QApplication.clipboard()
        # An image only: a QMimeData made here would be deleted twice when the application exits.
        clipboard.setImage(to_qimage(pixels))
        self._copied = (box.x, box.y, image_digest(qimage_pixels(clipboard.image())))
        if cut:
            try:
                self.history.push(cmd.clear_selected(doc, doc.active_index))
            except DocumentError as exc:
                self.notify(str(exc))

    def paste(self) -> None:
        mime = QApplication.clipboard().mimeData()
        pixels = qimage_pixels(QApplication.clipboard().image()) if mime.hasImage() else None
        if pixels is not None and self._copied is not None and image_digest(pixels) == self._copied[2]:
            x, y, _ = self._copied  # copied here: back in place, as a new layer
            doc = self.document()
            self._add_layers([cc.pasted_layer(doc, Rect(x, y, pixels.shape[1], pixels.shape[0]), pixels)])
            return
        if mime.hasUrls() and all(u.isLocalFile() for u in mime.urls()):
            self.import_paths([u.toLocalFile() for u in mime.urls()])
        elif mime.hasImage():
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            # A str: PySide6 6.11 refuses the bytes its own type stubs ask for.
            QApplication.clipboard().image().save(buffer, "PNG")  # type: ignore[call-overload]
            self.import_image_data(bytes(buffer.data().data()))
        else:
            self.notify("The clipboard holds no image.")
