"""The painting window: canvas, layer panel, tool options, menus, files and undo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox

from sketchdiffuse import __version__
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.history import History
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.io.images import export_image, open_image
from sketchdiffuse.io.ora import read_ora, write_ora
from sketchdiffuse.io.recovery import Recoverable
from sketchdiffuse.qt.autosave import Autosaved, Autosaver
from sketchdiffuse.qt.background_save import BackgroundSaver, SaveJob
from sketchdiffuse.qt.canvas import CanvasView, Tool
from sketchdiffuse.qt.dialogs import LayerPropertiesDialog, ShortcutsDialog
from sketchdiffuse.qt.generation_ui import GenerationUi
from sketchdiffuse.qt.icons import icon
from sketchdiffuse.qt.image_drop import ImageDrop
from sketchdiffuse.qt.layer_panel import LayerPanel
from sketchdiffuse.qt.prompter import DialogPrompter, Prompter
from sketchdiffuse.qt.settings_storage import QSettingsStorage
from sketchdiffuse.qt.tool_options import ToolOptions
from sketchdiffuse.qt.undo import HistorySignals
from sketchdiffuse.qt.window_menus import build_menus, make_actions
from sketchdiffuse.session.settings import read_run

ORA_FILTER = "OpenRaster (*.ora)"
OPEN_FILTER = "Images and projects (*.ora *.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff);;All files (*)"
EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"
MAX_RECENT = 10


def default_document(width: int = 1024, height: int = 1024) -> Document:
    """A white background to paint on and an empty sketch layer above it, active."""
    doc = Document(width, height)
    doc.layers[0].pixels[:] = 255
    sketch = doc.new_layer("Sketch")
    doc.layers.append(sketch)
    doc.active_index = 1
    return doc


class MainWindow(QMainWindow):
    saved = Signal(str)  # a save to the artist's file completed

    def __init__(self, doc: Document | None = None, prompter: Prompter | None = None) -> None:
        super().__init__()
        self.prompter: Prompter = prompter or DialogPrompter(self)
        self.doc = doc or default_document()
        self.path: Path | None = None
        self.settings = QSettings()
        self.history = History(self.doc)
        self.history_signals = HistorySignals(self.history, self)
        self.canvas = CanvasView(self.doc, self.history)
        self.setCentralWidget(self.canvas)
        self.layers = LayerPanel(self.doc, self.history)
        dock = QDockWidget("Layers", self)
        dock.setObjectName("layers-dock")
        dock.setWidget(self.layers)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.tools = ToolOptions(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.tools)
        self.setWindowIcon(icon("sketchdiffuse"))

        self.zoom_label, self.pos_label, self.size_label = QLabel(), QLabel(), QLabel()
        for label in (self.pos_label, self.size_label, self.zoom_label):
            label.setMinimumWidth(90)
            self.statusBar().addPermanentWidget(label)

        self.tools.brushChanged.connect(self._brush_changed)
        self.tools.toolChanged.connect(self._tool_changed)
        self.canvas.colorPicked.connect(self.tools.set_color)
        self.canvas.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.canvas.cursorMoved.connect(lambda x, y: self.pos_label.setText(f"{x}, {y}"))
        self.canvas.message.connect(self.show_message)
        self.layers.message.connect(self.show_message)
        self.history_signals.cleanChanged.connect(self._update_title)

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
        self.saver = BackgroundSaver(self)
        self.autosaver = Autosaver(
            self.history,
            self.saver,
            lambda: Autosaved(self.doc, self.display_name(), self.path),
            self.generation.project_extras,
            lambda: read_run(QSettingsStorage(self.settings)).autosave_minutes,
            self.show_message,
            self,
        )
        self.history_signals.edited.connect(self.autosaver.mark_changed)
        self.generation.applied = self.autosaver.autosave_now
        self.generation.settings_saved = self.autosaver.apply_interval
        self.drop = ImageDrop(
            lambda: self.doc,
            self.history,
            self.prompter,
            self.show_message,
            self._open_if_saved,
            self.generation.load_parameters_text,
            self,
        )
        self.canvas.setAcceptDrops(True)
        self.canvas.filesDropped.connect(self.drop.import_paths)
        self.canvas.imageDropped.connect(self.drop.import_image_data)
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
                "new": ("&New…", self.new_document, std.New, None),
                "open": ("&Open…", self.open_document, std.Open, None),
                "save": ("&Save", self.save, std.Save, None),
                "save_as": ("Save &As…", self.save_as, std.SaveAs, None),
                "export": ("&Export Image…", self.export_image, "Ctrl+Shift+E", None),
                "quit": ("&Quit", self.close, std.Quit, None),
                "paste": ("&Paste Image", lambda: self.drop.paste(), std.Paste, None),
                "clear": ("&Clear Layer", self._on_active(cmd.clear_layer), std.Delete, None),
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
        build_menus(self.menuBar(), a, list(self.tools.tool_actions.values()), self._fill_recent)

    # -- questions (through the prompter, which tests script) -----------------------------
    def show_error(self, title: str, text: str) -> None:
        self.prompter.error(title, text)

    def _save_path(self, title: str, filters: str, suggested: str) -> str | None:
        return self.prompter.save_path(title, filters, str(Path(self._last_folder()) / suggested))

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # -- documents -----------------------------------------------------------------------
    def set_document(self, doc: Document, path: Path | None, extras: dict[str, bytes] | None = None) -> None:
        self.saver.wait()  # a save of the previous document finishes with that document
        self.doc = doc
        self.path = path
        self.history.reset(doc)
        self.canvas.set_document(doc, self.history)
        self.layers.attach(doc, self.history)
        self.canvas.fit()
        self.generation.restore(extras or {})
        self.autosaver.document_replaced()
        self._update_title()
        self._update_size_label()

    def restore_recovered(self, entry: Recoverable) -> bool:
        """Open an autosaved copy; it stays marked modified, with the artist's own file as its target."""
        try:
            contents = read_ora(entry.document)
        except (DocumentError, OSError) as exc:
            self.show_error("Recover", f"The autosaved copy of '{entry.title}' cannot be read: {exc}")
            return False
        original = Path(entry.original) if entry.original else None
        self.set_document(contents.document, original, contents.extras)
        self.history.set_unsaved()  # differs from the file on disk until saved
        self.autosaver.mark_changed()
        self.show_message(f"Restored '{entry.title}' from its autosaved copy. Save it to keep it.")
        return True

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded, or unchanged)."""
        if self.history.is_clean():
            return True
        answer = self.prompter.unsaved(self.display_name())
        if answer == "save":
            return self.save(wait=True)
        return answer == "discard"

    def new_document(self) -> None:
        if not self.maybe_save():
            return
        size = self.prompter.new_size()
        if size is None:
            return
        try:
            self.set_document(default_document(*size), None)
        except DocumentError as exc:
            self.show_error("New document", str(exc))

    def open_document(self) -> None:
        if not self.maybe_save():
            return
        path = self.prompter.open_path("Open", self._last_folder(), OPEN_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            if path.suffix.lower() == ".ora":
                contents = read_ora(path)
                doc, warnings = contents.document, contents.warnings
                saved_path: Path | None = path
                extras = contents.extras
            else:
                image = open_image(path)
                doc = Document(image.width, image.height, [Layer("Background", image.pixels)])
                warnings, saved_path, extras = [], None, {}
        except (DocumentError, OSError) as exc:
            self.show_error("Open", str(exc))
            return False
        self.set_document(doc, saved_path, extras)
        self._remember(path)
        if warnings:
            self.show_message(" ".join(warnings))
        return True

    def save(self, wait: bool = False) -> bool:
        """Save to the document's file. The write runs in the background unless ``wait``; True when it
        succeeded (``wait``) or was started."""
        if self.path is None:
            return self.save_as(wait)
        return self._write(self.path, wait)

    def save_as(self, wait: bool = False) -> bool:
        suggested = self.path.name if self.path else "untitled.ora"
        chosen = self._save_path("Save as", ORA_FILTER, suggested)
        if not chosen:
            return False
        path = Path(chosen)
        if path.suffix.lower() != ".ora":
            path = path.with_suffix(".ora")
        return self._write(path, wait)

    def _write(self, path: Path, wait: bool) -> bool:
        doc = self.doc
        outcome: list[bool] = []

        def done(ok: bool, message: str, edits: object) -> None:
            outcome.append(ok)
            if not ok:
                self.show_error("Save", f"'{path.name}' could not be saved: {message}. The previous file is unchanged.")
                return
            if self.doc is doc:
                # Nothing changed while it was written. The edit count, not the undo index: an undo and a
                # new stroke return to the same index with other pixels.
                if self.history.edits == edits:
                    self.history.set_clean()
                if self.path != path:
                    self.path = path
                    self._update_title()
            self._remember(path)
            self.show_message(f"Saved {path}")
            self.saved.emit(str(path))

        self.show_message(f"Saving {path.name}…")
        job = SaveJob(
            doc,
            lambda copy, extras: write_ora(copy, path, extras),
            self.generation.project_extras,
            lambda: self.history.edits,
            done,
            "Save",
        )
        self.saver.save(job)
        if wait:
            self.saver.wait()
            return bool(outcome and outcome[0])
        return True

    def export_image(self) -> None:
        suggested = (self.path.stem if self.path else "untitled") + ".png"
        chosen = self._save_path("Export image", EXPORT_FILTER, suggested)
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
            path = path.with_suffix(".png")
        try:
            export_image(self.doc.composite(), path)
        except (DocumentError, OSError) as exc:
            self.show_error("Export", str(exc))
            return
        self.show_message(f"Exported {path}")

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
        dialog = LayerPropertiesDialog(layer, self)
        if not dialog.exec():
            return
        self.history.begin_macro(f"Properties of '{layer.name}'")
        for prop, value in dialog.values().items():
            if getattr(layer, prop) != value and not (prop == "blend_mode" and layer.blend_mode.value == value):
                self._set_active_property(prop, value)
        self.history.end_macro()

    # -- tools ---------------------------------------------------------------------------
    def _brush_changed(self, brush: object) -> None:
        self.canvas.brush = brush  # type: ignore[assignment]
        self.canvas.update()

    def _tool_changed(self, tool: Tool) -> None:
        self.canvas.tool = tool

    # -- window --------------------------------------------------------------------------
    def display_name(self) -> str:
        return self.path.name if self.path else "Untitled"

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.display_name()}[*] — sketchdiffuse")
        self.setWindowModified(not self.history.is_clean())

    def _update_size_label(self) -> None:
        self.size_label.setText(f"{self.doc.width} × {self.doc.height}")

    def _last_folder(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])

    def _remember(self, path: Path) -> None:
        files = [str(path.resolve())] + [f for f in self.recent_files() if f != str(path.resolve())]
        self.settings.setValue("recent_files", files[:MAX_RECENT])

    def _fill_recent(self, menu: QMenu) -> None:
        menu.clear()
        for f in self.recent_files():
            action = menu.addAction(f)
            action.triggered.connect(lambda _=False, p=f: self._open_recent(p))
        if not self.recent_files():
            menu.addAction("(none)").setEnabled(False)

    def _open_recent(self, path: str) -> None:
        self._open_if_saved(path)

    def _open_if_saved(self, path: str) -> None:
        """Open another file once the current one is saved, discarded or unchanged."""
        if self.maybe_save():
            self.open_path(path)

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
        if self.maybe_save():
            self.saver.wait()  # a save still being written finishes first
            self.generation.shutdown()  # cancels a running job and stops the worker thread
            self.autosaver.closed_normally()
            event.accept()
        else:
            event.ignore()
