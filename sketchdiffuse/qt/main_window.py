"""The painting window: it composes the canvas, the layer panel, tool options, the file commands,
generation, autosave and drops, each given the narrow objects it uses, and keeps the title."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox

from sketchdiffuse import __version__
from sketchdiffuse.document import canvas_commands as cc
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document import selection as sel
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.history import History
from sketchdiffuse.qt.dialogs import ShortcutsDialog
from sketchdiffuse.qt.files.autosave import Autosaved, Autosaver
from sketchdiffuse.qt.files.background_save import BackgroundSaver
from sketchdiffuse.qt.files.document_files import DocumentFiles
from sketchdiffuse.qt.files.image_drop import ImageDrop
from sketchdiffuse.qt.generating.generation_ui import GenerationUi
from sketchdiffuse.qt.icons import icon
from sketchdiffuse.qt.painting.canvas import CanvasView, Tool
from sketchdiffuse.qt.painting.layer_panel import LayerPanel
from sketchdiffuse.qt.painting.tool_options import ToolOptions
from sketchdiffuse.qt.prompter import DialogPrompter, Prompter
from sketchdiffuse.qt.settings_storage import QSettingsStorage
from sketchdiffuse.qt.undo import HistorySignals
from sketchdiffuse.qt.window_menus import add_dock, build_menus, make_actions
from sketchdiffuse.session.document_session import default_document
from sketchdiffuse.session.settings import read_run


class MainWindow(QMainWindow):
    def __init__(self, doc: Document | None = None, prompter: Prompter | None = None) -> None:
        super().__init__()
        self.prompter: Prompter = prompter or DialogPrompter(self)
        self.doc = doc or default_document()
        self.settings = QSettings()
        self.history = History(self.doc)
        self.history_signals = HistorySignals(self.history, self)
        self.canvas = CanvasView(self.doc, self.history)
        self.setCentralWidget(self.canvas)
        self.layers = LayerPanel(self.doc, self.history)
        add_dock(self, "Layers", self.layers, Qt.DockWidgetArea.RightDockWidgetArea, closable=False)
        self.tools = ToolOptions(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.tools)
        self.setWindowIcon(icon("sketchdiffuse"))

        self.zoom_label, self.pos_label, self.size_label = QLabel(), QLabel(), QLabel()
        for label in (self.pos_label, self.size_label, self.zoom_label):
            label.setMinimumWidth(90)
            self.statusBar().addPermanentWidget(label)

        self.tools.brushChanged.connect(self._brush_changed)
        self.tools.toolChanged.connect(self._tool_changed)
        self.tools.fillChanged.connect(self._fill_changed)
        self.canvas.colorPicked.connect(self.tools.set_color)
        self.canvas.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.canvas.cursorMoved.connect(lambda x, y: self.pos_label.setText(f"{x}, {y}"))
        self.canvas.message.connect(self.show_message)
        self.layers.message.connect(self.show_message)
        self.history_signals.cleanChanged.connect(self._update_title)
        self.history_signals.edited.connect(self._follow_canvas_size)
        self.canvas.transformingChanged.connect(self._transforming)
        self._locked: dict[QAction, bool] = {}  # actions a free transform turned off, and their state before

        self.saver = BackgroundSaver(self)
        self.files = DocumentFiles(
            lambda: self.doc,
            self.history,
            self.saver,
            self.set_document,
            lambda: self.generation.project_extras(),
            self.prompter,
            self.settings,
            self.show_message,
            self,
        )
        self.files.pathChanged.connect(self._update_title)
        self._build_actions()
        self.generation = GenerationUi(
            self,
            self.canvas,
            lambda: self.doc,
            self.history,
            self.history_signals.edited,
            self.prompter,
            self.settings,
            self.show_message,
        )
        add_dock(self, "Prompt", self.generation.panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        add_dock(self, "History", self.generation.strip, Qt.DockWidgetArea.BottomDockWidgetArea)
        live_dock = add_dock(self, "Live", self.generation.live.pane, Qt.DockWidgetArea.RightDockWidgetArea)
        live_dock.hide()
        self.generation.liveShown.connect(live_dock.show)
        self.menuBar().insertMenu(self.menuBar().actions()[-1], self.generation.menu)
        self.where_label = QLabel()  # where pictures are made: this computer or a ComfyUI server
        self.where_label.setToolTip("Generate > Where Pictures Are Made… switches it")
        self.statusBar().insertPermanentWidget(0, self.where_label)
        self.generation.whereChanged.connect(self._show_where)
        self._show_where(self.generation.servers.where())
        self.autosaver = Autosaver(
            self.history,
            self.saver,
            lambda: Autosaved(self.doc, self.files.display_name(), self.files.path),
            self.generation.project_extras,
            lambda: read_run(QSettingsStorage(self.settings)).autosave_minutes,
            self.show_message,
            self,
        )
        self.history_signals.edited.connect(self.autosaver.mark_changed)
        self.files.restored.connect(self.autosaver.mark_changed)
        self.generation.applied = self.autosaver.autosave_now
        self.generation.settings_saved = self._settings_saved
        self.drop = ImageDrop(
            lambda: self.doc,
            self.history,
            self.prompter,
            self.show_message,
            self.files.open_if_saved,
            self.generation.load_parameters_text,
            self,
        )
        self._apply_layer_cache()
        self.canvas.setAcceptDrops(True)
        self.canvas.filesDropped.connect(self.drop.import_paths)
        self.canvas.imageDropped.connect(self.drop.import_image_data)
        self.canvas.referenceDropped.connect(self.generation.references.add_drop)
        self.canvas.urlsDropped.connect(self.drop.import_urls)
        self._update_title()
        self._update_size_label()
        self.resize(1280, 860)

    # -- actions and menus ---------------------------------------------------------------
    def _on_active(self, make: Callable[..., object], *extra: int) -> Callable[[], None]:
        """An action applying a layer command to the active layer (``extra``: offsets to it, e.g. a move)."""
        return lambda: self._run(lambda d: make(d, d.active_index, *(d.active_index + e for e in extra)))

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        a = self.actions_by_name = make_actions(
            self,
            {
                "new": ("&New…", self.files.new_document, std.New, None),
                "open": ("&Open…", self.files.open_document, std.Open, None),
                "save": ("&Save", self.files.save, std.Save, None),
                "save_as": ("Save &As…", self.files.save_as, std.SaveAs, None),
                "export": ("&Export Image…", self.files.export_image, "Ctrl+Shift+E", None),
                "quit": ("&Quit", self.close, std.Quit, None),
                "copy": ("&Copy", lambda: self.drop.copy(), std.Copy, None),
                "cut": ("Cu&t", lambda: self.drop.copy(cut=True), std.Cut, None),
                "paste": ("&Paste (in Place, or an Image)", lambda: self.drop.paste(), std.Paste, None),
                "clear": (
                    "&Clear (the Selection, or the Layer)",
                    self._on_active(cmd.clear_selected),
                    std.Delete,
                    None,
                ),
                "select_all": ("Select &All", lambda: self._select(self._all(), "Select all"), std.SelectAll, None),
                "deselect": ("&Deselect", lambda: self._select(None, "Deselect"), "Ctrl+Shift+A", None),
                "invert": (
                    "&Invert Selection",
                    lambda: self._select(sel.invert(self.doc.selection, self.doc.width, self.doc.height), "Invert"),
                    "Ctrl+I",
                    None,
                ),
                "select_alpha": (
                    "Select &Layer Opacity",
                    lambda: self._select(sel.from_alpha(self.doc.active_layer.pixels), "Select layer opacity"),
                    None,
                    None,
                ),
                "canvas_size": ("&Canvas Size…", self.canvas_size, None, None),
                "expand": ("&Expand Canvas (Outpaint)…", self.expand_canvas, None, None),
                "scale_image": ("&Scale Image…", self.scale_image, None, None),
                "transform": ("Free &Transform", self.canvas.begin_transform, "Ctrl+T", None),
                "crop": ("C&rop to Selection", lambda: self._run(cc.crop_to_selection), None, None),
                "flip_h": (
                    "Flip &Horizontally",
                    lambda: self._run(lambda d: cc.flip(d, d.active_index, True)),
                    None,
                    None,
                ),
                "flip_v": (
                    "Flip &Vertically",
                    lambda: self._run(lambda d: cc.flip(d, d.active_index, False)),
                    None,
                    None,
                ),
                "quick_mask": ("&Quick Mask (Paint the Selection)", self._toggle_quick_mask, "Q", None),
                "feather": ("&Feather…", lambda: self._reshape_selection("Feather", sel.feather), None, None),
                "grow": ("&Grow…", lambda: self._reshape_selection("Grow", sel.grow), None, None),
                "shrink": ("&Shrink…", lambda: self._reshape_selection("Shrink", _shrink), None, None),
                "layer_new": ("&New Layer", lambda: self._run(cmd.add_layer), "Ctrl+Shift+N", "layer-add"),
                "layer_duplicate": (
                    "&Duplicate Layer",
                    self._on_active(cmd.duplicate_layer),
                    "Ctrl+J",
                    "layer-duplicate",
                ),
                "layer_delete": ("De&lete Layer", self._on_active(cmd.delete_layer), None, "layer-delete"),
                "layer_merge": ("&Merge Down", self._on_active(cmd.merge_down), "Ctrl+E", "layer-merge"),
                "layer_up": ("Move &Up", self._on_active(cmd.move_layer, 1), "Ctrl+]", None),
                "layer_down": ("Move Do&wn", self._on_active(cmd.move_layer, -1), "Ctrl+[", None),
                "layer_props": ("&Properties…", self.layer_properties, None, None),
                "layer_control": ("&Control Role…", lambda: self.layers.edit_control_role(), None, None),
                "layer_reference": (
                    "Use as &Reference",
                    lambda: self.generation.references.add_pixels(self.doc.active_layer.pixels),
                    None,
                    None,
                ),
                "zoom_in": ("Zoom &In", self.canvas.zoom_in, std.ZoomIn, None),
                "zoom_out": ("Zoom &Out", self.canvas.zoom_out, std.ZoomOut, None),
                "fit": ("&Fit to Window", self.canvas.fit, "0", None),
                "actual": ("&100 %", self.canvas.actual_size, "1", None),
                "size_down": ("Smaller Brush", lambda: self.tools.scale_size(1 / 1.2), "[", None),
                "size_up": ("Bigger Brush", lambda: self.tools.scale_size(1.2), "]", None),
                "about": ("&About sketchdiffuse", self.about, None, None),
                "shortcuts": ("&Keyboard Shortcuts", self.show_shortcuts, "F1", None),
            },
        )
        for name, make, key in (
            ("undo", self.history_signals.undo_action, std.Undo),
            ("redo", self.history_signals.redo_action, std.Redo),
        ):
            a[name] = make(self)
            a[name].setShortcut(QKeySequence(key))
            self.addAction(a[name])
        a["quick_mask"].setCheckable(True)
        build_menus(self.menuBar(), a, list(self.tools.tool_actions.values()), self.files.fill_recent)

    # -- image -------------------------------------------------------------------------
    def canvas_size(self) -> None:
        fields = [("Width", self.doc.width, 1), ("Height", self.doc.height, 1)]
        chosen = self.prompter.pixels("Canvas size", fields, anchor=True)
        if chosen is not None:
            (width, height), anchor = chosen
            self._run(lambda d: cc.resize_canvas(d, width, height, anchor))

    def expand_canvas(self) -> None:
        """More canvas on the sides given, the new area selected: Generate then paints it (outpainting)."""
        fields = [("Left", 0, 0), ("Top", 0, 0), ("Right", 256, 0), ("Bottom", 0, 0)]
        chosen = self.prompter.pixels("Expand canvas", fields)
        if chosen is not None:
            left, top, right, bottom = chosen[0]
            self._run(lambda d: cc.expand_canvas(d, left, top, right, bottom))

    def scale_image(self) -> None:
        chosen = self.prompter.pixels("Scale image", [("Width", self.doc.width, 1), ("Height", self.doc.height, 1)])
        if chosen is not None:
            width, height = chosen[0]
            self._run(lambda d: cc.scale_image(d, width, height))

    # -- selection -----------------------------------------------------------------------
    def _toggle_quick_mask(self) -> None:
        on = not self.canvas.quick_mask
        self.canvas.set_quick_mask(on)
        self.actions_by_name["quick_mask"].setChecked(on)
        if on:
            self.show_message("Quick mask: the brush adds to the selection, the eraser takes away; Q again to leave.")

    def _all(self) -> np.ndarray:
        return np.full((self.doc.height, self.doc.width), 255, np.uint8)

    def _select(self, mask: np.ndarray | None, text: str) -> None:
        if mask is None and self.doc.selection is None:
            return
        self._run(lambda d: cmd.select(d, mask, text))

    def _reshape_selection(self, verb: str, change: Callable[[np.ndarray, float], np.ndarray]) -> None:
        """Feather, grow or shrink the selection by a distance the artist gives."""
        if self.doc.selection is None:
            self.show_message(f"{verb}: nothing is selected.")
            return
        distance = self.prompter.number(f"{verb} selection", "Pixels:", 8.0, 0.5, 500.0)
        if distance is not None:
            self._select(change(self.doc.selection, distance), f"{verb} selection by {distance:g} px")

    def _show_where(self, where: str) -> None:
        self.where_label.setText(f"Generating on {where}")

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # -- documents -----------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self.files.path

    def set_document(self, doc: Document, path: Path | None, extras: dict[str, bytes] | None = None) -> None:
        self.canvas.end_interactions()  # ends in the old document's history, before it is replaced
        self.saver.wait()  # a save of the previous document finishes with that document
        self.doc = doc
        self.files.path = path
        self.history.reset(doc)
        self.canvas.set_document(doc, self.history)
        self.layers.attach(doc, self.history)
        self.canvas.fit()
        self.generation.restore(extras or {})
        self.autosaver.document_replaced()
        self._apply_layer_cache()
        self._update_title()
        self._update_size_label()

    def _settings_saved(self) -> None:
        self.autosaver.apply_interval()
        self._apply_layer_cache()

    def _apply_layer_cache(self) -> None:
        """The memory the document's layer caches may use, from the settings."""
        self.doc.set_cache_budget(read_run(QSettingsStorage(self.settings)).layer_cache_mb * 1024 * 1024)

    # -- layers --------------------------------------------------------------------------
    def _run(self, make: Callable[[Document], object]) -> None:
        try:
            self.history.push(make(self.doc))  # type: ignore[arg-type]
        except DocumentError as exc:
            self.show_message(str(exc))

    def _set_active_property(self, prop: str, value: object) -> None:
        self._run(lambda d: cmd.set_layer_property(d, d.active_index, prop, value))

    def layer_properties(self) -> None:
        layer = self.doc.active_layer
        values = self.prompter.layer_properties(layer)
        if values is None:
            return
        self.history.begin_macro(f"Properties of '{layer.name}'")
        for prop, value in values.items():
            if getattr(layer, prop) != value and not (prop == "blend_mode" and layer.blend_mode.value == value):
                self._set_active_property(prop, value)
        self.history.end_macro()

    # -- tools ---------------------------------------------------------------------------
    def _brush_changed(self, brush: object) -> None:
        self.canvas.brush = brush  # type: ignore[assignment]
        self.canvas.update()

    def _tool_changed(self, tool: Tool) -> None:
        self.canvas.cancel_selection()  # a half-drawn polygon does not carry over to another tool
        self.canvas.tool = tool

    def _fill_changed(self, tolerance: int, contiguous: bool) -> None:
        self.canvas.fill_tolerance, self.canvas.fill_contiguous = tolerance, contiguous

    def _transforming(self, on: bool) -> None:
        """While a free transform is open its layer has a hole where the lifted pixels were: nothing else may
        read or change the document until Enter or Esc (undo, menus, saving, generating, layers)."""
        if on:
            actions = list(self.actions_by_name.values()) + list(self.tools.tool_actions.values())
            actions += list(self.generation.actions.values())
            # Each comes back as it was (Undo with nothing to undo, Cancel with nothing running stay off).
            self._locked = {action: action.isEnabled() for action in actions}
            self.show_message("Free transform: drag the handles; Enter applies, Esc cancels.")
        for action, enabled in self._locked.items():
            action.setEnabled(enabled and not on)
        if not on:
            self._locked = {}
        for part in [self.menuBar(), *self.findChildren(QDockWidget)]:  # the prompt, history, layers, live pane
            part.setEnabled(not on)
        self.canvas.setAcceptDrops(not on)
        self.autosaver.paused = on

    # -- window --------------------------------------------------------------------------
    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.files.display_name()}[*] — sketchdiffuse")
        self.setWindowModified(not self.history.is_clean())

    def _follow_canvas_size(self) -> None:
        """After a change of the canvas's size (Canvas Size, Expand, Crop, Scale, and their undo) the view
        fits the new canvas."""
        if self.size_label.text() != self._size_text():
            self._update_size_label()
            self.canvas.fit()

    def _size_text(self) -> str:
        return f"{self.doc.width} × {self.doc.height}"

    def _update_size_label(self) -> None:
        self.size_label.setText(self._size_text())

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About sketchdiffuse",
            f"<b>sketchdiffuse {__version__}</b><p>Paint a sketch on layers, write a prompt, and let "
            "Stable Diffusion turn it into an image on your own computer.</p>",
        )

    def show_shortcuts(self) -> None:
        extra = [
            ("Pan", "Space + drag, or middle drag"),
            ("Zoom at the cursor", "Ctrl + wheel"),
            ("Pick a colour", "Alt + click"),
        ]
        ShortcutsDialog(
            list(self.actions_by_name.values()) + list(self.tools.tool_actions.values()), extra, self
        ).exec()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.canvas.end_interactions()  # a transform's lifted pixels go back before anything is saved
        if self.files.maybe_save():
            self.saver.wait()  # a save still being written finishes first
            self.generation.shutdown()  # cancels a running job and stops the worker thread
            self.autosaver.closed_normally()
            event.accept()
        else:
            event.ignore()


def _shrink(mask: np.ndarray, distance: float) -> np.ndarray:
    return sel.grow(mask, -distance)
