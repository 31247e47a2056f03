"""Undoable commands as plain objects, run and recorded by ``document.history.History``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.compose import composite, scaled_by
from sketchdiffuse.document.control_role import ControlRole
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError, LayerLockedError
from sketchdiffuse.document.layer import Layer, blank_pixels
from sketchdiffuse.document.rect import Rect


class Command(Protocol):
    text: str

    def do(self, doc: Document) -> None: ...
    def undo(self, doc: Document) -> None: ...
    def size_bytes(self) -> int: ...
    def merge(self, other: Command) -> bool: ...


@dataclass
class StackChange:
    """Replaces the layer list (add, delete, duplicate, move, merge, flatten).

    Layers are shared by reference, so only layers created or removed cost memory."""

    text: str
    before: list[Layer]
    before_active: int
    after: list[Layer]
    after_active: int

    def do(self, doc: Document) -> None:
        doc.set_layers(self.after, self.after_active)

    def undo(self, doc: Document) -> None:
        doc.set_layers(self.before, self.before_active)

    def size_bytes(self) -> int:
        old = {id(layer) for layer in self.before}
        new = {id(layer) for layer in self.after}
        changed = [ly for ly in self.before if id(ly) not in new] + [ly for ly in self.after if id(ly) not in old]
        return sum(layer.pixels.nbytes for layer in changed) + 64

    def merge(self, other: Command) -> bool:
        return False


@dataclass
class Macro:
    """Commands already run one after the other, undone and redone as one step (e.g. Layer Properties)."""

    text: str
    commands: list[Command] = field(default_factory=list)

    def do(self, doc: Document) -> None:
        for command in self.commands:
            command.do(doc)

    def undo(self, doc: Document) -> None:
        for command in reversed(self.commands):
            command.undo(doc)

    def size_bytes(self) -> int:
        return sum(c.size_bytes() for c in self.commands) + 64

    def merge(self, other: Command) -> bool:
        return False


# Properties that change the picture (and so need a repaint) versus ones that only change the panel.
_VISUAL = {"opacity", "visible", "blend_mode"}
_PROPERTIES = {"name", "locked", "control"} | _VISUAL


@dataclass
class SetLayerProperty:
    """One property of one layer; consecutive changes of the same property merge (a slider drag)."""

    text: str
    layer: Layer
    prop: str
    old: Any
    new: Any

    def _apply(self, doc: Document, value: Any) -> None:
        setattr(self.layer, self.prop, value)
        doc.notify_layers_changed()
        if self.prop in _VISUAL:
            doc.notify_dirty(doc.rect, self.layer, pixels=False)

    def do(self, doc: Document) -> None:
        self._apply(doc, self.new)

    def undo(self, doc: Document) -> None:
        self._apply(doc, self.old)

    def size_bytes(self) -> int:
        return 128

    def merge(self, other: Command) -> bool:
        if isinstance(other, SetLayerProperty) and other.layer is self.layer and other.prop == self.prop == "opacity":
            self.new = other.new
            return True
        return False


@dataclass
class PixelPatches:
    """Before/after pixels of the rectangles a stroke or a fill touched, on one layer."""

    text: str
    layer: Layer
    rects: list[Rect]
    before: list[np.ndarray]
    after: list[np.ndarray] = field(default_factory=list)

    def _put(self, doc: Document, patches: list[np.ndarray]) -> None:
        dirty = Rect(0, 0, 0, 0)
        for rect, patch in zip(self.rects, patches, strict=True):
            self.layer.pixels[rect.slices()] = patch
            dirty = dirty.united(rect)
        doc.notify_dirty(dirty, self.layer)

    def do(self, doc: Document) -> None:
        if not self.after:  # first run: the pixels are already painted, record them
            self.after = [self.layer.pixels[r.slices()].copy() for r in self.rects]
            return
        self._put(doc, self.after)

    def undo(self, doc: Document) -> None:
        self._put(doc, self.before)

    def size_bytes(self) -> int:
        return sum(p.nbytes for p in self.before) + sum(p.nbytes for p in self.after) + 64

    def merge(self, other: Command) -> bool:
        return False


@dataclass
class SetSelection:
    """The selection before and after a selection tool, Select All, Invert, Feather..."""

    text: str
    before: np.ndarray | None
    after: np.ndarray | None

    def do(self, doc: Document) -> None:
        doc.set_selection(self.after)

    def undo(self, doc: Document) -> None:
        doc.set_selection(self.before)

    def size_bytes(self) -> int:
        return sum(mask.nbytes for mask in (self.before, self.after) if mask is not None) + 64

    def merge(self, other: Command) -> bool:
        return False


# -- constructors: each checks its input and returns a command for the history to run --------


def require_index(doc: Document, index: int) -> int:
    if not 0 <= index < len(doc.layers):
        raise DocumentError(f"There is no layer {index}; the document has {len(doc.layers)}.")
    return index


def add_layer(doc: Document, layer: Layer | None = None, index: int | None = None, text: str = "") -> StackChange:
    """Insert ``layer`` (a blank one by default) above the active layer, or at ``index``."""
    new = layer if layer is not None else doc.new_layer(doc.unique_name())
    if new.pixels.shape != (doc.height, doc.width, 4):
        raise DocumentError(
            f"Layer '{new.name}' is {new.width} x {new.height}, the canvas is {doc.width} x {doc.height}."
        )
    at = doc.active_index + 1 if index is None else max(0, min(index, len(doc.layers)))
    after = [*doc.layers[:at], new, *doc.layers[at:]]
    return StackChange(text or f"Add layer '{new.name}'", list(doc.layers), doc.active_index, after, at)


def delete_layer(doc: Document, index: int) -> StackChange:
    require_index(doc, index)
    if len(doc.layers) == 1:
        raise DocumentError("The last layer cannot be deleted; a document needs at least one layer. Clear it instead.")
    after = doc.layers[:index] + doc.layers[index + 1 :]
    name = doc.layers[index].name
    return StackChange(f"Delete layer '{name}'", list(doc.layers), doc.active_index, after, min(index, len(after) - 1))


def duplicate_layer(doc: Document, index: int) -> StackChange:
    require_index(doc, index)
    source = doc.layers[index]
    copy = source.copy(name=f"{source.name} copy")
    after = [*doc.layers[: index + 1], copy, *doc.layers[index + 1 :]]
    return StackChange(f"Duplicate layer '{source.name}'", list(doc.layers), doc.active_index, after, index + 1)


def move_layer(doc: Document, index: int, to: int) -> StackChange:
    require_index(doc, index)
    to = max(0, min(to, len(doc.layers) - 1))
    after = list(doc.layers)
    layer = after.pop(index)
    after.insert(to, layer)
    return StackChange(f"Move layer '{layer.name}'", list(doc.layers), doc.active_index, after, to)


def set_layer_property(doc: Document, index: int, prop: str, value: Any) -> SetLayerProperty:
    require_index(doc, index)
    if prop not in _PROPERTIES:
        raise DocumentError(f"Layers have no property '{prop}'.")
    layer = doc.layers[index]
    if prop == "opacity":
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise DocumentError(f"Opacity must be between 0 and 1, not {value}.")
    elif prop == "blend_mode":
        value = BlendMode(value)
    elif prop == "name":
        value = str(value).strip()
        if not value:
            raise DocumentError("A layer name cannot be empty.")
    elif prop in ("visible", "locked"):
        value = bool(value)
    elif prop == "control" and value is not None and not isinstance(value, ControlRole):
        raise DocumentError("A layer's control role is a ControlRole or none.")
    labels = {
        "name": "Rename",
        "opacity": "Opacity",
        "visible": "Visibility",
        "blend_mode": "Blend mode",
        "locked": "Lock",
        "control": "Control role",
    }
    return SetLayerProperty(f"{labels[prop]} of '{layer.name}'", layer, prop, getattr(layer, prop), value)


def merge_down(doc: Document, index: int) -> StackChange:
    """Merge a layer into the one below; the lower layer keeps its name, blend mode, visibility and control role."""
    require_index(doc, index)
    if index == 0:
        raise DocumentError("The bottom layer has nothing below it to merge into.")
    upper, lower = doc.layers[index], doc.layers[index - 1]
    if lower.locked:
        raise LayerLockedError(f"Layer '{lower.name}' is locked; unlock it to merge into it.")
    # The lower layer's opacity is baked in; its blend mode and visibility stay with the result.
    below = Layer(name=lower.name, pixels=_bake_opacity(lower))
    merged = Layer(
        name=lower.name,
        pixels=composite([below, upper], doc.rect),
        blend_mode=lower.blend_mode,
        visible=lower.visible,
        control=lower.control,  # a control layer stays one; lines merged onto a colour layer become colour
    )
    after = [*doc.layers[: index - 1], merged, *doc.layers[index + 1 :]]
    return StackChange(f"Merge '{upper.name}' down", list(doc.layers), doc.active_index, after, index - 1)


def _bake_opacity(layer: Layer) -> np.ndarray:
    if layer.opacity >= 1.0:
        return layer.pixels.copy()
    scaled = layer.pixels.astype(np.float32) * np.float32(layer.opacity) + 0.5
    return scaled.astype(np.uint8)


def flatten(doc: Document) -> StackChange:
    flat = Layer(name="Background", pixels=doc.composite())
    return StackChange("Flatten image", list(doc.layers), doc.active_index, [flat], 0)


def clear_layer(doc: Document, index: int) -> PixelPatches:
    require_index(doc, index)
    layer = doc.layers[index]
    if layer.locked:
        raise LayerLockedError(f"Layer '{layer.name}' is locked; unlock it to clear it.")
    blank = blank_pixels(doc.width, doc.height)
    return PixelPatches(f"Clear '{layer.name}'", layer, [doc.rect], [layer.pixels.copy()], [blank])


def layer_from_image(doc: Document, name: str, rgba_premultiplied: np.ndarray) -> Layer:
    """A canvas-size layer holding ``rgba_premultiplied`` placed at the top-left corner (cropped)."""
    pixels = blank_pixels(doc.width, doc.height)
    h = min(doc.height, rgba_premultiplied.shape[0])
    w = min(doc.width, rgba_premultiplied.shape[1])
    pixels[:h, :w] = rgba_premultiplied[:h, :w]
    return Layer(name=name, pixels=pixels)


def select(doc: Document, mask: np.ndarray | None, text: str) -> SetSelection:
    """Make ``mask`` the selection (None or an empty mask: select nothing)."""
    if mask is not None and mask.shape != (doc.height, doc.width):
        raise DocumentError(f"A selection must be {doc.width} x {doc.height}, not {mask.shape[1]} x {mask.shape[0]}.")
    after = None if mask is None or not mask.any() else np.ascontiguousarray(mask, dtype=np.uint8)
    return SetSelection(text, doc.selection, after)


def clear_selected(doc: Document, index: int) -> PixelPatches:
    """Erase what the selection covers on a layer (partly covered pixels partly)."""
    from sketchdiffuse.document.selection import bounds

    require_index(doc, index)
    layer = doc.layers[index]
    if layer.locked:
        raise LayerLockedError(f"Layer '{layer.name}' is locked; unlock it to erase on it.")
    if doc.selection is None:
        return clear_layer(doc, index)
    box = bounds(doc.selection)
    before = layer.pixels[box.slices()].copy()
    after = scaled_by(before, 255 - doc.selection[box.slices()][..., None])
    return PixelPatches(f"Delete selection on '{layer.name}'", layer, [box], [before], [after])
