from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QPointF, QSettings

from sketchdiffuse.document.document import Document
from sketchdiffuse.qt.main_window import MainWindow
from sketchdiffuse.qt.prompter import ScriptedPrompter


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Recent files and panel values go to a throw-away folder, never the user's settings."""
    QCoreApplication.setOrganizationName("sketchdiffuse-tests")
    QCoreApplication.setApplicationName("sketchdiffuse-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("settings")))


@pytest.fixture
def window(qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    doc = Document(200, 150)
    doc.layers.append(doc.new_layer("Ink"))
    doc.active_index = 1
    w = MainWindow(doc, ScriptedPrompter())
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    # One document pixel per widget pixel, origin at the widget's corner: events map 1:1.
    w.canvas.zoom = 1.0
    w.canvas.offset = QPointF(0, 0)
    return w


@pytest.fixture
def no_dialogs(window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Errors are collected instead of shown in modal boxes."""
    return window.prompter.errors  # type: ignore[attr-defined]


@pytest.fixture
def gen_window(window: MainWindow, tiny_sd: Path) -> MainWindow:
    ui = window.generation
    assert ui.set_model(str(tiny_sd))
    ui.panel.set_values(
        {
            "prompt": "a cat",
            "negative_prompt": "",
            "strength": 0.5,
            "steps": 4,
            "guidance_scale": 7.0,
            "scheduler": "Euler",
            "seed": 77,
            "seed_locked": True,
        }
    )
    yield window
    assert ui.shutdown()
