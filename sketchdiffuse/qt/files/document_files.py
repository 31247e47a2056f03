"""The window's file commands: new, open, save (in the background), save as, export, Open Recent,
restoring an autosaved copy, and asking before a modified document is dropped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMenu

from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.history import History
from sketchdiffuse.io.images import export_image
from sketchdiffuse.io.ora import read_ora, write_ora
from sketchdiffuse.io.recovery import Recoverable
from sketchdiffuse.qt.files.background_save import BackgroundSaver, SaveJob
from sketchdiffuse.qt.prompter import Prompter
from sketchdiffuse.session.document_session import default_document, is_project, read_document

ORA_FILTER = "OpenRaster (*.ora)"
OPEN_FILTER = "Images and projects (*.ora *.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff);;All files (*)"
EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"
MAX_RECENT = 10

# Shows a document in the window: (document, its .ora or None, the project extras it carries).
Install = Callable[[Document, "Path | None", dict[str, bytes]], None]


class DocumentFiles(QObject):
    """It gets the narrow things it uses: a document getter, the undo history (clean state, edit
    count), the background saver, ``install`` (the window shows a new document), the project extras
    of the generation side, the prompter, the settings (recent files) and a status callback."""

    saved = Signal(str)  # a save to the artist's file completed
    pathChanged = Signal()  # the document's file (and so the window title) changed
    restored = Signal()  # an autosaved copy was opened: it is unsaved work

    def __init__(
        self,
        document: Callable[[], Document],
        history: History,
        saver: BackgroundSaver,
        install: Install,
        project_extras: Callable[[], dict[str, bytes]],
        prompter: Prompter,
        settings: QSettings,
        notify: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document, self.history, self.saver, self.install = document, history, saver, install
        self.project_extras, self.prompter, self.settings, self.notify = project_extras, prompter, settings, notify
        self.path: Path | None = None

    def display_name(self) -> str:
        return self.path.name if self.path else "Untitled"

    def set_path(self, path: Path | None) -> None:
        if path != self.path:
            self.path = path
            self.pathChanged.emit()

    # -- dropping the current document ---------------------------------------------------------
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
            self.install(default_document(*size), None, {})
        except DocumentError as exc:
            self.prompter.error("New document", str(exc))

    def open_document(self) -> None:
        if self.maybe_save():
            path = self.prompter.open_path("Open", self._last_folder(), OPEN_FILTER)
            if path:
                self.open_path(path)

    def open_if_saved(self, path: str) -> None:
        """Open another file once the current one is saved, discarded or unchanged."""
        if self.maybe_save():
            self.open_path(path)

    # -- reading -------------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            contents = read_document(path)
        except (DocumentError, OSError) as exc:
            self.prompter.error("Open", str(exc))
            return False
        # An image is not the artist's project yet: saving asks for an .ora name instead of overwriting it.
        self.install(contents.document, path if is_project(path) else None, contents.extras)
        self._remember(path)
        if contents.warnings:
            self.notify(" ".join(contents.warnings))
        return True

    def restore_recovered(self, entry: Recoverable) -> bool:
        """Open an autosaved copy; it stays marked modified, with the artist's own file as its target."""
        try:
            contents = read_ora(entry.document)
        except (DocumentError, OSError) as exc:
            self.prompter.error("Recover", f"The autosaved copy of '{entry.title}' cannot be read: {exc}")
            return False
        self.install(contents.document, Path(entry.original) if entry.original else None, contents.extras)
        self.history.set_unsaved()  # differs from the file on disk until saved
        self.restored.emit()
        self.notify(f"Restored '{entry.title}' from its autosaved copy. Save it to keep it.")
        return True

    # -- writing -------------------------------------------------------------------------------
    def save(self, wait: bool = False) -> bool:
        """Save to the document's file. The write runs in the background unless ``wait``; True when it
        succeeded (``wait``) or was started."""
        if self.path is None:
            return self.save_as(wait)
        return self._write(self.path, wait)

    def save_as(self, wait: bool = False) -> bool:
        chosen = self._save_path("Save as", ORA_FILTER, self.path.name if self.path else "untitled.ora")
        if not chosen:
            return False
        path = Path(chosen)
        return self._write(path if path.suffix.lower() == ".ora" else path.with_suffix(".ora"), wait)

    def _write(self, path: Path, wait: bool) -> bool:
        doc = self.document()
        outcome: list[bool] = []

        def done(ok: bool, message: str, edits: object) -> None:
            outcome.append(ok)
            if not ok:
                self.prompter.error(
                    "Save", f"'{path.name}' could not be saved: {message}. The previous file is unchanged."
                )
                return
            if self.document() is doc:
                # Nothing changed while it was written. The edit count, not the undo index: an undo and a
                # new stroke return to the same index with other pixels.
                if self.history.edits == edits:
                    self.history.set_clean()
                self.set_path(path)
            self._remember(path)
            self.notify(f"Saved {path}")
            self.saved.emit(str(path))

        self.notify(f"Saving {path.name}…")
        write = SaveJob(
            doc,
            lambda copy, extras: write_ora(copy, path, extras),
            self.project_extras,
            lambda: self.history.edits,
            done,
            "Save",
        )
        self.saver.save(write)
        if wait:
            self.saver.wait()
            return bool(outcome and outcome[0])
        return True

    def export_image(self) -> None:
        chosen = self._save_path("Export image", EXPORT_FILTER, (self.path.stem if self.path else "untitled") + ".png")
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
            path = path.with_suffix(".png")
        try:
            export_image(self.document().composite(), path)
        except (DocumentError, OSError) as exc:
            self.prompter.error("Export", str(exc))
            return
        self.notify(f"Exported {path}")

    def _save_path(self, title: str, filters: str, suggested: str) -> str | None:
        return self.prompter.save_path(title, filters, str(Path(self._last_folder()) / suggested))

    # -- recent files --------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])

    def _last_folder(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def _remember(self, path: Path) -> None:
        files = [str(path.resolve())] + [f for f in self.recent_files() if f != str(path.resolve())]
        self.settings.setValue("recent_files", files[:MAX_RECENT])

    def fill_recent(self, menu: QMenu) -> None:
        menu.clear()
        for f in self.recent_files():
            action = menu.addAction(f)
            action.triggered.connect(lambda _=False, p=f: self.open_if_saved(p))
        if not self.recent_files():
            menu.addAction("(none)").setEnabled(False)
