"""A dark theme, as painting programs use, so the picture stands out more than the interface."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor(38, 38, 42), QColor(50, 50, 55), QColor(220, 220, 224)
    role = QPalette.ColorRole
    for r, c in (
        (role.Window, window),
        (role.WindowText, text),
        (role.Base, base),
        (role.AlternateBase, window),
        (role.ToolTipBase, QColor(30, 30, 34)),
        (role.ToolTipText, text),
        (role.Text, text),
        (role.Button, window),
        (role.ButtonText, text),
        (role.BrightText, QColor(255, 120, 90)),
        (role.Highlight, QColor(70, 110, 200)),
        (role.HighlightedText, QColor(255, 255, 255)),
        (role.Link, QColor(120, 160, 255)),
        (role.PlaceholderText, QColor(140, 140, 146)),
    ):
        p.setColor(r, c)
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor(120, 120, 126))
    app.setPalette(p)
