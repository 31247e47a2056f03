"""Drops and pastes through real Qt events: file URLs, raw image data, an .ora, the clipboard."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from sketchdiffuse.document import Document
from sketchdiffuse.io.ora import write_ora
from sketchdiffuse.qt.main_window import MainWindow


def drop(window: MainWindow, mime: QMimeData) -> None:
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(50, 50), actions, mime, buttons, mods)
    QApplication.sendEvent(window.canvas, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window.canvas, QDropEvent(QPointF(50, 50), actions, mime, buttons, mods))


def png_bytes(colour: tuple[int, int, int], size: tuple[int, int] = (20, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_dropped_files_become_one_undoable_step(window: MainWindow, tmp_path: Path):
    paths = []
    for i, colour in enumerate([(255, 0, 0), (0, 0, 255)]):
        path = tmp_path / f"ref{i}.png"
        path.write_bytes(png_bytes(colour))
        paths.append(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    layers = len(window.doc.layers)
    drop(window, mime)
    assert [ly.name for ly in window.doc.layers[-2:]] == ["ref0", "ref1"]
    window.history.undo()
    assert len(window.doc.layers) == layers


def test_raw_image_data_from_a_browser_becomes_a_layer(window: MainWindow):
    mime = QMimeData()
    mime.setData("image/png", png_bytes((0, 255, 0)))
    drop(window, mime)
    layer = window.doc.layers[window.doc.active_index]
    assert layer.name == "Pasted image" and tuple(layer.pixels[75, 100]) == (0, 255, 0, 255)


def test_a_dropped_project_opens(window: MainWindow, tmp_path: Path):
    doc = Document(40, 30)
    doc.layers[0].pixels[:] = (9, 9, 9, 255)
    path = tmp_path / "other.ora"
    write_ora(doc, path)
    window.history.set_clean()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop(window, mime)
    assert (window.doc.width, window.doc.height) == (40, 30) and window.path == path


def test_paste_from_the_clipboard(window: MainWindow):
    image = QImage(16, 8, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.blue)
    QApplication.clipboard().setImage(image)
    layers = len(window.doc.layers)
    window.actions_by_name["paste"].trigger()
    assert len(window.doc.layers) == layers + 1
    pasted = window.doc.layers[window.doc.active_index].pixels
    assert np.array_equal(pasted[75, 100], [0, 0, 255, 255])
