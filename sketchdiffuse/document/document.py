"""The document: canvas size, ordered layers, active layer and change notifications."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sketchdiffuse.document.compose import composite
from sketchdiffuse.document.composite_cache import CompositeCache
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.layer import Layer, blank_pixels
from sketchdiffuse.document.projection import Projection, Span
from sketchdiffuse.document.rect import Rect

MAX_SIDE = 8192

DirtyListener = Callable[[Rect], None]
LayersListener = Callable[[], None]


def check_size(width: int, height: int) -> None:
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise DocumentError(
            f"A canvas must be between 1 and {MAX_SIDE} pixels on each side; {width} x {height} is not."
        )


class Document:
    """Layers are kept bottom first (index 0 is drawn first); views subscribe with plain callbacks."""

    def __init__(self, width: int, height: int, layers: list[Layer] | None = None) -> None:
        check_size(width, height)
        self.width = width
        self.height = height
        self.layers: list[Layer] = []
        self.layers = layers if layers is not None else [self.new_layer("Background")]
        if not self.layers:
            raise DocumentError("A document needs at least one layer.")
        for layer in self.layers:
            if layer.pixels.shape != (height, width, 4):
                raise DocumentError(f"Layer '{layer.name}' does not match the canvas size.")
        self.active_index = len(self.layers) - 1
        # Kept by the undo history: True while the stack is away from its clean (saved) state.
        self.modified = False
        self._dirty_listeners: list[DirtyListener] = []
        self._layers_listeners: list[LayersListener] = []
        self.projection = Projection()
        self._composite = CompositeCache(
            lambda rect: composite(self.layers, rect),
            lambda span, rect: self.projection.compose(self.layers, span, rect, self.rect),
        )

    # -- structure -------------------------------------------------------------------------
    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self.width, self.height)

    @property
    def active_layer(self) -> Layer:
        return self.layers[self.active_index]

    def new_layer(self, name: str) -> Layer:
        return Layer(name=name, pixels=blank_pixels(self.width, self.height))

    def unique_name(self, base: str = "Layer") -> str:
        taken = {layer.name for layer in self.layers}
        n = 1
        while f"{base} {n}" in taken:
            n += 1
        return f"{base} {n}"

    def set_active(self, index: int) -> None:
        if not 0 <= index < len(self.layers):
            raise DocumentError(f"There is no layer {index}.")
        if index != self.active_index:
            self.active_index = index
            self.notify_layers_changed()

    def set_layers(self, layers: list[Layer], active_index: int) -> None:
        """Replace the whole stack (used by undoable commands)."""
        span = Span.between(self.layers, list(layers))
        self.layers = list(layers)
        self.active_index = max(0, min(active_index, len(self.layers) - 1))
        self.notify_layers_changed()
        self._notify(self.rect, span)

    # -- pixels ----------------------------------------------------------------------------
    def composite(self, rect: Rect | None = None) -> np.ndarray:
        """Premultiplied RGBA uint8 of the visible layers over ``rect`` (the whole canvas by default):
        a copy the caller owns, taken from the cached composite."""
        area = self.rect if rect is None else rect.intersected(self.rect)
        return self.composite_view()[area.slices()].copy()

    def composite_view(self) -> np.ndarray:
        """The cached composite of the whole canvas, read-only; current as of this call. Views read it
        instead of composing the layers themselves (see composite_cache)."""
        return self._composite.read(self.rect)

    # -- notifications ---------------------------------------------------------------------
    def add_dirty_listener(self, listener: DirtyListener) -> None:
        self._dirty_listeners.append(listener)

    def add_layers_listener(self, listener: LayersListener) -> None:
        self._layers_listeners.append(listener)

    def remove_listeners(self, owner: object) -> None:
        """Drop every callback bound to ``owner`` (a view that goes away)."""
        self._dirty_listeners = [cb for cb in self._dirty_listeners if getattr(cb, "__self__", None) is not owner]
        self._layers_listeners = [cb for cb in self._layers_listeners if getattr(cb, "__self__", None) is not owner]

    def notify_dirty(self, rect: Rect, layer: Layer | None = None) -> None:
        """``rect`` looks different now; ``layer``: the one layer that changed there, when it is one (the
        composite then recomposes only that layer between cached projections of the others)."""
        self._notify(rect, Span.of_layer(self.layers, layer) if layer is not None else None)

    def _notify(self, rect: Rect, span: Span | None) -> None:
        area = rect.intersected(self.rect)
        if area.is_empty():
            return
        self.projection.changed(area, span)
        self._composite.invalidate(area, span)  # before the listeners, which may read the composite
        for listener in list(self._dirty_listeners):
            listener(area)

    def notify_layers_changed(self) -> None:
        for listener in list(self._layers_listeners):
            listener()
