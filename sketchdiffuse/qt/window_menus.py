"""Actions with their shortcuts and icons, the menu bar laid out from a table, and docks."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QMenuBar, QWidget

from sketchdiffuse.qt.icons import icon

Shortcut = QKeySequence | QKeySequence.StandardKey | str
# name -> (text, slot, shortcut, icon)
ActionSpec = tuple[str, Callable[[], object], Shortcut | None, str | None]

RECENT = "@recent"  # the Open Recent submenu
TOOLS = "@tools"  # the tool actions of the tool bar
MENUS: list[tuple[str, list[str | None]]] = [  # None: a separator
    ("&File", ["new", "open", RECENT, "save", "save_as", "export", None, "quit"]),
    ("&Edit", ["undo", "redo", None, "cut", "copy", "paste", "clear"]),
    (
        "&Select",
        ["select_all", "deselect", "invert", "select_alpha", None, "feather", "grow", "shrink", None, "quick_mask"],
    ),
    ("&Image", ["canvas_size", "expand", "scale_image", "crop", None, "transform", "flip_h", "flip_v"]),
    (
        "&Layer",
        [
            "layer_new",
            "layer_duplicate",
            "layer_delete",
            "layer_merge",
            None,
            "layer_up",
            "layer_down",
            "layer_props",
            None,
            "layer_control",
            "layer_reference",
        ],
    ),
    ("&View", ["zoom_in", "zoom_out", "fit", "actual"]),
    ("&Tools", [TOOLS, "size_down", "size_up"]),
    ("&Help", ["shortcuts", "about"]),
]


def make_action(
    owner: QWidget,
    text: str,
    slot: Callable[[], object],
    shortcut: Shortcut | None = None,
    icon_name: str | None = None,
) -> QAction:
    """An action owned by the window, so its shortcut works whatever has focus."""
    action = QAction(text, owner)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{text.replace('&', '')} ({action.shortcut().toString()})")
    if icon_name:
        action.setIcon(icon(icon_name))
    action.triggered.connect(lambda _=False: slot())
    owner.addAction(action)
    return action


def make_actions(owner: QWidget, specs: dict[str, ActionSpec]) -> dict[str, QAction]:
    return {name: make_action(owner, *spec) for name, spec in specs.items()}


def build_menus(
    bar: QMenuBar, actions: dict[str, QAction], tool_actions: list[QAction], fill_recent: Callable[[QMenu], None]
) -> None:
    for title, entries in MENUS:
        menu = bar.addMenu(title)
        for entry in entries:
            if entry is None:
                menu.addSeparator()
            elif entry == RECENT:
                recent = menu.addMenu("Open &Recent")
                recent.aboutToShow.connect(lambda recent=recent: fill_recent(recent))
            elif entry == TOOLS:
                menu.addActions(tool_actions)
            else:
                menu.addAction(actions[entry])


def add_dock(
    window: QMainWindow, title: str, widget: QWidget, area: Qt.DockWidgetArea, closable: bool = True
) -> QDockWidget:
    """A dock named for its title (the window's saved layout finds it again by that name)."""
    dock = QDockWidget(title, window)
    dock.setObjectName(f"{title.lower()}-dock")
    dock.setWidget(widget)
    if not closable:
        features = QDockWidget.DockWidgetFeature
        dock.setFeatures(features.DockWidgetMovable | features.DockWidgetFloatable)
    window.addDockWidget(area, dock)
    return dock
