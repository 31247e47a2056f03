"""The composite reduced by a power of two, for a zoomed-out canvas, and quick previews of layer changes.

A 4096 x 4096 canvas fitted to a screen shows about a quarter of its pixels' size; composing all 16
million pixels for every step of an opacity slider is what made large canvases lag. Zoomed out to half
size or less, the canvas shows this view instead: the document's composite reduced by ``factor`` (a box
filter: the mean of premultiplied pixels). A change of whole layers (opacity, visibility, blend mode,
order, and their undo) is previewed here from reduced copies of the projection's parts and of the
changed layers, so a frame costs a composite of the reduced size; an opacity or visibility change of
one normal layer under normal layers is a multiply-add per pixel (the composite is affine in that
layer's opacity). Regions so previewed are *rough* until ``refine`` replaces them with the reduction
of the exact composite (the canvas does it when idle, after the document settled). Small changes
(strokes) are reduced from their exact composite at once. The document's own composite, which saving
and generation read, is never taken from this view.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace

import numpy as np
from PIL import Image

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.compose import blend_layer, composite, in_bands, over_float, to_uint8
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.projection import Parts, Projection, Span
from sketchdiffuse.document.rect import Rect

MAX_FACTOR = 16
# A change of a span of layers over at least this share of the canvas is previewed; smaller ones
# (strokes) are composed exactly, which is cheap for them.
PREVIEW_SHARE = 0.25
MAX_PENDING = 32
LAYER_CACHE_BYTES = 512 << 20  # reduced copies of layers kept for previews (128 layers of 4096^2 / 4)


def factor_for(zoom: float) -> int:
    """The largest power of two (up to 16) by which the composite can be reduced at ``zoom`` and still
    give at least one of its pixels per screen pixel; 1 means the full-resolution composite."""
    factor = 1
    while factor < MAX_FACTOR and zoom * factor * 2 <= 1.0:
        factor *= 2
    return factor


def reduced_rect(rect: Rect, factor: int) -> Rect:
    """The reduced pixels whose boxes ``rect`` touches."""
    x0, y0 = rect.x // factor, rect.y // factor
    return Rect(x0, y0, -(-rect.right // factor) - x0, -(-rect.bottom // factor) - y0)


def box_aligned(rect: Rect, factor: int, canvas: Rect) -> Rect:
    """``rect`` grown to whole boxes of the reduction (within the canvas)."""
    r = reduced_rect(rect, factor)
    return Rect(r.x * factor, r.y * factor, r.w * factor, r.h * factor).intersected(canvas)


def reduce_pixels(pixels: np.ndarray, factor: int) -> np.ndarray:
    """Premultiplied uint8 ``pixels`` reduced by ``factor``: each pixel the rounded mean of its box (partial
    boxes at the right and bottom edges average the pixels they hold). Pillow's reduce, on its
    premultiplied mode so that no conversion happens."""
    h, w = pixels.shape[:2]
    image = Image.frombuffer("RGBa", (w, h), np.ascontiguousarray(pixels), "raw", "RGBa", 0, 1)
    return np.array(image.reduce(factor))  # a writable copy


class ReducedView:
    def __init__(self) -> None:
        self.factor = 0
        self.pixels: np.ndarray | None = None  # the reduced composite (uint8, premultiplied)
        self.rough: list[Rect] = []  # document rectangles shown as previews, not yet exact
        self._pending: list[tuple[Rect, Span | None]] = []
        self._layers: OrderedDict[int, np.ndarray] = OrderedDict()  # uid: reduced pixels, least recent first
        self._layer_stale: dict[int, list[Rect]] = {}
        self.projection = Projection()  # of the reduced layers: below and above the changed ones
        self.layer_budget = LAYER_CACHE_BYTES
        self._affine: tuple[tuple, np.ndarray, np.ndarray] | None = None
        self.previews = 0  # rectangles previewed (tests and benchmarks read it)

    @property
    def nbytes(self) -> int:
        arrays = list(self._layers.values()) + (list(self._affine[1:]) if self._affine is not None else [])
        return sum(a.nbytes for a in arrays) + self.projection.nbytes

    def set_budget(self, budget_bytes: int) -> None:
        """The memory the reduced projection may use, and the reduced layers (at most LAYER_CACHE_BYTES)."""
        self.projection.budget_bytes = budget_bytes
        if self.projection.nbytes > budget_bytes:
            self.projection.drop()
        self.layer_budget = min(LAYER_CACHE_BYTES, budget_bytes)
        while self._layers and sum(a.nbytes for a in self._layers.values()) > self.layer_budget:
            uid, _ = self._layers.popitem(last=False)
            self._layer_stale.pop(uid, None)
        if self._affine is not None and sum(a.nbytes for a in self._affine[1:]) > budget_bytes:
            self._affine = None

    def release(self) -> None:
        """Forget the reduced copies kept for previews (the reduced composite stays)."""
        self._layers.clear()
        self._layer_stale.clear()
        self.projection.drop()
        self._affine = None

    def reset(self) -> None:
        self.release()
        self.factor, self.pixels, self.rough, self._pending = 0, None, [], []

    def changed(self, rect: Rect, span: Span | None, pixels: bool) -> None:
        """The document changed in ``rect``: the layers of ``span`` (None: any layer), their pixels when
        ``pixels``, otherwise only their properties or places."""
        if pixels:
            uids = set(self._layers) if span is None else set(span.stack[span.start : span.stop])
            for uid in uids & set(self._layers):
                stale = self._layer_stale.setdefault(uid, [])
                stale.append(rect)
                if len(stale) > MAX_PENDING:  # a long stroke: one rectangle, not thousands
                    self._layer_stale[uid] = [Rect.union(stale)]
        if self.pixels is None:
            return
        self.projection.changed(reduced_rect(rect, self.factor), span)
        # An older change inside a newer one's rectangle is redone by the newer one (both compose the
        # layers as they are when the view is read).
        kept = [(r, s) for r, s in self._pending if r.intersected(rect) != r]
        kept.append((rect, span))
        if len(kept) > MAX_PENDING:
            kept = [(Rect.union(r for r, _ in kept), None)]
        self._pending = kept

    def needs_base(self, factor: int, canvas: Rect) -> bool:
        """True when the view must be built from the exact composite (``rebuild``) before ``read``."""
        if self.pixels is None or factor != self.factor:
            return True
        r = reduced_rect(canvas, factor)
        return self.pixels.shape[:2] != (r.h, r.w)

    def rebuild(self, factor: int, exact: np.ndarray) -> None:
        self.reset()
        self.factor = factor
        self.pixels = reduce_pixels(exact, factor)

    def refine(self, exact: np.ndarray) -> None:
        """Replace the rough regions with the reduction of ``exact``, the current full composite."""
        assert self.pixels is not None
        canvas = Rect(0, 0, exact.shape[1], exact.shape[0])
        for rect in self.rough:
            area = box_aligned(rect, self.factor, canvas)
            self.pixels[reduced_rect(area, self.factor).slices()] = reduce_pixels(exact[area.slices()], self.factor)
        self.rough = []

    def read(
        self,
        layers: list[Layer],
        canvas: Rect,
        version: Callable[[Layer], Hashable],
        exact: np.ndarray | None = None,
    ) -> np.ndarray:
        """The reduced composite, current: pending changes previewed or composed exactly; ``version``: what
        changes with a layer's pixels (Document.pixels_version); ``exact``: the full composite when it is
        already current, reduced instead of previewing."""
        assert self.pixels is not None
        small = reduced_rect(canvas, self.factor)
        for rect, span in self._pending:
            area = box_aligned(rect, self.factor, canvas)
            target = reduced_rect(area, self.factor)
            parts = None
            large = area.w * area.h >= PREVIEW_SHARE * canvas.w * canvas.h
            if exact is None and span is not None and large and self._previewable(layers, small):
                parts = self.projection.parts([self._proxy(layer) for layer in layers], span, small)
            if parts is None:
                source = composite(layers, area) if exact is None else exact[area.slices()]
                self.pixels[target.slices()] = reduce_pixels(source, self.factor)
            else:
                self.pixels[target.slices()] = self._preview(parts, target, version)
                self.rough = [r for r in self.rough if r.intersected(area) != r]  # redone by this one
                self.rough.append(area)
                if len(self.rough) > MAX_PENDING:
                    self.rough = [Rect.union(self.rough)]
                self.previews += 1
        self._pending = []
        view = self.pixels.view()
        view.setflags(write=False)
        return view

    # -- previews ------------------------------------------------------------------------
    def _previewable(self, layers: list[Layer], small: Rect) -> bool:
        """Previews need every layer reduced at once: when the stack does not fit the budget, the layers'
        copies would be made again for every frame, so the change is composed exactly instead."""
        return self.projection.fits(small) and len(layers) * small.w * small.h * 4 <= self.layer_budget

    def _preview(self, parts: Parts, target: Rect, version: Callable[[Layer], Hashable]) -> np.ndarray:
        below, above, middle = parts.below, parts.above, parts.middle
        affine_bytes = 2 * below.nbytes
        if (
            above is not None
            and len(middle) == 1
            and middle[0].blend_mode is BlendMode.NORMAL
            and affine_bytes <= self.projection.budget_bytes
        ):
            base, delta = self._affine_parts(parts, version(middle[0]))
            opacity = np.float32(middle[0].opacity if middle[0].visible else 0.0)
            out = np.empty((target.h, target.w, 4), dtype=np.uint8)

            def frame(band: Rect) -> None:  # one multiply-add per value; base holds the rounding's 0.5
                values = delta[band.slices()] * opacity
                values += base[band.slices()]
                np.clip(values, 0.0, 255.0, out=values)
                out[band.y - target.y : band.bottom - target.y] = values

            in_bands(target, frame)
            return out
        out = np.empty((target.h, target.w, 4), dtype=np.uint8)

        def compose_band(band: Rect) -> None:
            dst = below[band.slices()].copy()
            for layer in middle:
                blend_layer(dst, layer, band)
            if above is not None:
                over_float(dst, above[band.slices()])
            else:
                for layer in parts.over:
                    blend_layer(dst, layer, band)
            out[band.y - target.y : band.bottom - target.y] = to_uint8(dst)

        in_bands(target, compose_band)
        return out

    def _affine_parts(self, parts: Parts, version: Hashable) -> tuple[np.ndarray, np.ndarray]:
        """``base`` and ``delta`` with composite = base + opacity * delta for the one normal layer between
        ``below`` and the folded ``above``: source-over is affine in the source's opacity. ``base`` has the
        0.5 of rounding to uint8 added."""
        layer, below, above = parts.middle[0], parts.below, parts.above
        assert above is not None
        key = (parts.revision, layer.uid, version)
        if self._affine is None or self._affine[0] != key:
            src = layer.pixels.astype(np.float32)
            keep = 1.0 - above[..., 3:4] * np.float32(1 / 255)  # how much of what is under the above shows
            base = below * keep
            base += above
            base += np.float32(0.5)
            delta = src - below * (src[..., 3:4] * np.float32(1 / 255))
            delta *= keep
            self._affine = (key, base, delta)
        return self._affine[1], self._affine[2]

    def warm(self, layers: list[Layer]) -> bool:
        """Reduce one more layer ahead of its first preview (idle work); True when there is none left to
        reduce, or no room for it."""
        if self.pixels is None:
            return True
        missing = [layer for layer in layers if layer.uid not in self._layers]
        if not missing or len(self._layers) + 1 > self.layer_budget // max(1, self.pixels.nbytes):
            return True
        self._reduced_pixels(missing[0])
        return len(missing) == 1

    def _proxy(self, layer: Layer) -> Layer:
        """``layer`` with its pixels reduced: same uid and properties, for the reduced projection."""
        return replace(layer, pixels=self._reduced_pixels(layer))

    def _reduced_pixels(self, layer: Layer) -> np.ndarray:
        """``layer``'s pixels reduced, kept (least recently used first out) and updated where they changed."""
        reduced = self._layers.get(layer.uid)
        canvas = Rect(0, 0, layer.width, layer.height)
        if reduced is None:
            reduced = reduce_pixels(layer.pixels, self.factor)
            self._layers[layer.uid] = reduced
            self._layer_stale.pop(layer.uid, None)
        for rect in self._layer_stale.pop(layer.uid, []):
            area = box_aligned(rect, self.factor, canvas)
            reduced[reduced_rect(area, self.factor).slices()] = reduce_pixels(layer.pixels[area.slices()], self.factor)
        self._layers.move_to_end(layer.uid)
        while self._layers and len(self._layers) * reduced.nbytes > self.layer_budget:
            uid, _ = self._layers.popitem(last=False)
            self._layer_stale.pop(uid, None)
        return reduced
