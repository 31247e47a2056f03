"""One open document and what belongs to it, without a window: the layers, the undo history, the
file it came from and whether it differs from it, the history of results and the panel's values
that the project file carries. The window shows a DocumentSession; scripts and tests use it alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sketchdiffuse.document.document import Document
from sketchdiffuse.document.history import History
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.generation.history_store import decode_history, encode_history
from sketchdiffuse.generation.request import GenerationRequest, GenerationResult
from sketchdiffuse.io.images import open_image
from sketchdiffuse.io.ora import OraContents, read_ora, write_ora
from sketchdiffuse.session.history_model import HistoryModel
from sketchdiffuse.session.image_layers import apply_result
from sketchdiffuse.session.references import ReferencePicture, decode_references, encode_references
from sketchdiffuse.session.requests import document_request, drawing_composite, drawing_of
from sketchdiffuse.session.servers import Server
from sketchdiffuse.session.settings import PanelValues, RunSettings


def is_project(path: Path) -> bool:
    return path.suffix.lower() == ".ora"


def read_document(path: Path) -> OraContents:
    """An .ora as it is, or an image as a one-layer document without extras (not yet an .ora).
    Damaged files raise DocumentError with a sentence naming the file."""
    if is_project(path):
        return read_ora(path)
    image = open_image(path)
    return OraContents(Document(image.width, image.height, [Layer("Background", image.pixels)]))


def default_document(width: int = 1024, height: int = 1024) -> Document:
    """A white background to paint on and an empty sketch layer above it, active."""
    doc = Document(width, height)
    doc.layers[0].pixels[:] = 255
    doc.layers.append(doc.new_layer("Sketch"))
    doc.active_index = 1
    return doc


class DocumentSession:
    def __init__(self, doc: Document, path: Path | None = None) -> None:
        self.doc = doc
        self.path = path  # the artist's .ora; None until saved as one
        self.history = History(doc)
        self.results = HistoryModel()
        self.panel = PanelValues()
        self.run = RunSettings()
        self.warnings: list[str] = []  # what opening the file reported
        self.references: list[ReferencePicture] = []  # pictures whose look steers results (IP-Adapter)
        self.server: Server | None = None  # a ComfyUI server making the pictures; None: this computer

    # -- files -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> DocumentSession:
        """An .ora with its history and panel settings, or an image as a one-layer document (not yet an .ora).
        Damaged files raise DocumentError with a sentence naming the file."""
        path = Path(path)
        contents = read_document(path)
        if not is_project(path):
            return cls(contents.document)
        session = cls(contents.document, path)
        entries, panel, warnings = decode_history(contents.extras)
        session.results.replace_all(entries)
        session.panel = PanelValues.from_mapping(panel, session.panel)
        session.references, reference_warnings = decode_references(contents.extras)
        session.warnings = contents.warnings + warnings + reference_warnings
        return session

    def project_extras(self) -> dict[str, bytes]:
        return encode_history(list(self.results.entries), self.panel.as_dict()) | encode_references(self.references)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project atomically (the old file stays whole on failure); the session is then clean."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("This document has no file yet: give a path to save it to.")
        write_ora(self.doc, target, self.project_extras())
        self.history.set_clean()  # written on this thread: nothing changed meanwhile
        self.path = target
        return target

    @property
    def modified(self) -> bool:
        return not self.history.is_clean()

    # -- generation --------------------------------------------------------------------------
    def drawing(self) -> np.ndarray:
        return drawing_of(drawing_composite(self.doc))

    def request(self, seed: int | None = None) -> GenerationRequest:
        """What Generate sends: the whole drawing, or with a selection the area around it."""
        return document_request(self.panel, self.run, self.doc, seed, self.references, self.server)

    def keep(self, result: GenerationResult) -> None:
        """A finished result joins the history of results (newest first)."""
        self.results.add(result, png=result.saved_png)

    def apply(self, result: GenerationResult) -> Layer:
        """The result as a new layer (image_layers.apply_result): one undoable step."""
        change = apply_result(self.doc, result)
        self.history.push(change)
        return change.after[change.after_active]
