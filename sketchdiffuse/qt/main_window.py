"""The main window (placeholder until the painting window lands)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("sketchdiffuse")
        self.setCentralWidget(QLabel("sketchdiffuse"))
        self.resize(1024, 720)

    def open_path(self, path: str) -> None:
        self.statusBar().showMessage(path)
