"""Layered document model: layers, compositing, undoable commands (numpy only, no Qt)."""

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.document import MAX_SIDE, Document
from sketchdiffuse.document.errors import DocumentError, LayerLockedError
from sketchdiffuse.document.history import History
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.rect import Rect

__all__ = ["MAX_SIDE", "BlendMode", "Document", "DocumentError", "History", "Layer", "LayerLockedError", "Rect"]
