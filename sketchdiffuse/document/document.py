"""The document: canvas size, ordered layers, active layer and change notifications."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sketchdiffuse.document.compose import composite
from sketchdiffuse.document.composite_cache import CompositeCache
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.document.frame import Frame
from sketchdiffuse.document.layer import Layer, blank_pixels, content_bounds
from sketchdiffuse.document.projection import Projection, Span
from sketchdiffuse.document.rect import EMPTY, Rect
from sketchdiffuse.document.reduced_view import ReducedView

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
        self._selection_listeners: list[LayersListener] = []
        # The selection's coverage (H x W uint8, 255 selected); None: nothing is selected (selection.py).
        self.selection: np.ndarray | None = None
        self.frame = Frame()  # where the first canvas lies after expanding, cropping and scaling (frame.py)
        self.projection = Projection()
        self._composite = CompositeCache(
            lambda rect: composite(self.layers, rect),
            lambda span, rect, build: self.projection.compose(self.layers, span, rect, self.rect, build),
        )
        self._reduced = ReducedView()
        self._pixel_changes: dict[int, int] = {}  # layer uid: pixel changes reported for it
        self._unattributed_changes = 0  # pixel changes of layers not named (any layer may have changed)
        self._boxes: dict[int, tuple[tuple[int, int], Rect]] = {}  # uid: pixels version, painted box

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
        old, new = self.layers, list(layers)
        span = Span.between(old, new)
        # Only where the layers added, removed or moved show anything can the picture change (a transparent
        # pixel leaves what is under it as it was in every blend mode): a pasted patch or a generated
        # region recomposes its box, not the canvas.
        changed = {id(layer): layer for layer in old[span.start : len(old) - (len(new) - span.stop)]}
        changed.update({id(layer): layer for layer in new[span.start : span.stop]})
        area = Rect.union(self._shown_box(layer) for layer in changed.values())
        self.layers = new
        self.active_index = max(0, min(active_index, len(self.layers) - 1))
        self.notify_layers_changed()
        self._notify(area, span, pixels=False)

    def resize(
        self,
        width: int,
        height: int,
        layers: list[Layer],
        active_index: int,
        selection: np.ndarray | None,
        frame: Frame | None = None,
    ) -> None:
        """A new canvas size with its layers, selection and frame (used by undoable commands): every cache
        starts again, and every view hears of the new stack, the whole canvas and the selection."""
        check_size(width, height)
        if any(layer.pixels.shape != (height, width, 4) for layer in layers):
            raise DocumentError("Every layer must match the new canvas size.")
        self.width, self.height = width, height
        self.frame = self.frame if frame is None else frame
        self.layers = list(layers)
        self.active_index = max(0, min(active_index, len(self.layers) - 1))
        self._composite.drop()
        self.projection.drop()
        self._reduced.reset()
        self.notify_layers_changed()
        self._notify(self.rect, None)
        self.set_selection(selection)

    # -- pixels ----------------------------------------------------------------------------
    def composite(self, rect: Rect | None = None) -> np.ndarray:
        """Premultiplied RGBA uint8 of the visible layers over ``rect`` (the whole canvas by default):
        a copy the caller owns, taken from the cached composite."""
        area = self.rect if rect is None else rect.intersected(self.rect)
        return self.composite_view(area)[area.slices()].copy()

    def composite_view(self, within: Rect | None = None) -> np.ndarray:
        """The cached composite of the whole canvas, read-only; current as of this call (with ``within``: in
        that rectangle only, what a view shows). Views read it instead of composing the layers
        themselves (see composite_cache)."""
        return self._composite.read(self.rect, within)

    def reduced_view(self, factor: int) -> np.ndarray:
        """The composite reduced by ``factor`` (a power of two), read-only, for a zoomed-out view: changes of
        whole layers show in it as quick previews until ``settle`` has made it exact (reduced_view.py).
        Saving and generation never read it."""
        view = self._reduced
        if view.needs_base(factor, self.rect):
            view.rebuild(factor, self.composite_view())
        if self._composite.pending:
            return view.read(self.layers, self.rect, self.pixels_version)
        # The composite is current (settled, or read by a save): reduce it rather than preview.
        exact = self.composite_view()
        if view.rough:
            view.refine(exact)
        return view.read(self.layers, self.rect, self.pixels_version, exact)

    @property
    def settled(self) -> bool:
        """True when the composite and its reduced view are exact (nothing waits to be composed)."""
        return not self._composite.pending and not self._reduced.rough

    def settle(self, max_work: int, reduce_ahead: bool = False) -> bool:
        """Compose a part of what changed since the composite was last read, about ``max_work`` pixels times
        layers blended, and once all is composed make the reduced view exact, then reduce a layer ahead for
        later previews (reduced_view.ReducedView.warm); True when nothing is left.
        Views call it when idle, in small steps, so the window answers input in between."""
        shown = max(1, sum(layer.visible for layer in self.layers))
        if not self._composite.settle(self.rect, max_work // 4, max_work // shown):
            return False
        if self._reduced.rough:
            self._reduced.refine(self.composite_view())
        # Then, for a view showing the reduced composite, the layers are reduced ahead, one per step, so
        # that the first change of a layer is previewed at once.
        return not reduce_ahead or self._reduced.warm(self.layers)

    def release_caches(self) -> None:
        """Free the memory kept to make layer changes fast (projections, reduced layers); they are built
        again when needed. Views call it after a while idle."""
        self.projection.drop()
        self._reduced.release()

    def set_cache_budget(self, budget_bytes: int) -> None:
        """The memory the projections may use, each (the full-size one and the reduced view's); caches over
        it are freed at once."""
        self.projection.budget_bytes = budget_bytes
        if self.projection.nbytes > budget_bytes or not self.projection.fits(self.rect):
            self.projection.drop()
        self._reduced.set_budget(budget_bytes)

    def _shown_box(self, layer: Layer) -> Rect:
        """Where ``layer`` shows anything (empty when hidden); the box is kept while its pixels stay the same,
        so moving a layer up and down does not scan its pixels again."""
        if not layer.visible or layer.opacity <= 0.0:
            return EMPTY
        version = self.pixels_version(layer)
        kept = self._boxes.get(layer.uid)
        if kept is None or kept[0] != version:
            if len(self._boxes) > 4 * len(self.layers) + 64:
                self._boxes.clear()  # deleted layers' boxes
            known = layer.painted_within if kept is None and version[1] == 0 else None
            layer.painted_within = None  # good for the first look only: later changes may go anywhere
            kept = self._boxes[layer.uid] = (version, known or content_bounds(layer))
        return kept[1]

    def pixels_version(self, layer: Layer) -> tuple[int, int]:
        """Changes whenever ``layer``'s pixels may have changed (not its properties or place): views keep
        what they derive from the pixels (thumbnails, reduced copies) while it stays the same."""
        return self._unattributed_changes, self._pixel_changes.get(layer.uid, 0)

    @property
    def cache_bytes(self) -> int:
        return self.projection.nbytes + self._reduced.nbytes

    # -- notifications ---------------------------------------------------------------------
    def add_dirty_listener(self, listener: DirtyListener) -> None:
        self._dirty_listeners.append(listener)

    def add_layers_listener(self, listener: LayersListener) -> None:
        self._layers_listeners.append(listener)

    def add_selection_listener(self, listener: LayersListener) -> None:
        self._selection_listeners.append(listener)

    def remove_listeners(self, owner: object) -> None:
        """Drop every callback bound to ``owner`` (a view that goes away)."""
        self._dirty_listeners = [cb for cb in self._dirty_listeners if getattr(cb, "__self__", None) is not owner]
        self._layers_listeners = [cb for cb in self._layers_listeners if getattr(cb, "__self__", None) is not owner]
        self._selection_listeners = [
            cb for cb in self._selection_listeners if getattr(cb, "__self__", None) is not owner
        ]

    def set_selection(self, mask: np.ndarray | None) -> None:
        """Replace the selection (used by undoable commands); an empty mask means none."""
        if mask is not None:
            if mask.shape != (self.height, self.width) or mask.dtype != np.uint8:
                raise DocumentError(f"A selection must be a {self.width} x {self.height} coverage mask.")
            if not mask.any():
                mask = None
        self.selection = mask
        for listener in list(self._selection_listeners):
            listener()

    def notify_dirty(self, rect: Rect, layer: Layer | None = None, pixels: bool = True) -> None:
        """``rect`` looks different now; ``layer``: the one layer that changed there, when it is one (the
        composite then recomposes only that layer between cached projections of the others); ``pixels``
        False: only its properties changed (opacity, visibility, blend mode)."""
        self._notify(rect, Span.of_layer(self.layers, layer) if layer is not None else None, pixels)

    def _notify(self, rect: Rect, span: Span | None, pixels: bool = True) -> None:
        area = rect.intersected(self.rect)
        if area.is_empty():
            return
        if pixels and span is None:
            self._unattributed_changes += 1
        elif pixels and span is not None:
            for uid in span.stack[span.start : span.stop]:
                self._pixel_changes[uid] = self._pixel_changes.get(uid, 0) + 1
        self.projection.changed(area, span)
        self._reduced.changed(area, span, pixels)
        self._composite.invalidate(area, self.rect, span)  # before the listeners, which may read the composite
        for listener in list(self._dirty_listeners):
            listener(area)

    def notify_layers_changed(self) -> None:
        for listener in list(self._layers_listeners):
            listener()
