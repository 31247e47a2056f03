"""Undoable changes of the canvas and of where pixels lie: canvas size (with an anchor), expanding the canvas
for outpainting, cropping to the selection, scaling the image, moving a layer or the selection's
contents, flipping, the fill bucket, and copying the selection's contents for pasting in place."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from sketchdiffuse.document.commands import PixelPatches, require_index
from sketchdiffuse.document.compose import laid_over, scaled_by
from sketchdiffuse.document.document import Document, check_size
from sketchdiffuse.document.errors import DocumentError, LayerLockedError
from sketchdiffuse.document.frame import Frame
from sketchdiffuse.document.layer import Layer, content_bounds
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.document.selection import bounds

OUTPAINT_OVERLAP = 16  # pixels of the old picture the new area's selection reaches into, feathered


CanvasState = tuple[int, int, list[Layer], int, np.ndarray | None, Frame]  # Document.resize's arguments


@dataclass
class CanvasChange:
    """A new canvas size with the layers, selection and frame made for it; the old ones come back on undo."""

    text: str
    before: CanvasState
    after: CanvasState

    def do(self, doc: Document) -> None:
        doc.resize(*self.after)

    def undo(self, doc: Document) -> None:
        doc.resize(*self.before)

    def size_bytes(self) -> int:
        layers = self.before[2] + self.after[2]
        masks = [m for m in (self.before[4], self.after[4]) if m is not None]
        return sum(layer.pixels.nbytes for layer in layers) + sum(m.nbytes for m in masks) + 64

    def merge(self, other: object) -> bool:
        return False


def _state(doc: Document) -> CanvasState:
    return doc.width, doc.height, list(doc.layers), doc.active_index, doc.selection, doc.frame


def _moved(layer: Layer, pixels: np.ndarray) -> Layer:
    """``layer`` with other pixels (a new layer: the old one stays whole for undo)."""
    return Layer(
        layer.name,
        pixels,
        opacity=layer.opacity,
        visible=layer.visible,
        blend_mode=layer.blend_mode,
        locked=layer.locked,
        control=layer.control,
    )


def _placed(pixels: np.ndarray, width: int, height: int, dx: int, dy: int) -> np.ndarray:
    """``pixels`` (or a mask) on a blank ``width`` x ``height`` canvas with their top-left corner at (dx, dy)."""
    out = np.zeros((height, width, *pixels.shape[2:]), pixels.dtype)
    h, w = pixels.shape[:2]
    target = Rect(dx, dy, w, h).intersected(Rect(0, 0, width, height))
    if not target.is_empty():
        out[target.slices()] = pixels[target.y - dy : target.bottom - dy, target.x - dx : target.right - dx]
    return out


def _placed_mask(mask: np.ndarray | None, width: int, height: int, dx: int, dy: int) -> np.ndarray | None:
    if mask is None:
        return None
    placed = _placed(mask, width, height, dx, dy)
    return placed if placed.any() else None


def resize_canvas(doc: Document, width: int, height: int, anchor: tuple[float, float] = (0.5, 0.5)) -> CanvasChange:
    """The canvas made ``width`` x ``height``; ``anchor`` (0..1 each way) says where the old picture stays:
    (0, 0) top-left, (0.5, 0.5) centred. Layers are cut or padded with transparency."""
    check_size(width, height)
    dx, dy = round((width - doc.width) * anchor[0]), round((height - doc.height) * anchor[1])
    return _shifted(doc, width, height, dx, dy, doc.selection, f"Canvas size {width} x {height}")


def expand_canvas(doc: Document, left: int, top: int, right: int, bottom: int) -> CanvasChange:
    """More canvas on each side (outpainting); the new area is selected, reaching OUTPAINT_OVERLAP pixels
    into the old picture with a soft edge, so Generate fills it and blends into what was there."""
    if min(left, top, right, bottom) < 0 or left + top + right + bottom == 0:
        raise DocumentError("Expanding needs a positive amount on at least one side.")
    width, height = doc.width + left + right, doc.height + top + bottom
    check_size(width, height)
    # Inside the old picture the selection fades linearly over OUTPAINT_OVERLAP pixels from the new area;
    # the old picture is a rectangle, so the distance to the new area is the least to an expanded side.
    xs, ys = np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    far_x, far_y = np.full(width, width + height, np.float32), np.full(height, width + height, np.float32)
    across = np.minimum(xs - left + 1 if left else far_x, left + doc.width - xs if right else far_x)
    down = np.minimum(ys - top + 1 if top else far_y, top + doc.height - ys if bottom else far_y)
    reach = np.minimum(down[:, None], across[None, :])  # <= 0 in the new area
    selected = (np.clip(1.0 - (reach - 0.5) / OUTPAINT_OVERLAP, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    return _shifted(doc, width, height, left, top, selected, f"Expand canvas to {width} x {height}", placed=True)


def crop_to_selection(doc: Document) -> CanvasChange:
    if doc.selection is None:
        raise DocumentError("Select the part to keep first; Crop keeps the selection's bounding box.")
    box = bounds(doc.selection)
    return _shifted(doc, box.w, box.h, -box.x, -box.y, doc.selection, f"Crop to {box.w} x {box.h}")


def _shifted(
    doc: Document,
    width: int,
    height: int,
    dx: int,
    dy: int,
    selection: np.ndarray | None,
    text: str,
    placed: bool = False,
) -> CanvasChange:
    """Every layer (and the selection, unless ``placed`` says it is already on the new canvas) moved by
    (dx, dy) onto a ``width`` x ``height`` canvas."""
    layers = [_moved(layer, _placed(layer.pixels, width, height, dx, dy)) for layer in doc.layers]
    mask = selection if placed else _placed_mask(selection, width, height, dx, dy)
    frame = doc.frame.shifted(dx, dy)
    return CanvasChange(text, _state(doc), (width, height, layers, doc.active_index, mask, frame))


def scale_image(doc: Document, width: int, height: int) -> CanvasChange:
    """Every layer resampled to ``width`` x ``height`` (Lanczos on premultiplied pixels, so transparent
    edges keep no halo); the selection is scaled with them."""
    check_size(width, height)
    size = (width, height)
    layers = [_moved(layer, _resampled(layer.pixels, size)) for layer in doc.layers]
    mask = doc.selection
    if mask is not None:
        mask = np.asarray(Image.fromarray(mask, "L").resize(size, Image.Resampling.LANCZOS)).copy()
    frame = doc.frame.scaled(width / doc.width, height / doc.height)
    after = (width, height, layers, doc.active_index, mask, frame)
    return CanvasChange(f"Scale image to {width} x {height}", _state(doc), after)


def _resampled(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    out = np.array(Image.fromarray(pixels, "RGBa").resize(size, Image.Resampling.LANCZOS))
    np.minimum(out[..., :3], out[..., 3:4], out=out[..., :3])  # Lanczos overshoots: colour never above alpha
    return out


# -- pixels within the canvas -------------------------------------------------------------------


def _editable(doc: Document, index: int) -> Layer:
    require_index(doc, index)
    layer = doc.layers[index]
    if layer.locked:
        raise LayerLockedError(f"Layer '{layer.name}' is locked; unlock it to change it.")
    return layer


def lifted(pixels: np.ndarray, selection: np.ndarray | None, box: Rect) -> np.ndarray:
    """What the selection takes of ``pixels`` within ``box`` (partly where partly selected; all of them
    without a selection). Premultiplied, ``pixels - lifted`` is what stays behind."""
    part = pixels[box.slices()]
    return part.copy() if selection is None else scaled_by(part, selection[box.slices()][..., None])


def moved_pixels(pixels: np.ndarray, selection: np.ndarray | None, dx: int, dy: int) -> np.ndarray:
    """``pixels`` with the selection's contents (all of them without a selection) moved by (dx, dy): what
    was selected is lifted and laid over what stays."""
    h, w = pixels.shape[:2]
    if selection is None:
        return _placed(pixels, w, h, dx, dy)
    taken = lifted(pixels, selection, Rect(0, 0, w, h))
    return laid_over(pixels - taken, _placed(taken, w, h, dx, dy))


def move_pixels(doc: Document, index: int, dx: int, dy: int) -> PixelPatches:
    """Move the active layer, or the selection's contents on it, by (dx, dy); the selection moves along."""
    layer = _editable(doc, index)
    after = moved_pixels(layer.pixels, doc.selection, dx, dy)
    return PixelPatches(f"Move '{layer.name}'", layer, [doc.rect], [layer.pixels.copy()], [after])


def moved_selection(doc: Document, dx: int, dy: int) -> np.ndarray | None:
    return _placed_mask(doc.selection, doc.width, doc.height, dx, dy)


def flip(doc: Document, index: int, horizontal: bool) -> PixelPatches:
    """Mirror the layer (or the selection's contents, within their bounding box) left-right or top-bottom."""
    layer = _editable(doc, index)
    box = doc.rect if doc.selection is None else bounds(doc.selection)
    before = layer.pixels[box.slices()].copy()
    axis = 1 if horizontal else 0
    if doc.selection is None:
        after = np.flip(before, axis=axis).copy()
    else:  # lift what is selected, mirror it and lay it over what stays
        taken = lifted(layer.pixels, doc.selection, box)
        after = laid_over(before - taken, np.flip(taken, axis=axis))
    text = f"Flip '{layer.name}' {'horizontally' if horizontal else 'vertically'}"
    return PixelPatches(text, layer, [box], [before], [after])


def fill(
    doc: Document,
    index: int,
    x: int,
    y: int,
    colour: tuple[int, int, int],
    tolerance: int = 32,
    contiguous: bool = True,
) -> PixelPatches:
    """The bucket: pixels whose colour (in the composite, as the artist sees it) is within ``tolerance`` of
    the clicked one, connected to it when ``contiguous``, filled with ``colour`` on the layer; inside
    the selection only, partly where partly selected."""
    from scipy import ndimage

    layer = _editable(doc, index)
    if not (0 <= x < doc.width and 0 <= y < doc.height):
        raise DocumentError("Click inside the canvas to fill.")
    seen = doc.composite().astype(np.int16)
    similar = np.abs(seen - seen[y, x]).max(axis=2) <= tolerance
    if contiguous:
        labels, _ = ndimage.label(similar)
        similar = labels == labels[y, x]
    cover = similar.astype(np.uint16) * 255
    if doc.selection is not None:
        cover = cover * doc.selection // 255
    box = bounds(cover.astype(np.uint8))
    if box.is_empty():
        raise DocumentError("The fill reaches no pixel inside the selection.")
    before = layer.pixels[box.slices()].copy()
    c = (cover[box.slices()].astype(np.float32) / 255.0)[..., None]
    paint = np.array([*colour, 255], np.float32)
    after = (before.astype(np.float32) * (1.0 - c) + paint * c + 0.5).astype(np.uint8)
    return PixelPatches(f"Fill on '{layer.name}'", layer, [box], [before], [after])


def selected_pixels(doc: Document, index: int) -> tuple[Rect, np.ndarray]:
    """The selection's contents on a layer (all of it without a selection), cut to their bounding box: what
    Copy puts on the clipboard and Paste puts back in place."""
    require_index(doc, index)
    box = doc.rect if doc.selection is None else bounds(doc.selection)
    return box, lifted(doc.layers[index].pixels, doc.selection, box)


def pasted_layer(doc: Document, where: Rect, pixels: np.ndarray, name: str = "Pasted") -> Layer:
    """A new layer holding ``pixels`` at ``where`` (cut at the canvas's edge)."""
    return Layer(name, _placed(pixels, doc.width, doc.height, where.x, where.y))


class PixelMove:
    """A move in progress (the move tool's drag): the selection's contents (the whole layer without one) are
    lifted once, and each ``to`` lays them at an offset over what stays, rewriting only the rectangles
    involved; ``finish`` returns the undoable command."""

    def __init__(self, doc: Document, index: int) -> None:
        self.doc = doc
        self.layer = _editable(doc, index)
        self.selection = doc.selection
        self.box = doc.rect if self.selection is None else bounds(self.selection)
        part = self.layer.pixels[self.box.slices()]
        self.lifted = lifted(self.layer.pixels, self.selection, self.box)
        self.before = part.copy()
        self.staying = part - self.lifted  # premultiplied: what stays where the lifted part was
        self.saved: dict[Rect, np.ndarray] = {}  # pixels under destinations, as they were
        self.placed = Rect(self.box.x, self.box.y, 0, 0)
        self.offset = (0, 0)

    def to(self, dx: int, dy: int) -> None:
        """Lay the lifted pixels at (dx, dy) from where they were; reports the change to the document."""
        pixels = self.layer.pixels
        old = self.placed
        for rect, saved in self.saved.items():  # what the last placement covered comes back
            pixels[rect.slices()] = saved
        pixels[self.box.slices()] = self.staying
        canvas = self.doc.rect
        dest = Rect(self.box.x + dx, self.box.y + dy, self.box.w, self.box.h).intersected(canvas)
        self.saved = {dest: pixels[dest.slices()].copy()} if not dest.is_empty() else {}
        if not dest.is_empty():
            src = self.lifted[
                dest.y - self.box.y - dy : dest.bottom - self.box.y - dy,
                dest.x - self.box.x - dx : dest.right - self.box.x - dx,
            ]
            pixels[dest.slices()] = laid_over(pixels[dest.slices()], src)
        self.placed, self.offset = dest, (dx, dy)
        self.doc.notify_dirty(self.box.united(old).united(dest), self.layer)

    def finish(self) -> tuple[PixelPatches, np.ndarray | None] | None:
        """The move as one command (None when nothing moved) and the selection moved with it."""
        if self.offset == (0, 0):
            return None
        area = self.box.united(self.placed)
        before = self.layer.pixels[area.slices()].copy()
        # What ``area`` held before the move: the original box, and what the destination covered.
        for rect, saved in self.saved.items():
            before[rect.y - area.y : rect.bottom - area.y, rect.x - area.x : rect.right - area.x] = saved
        before[self.box.y - area.y : self.box.bottom - area.y, self.box.x - area.x : self.box.right - area.x] = (
            self.before
        )
        after = self.layer.pixels[area.slices()].copy()
        patch = PixelPatches(f"Move '{self.layer.name}'", self.layer, [area], [before], [after])
        return patch, moved_selection(self.doc, *self.offset)


@dataclass(frozen=True)
class Placement:
    """Where lifted pixels go in a free transform: scaled by (sx, sy) (a negative factor flips), rotated by
    ``angle`` degrees (clockwise on screen) about the centre of their box, then moved by (dx, dy)."""

    sx: float = 1.0
    sy: float = 1.0
    angle: float = 0.0
    dx: float = 0.0
    dy: float = 0.0

    def matrix(self, box: Rect) -> np.ndarray:
        """The 3 x 3 map from document coordinates before to after."""
        cx, cy = box.x + box.w / 2, box.y + box.h / 2
        quarter = self.angle / 90
        if quarter == round(quarter):  # exact for right angles: a turn by 180 degrees moves no pixel off the grid
            cos, sin = [(1, 0), (0, 1), (-1, 0), (0, -1)][round(quarter) % 4]
        else:
            cos, sin = np.cos(np.radians(self.angle)), np.sin(np.radians(self.angle))
        to_origin = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
        scale = np.diag([self.sx, self.sy, 1.0])
        rotate = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], np.float64)
        back = np.array([[1, 0, cx + self.dx], [0, 1, cy + self.dy], [0, 0, 1]], np.float64)
        return back @ rotate @ scale @ to_origin

    def covers(self, box: Rect, canvas: Rect) -> Rect:
        """Where ``box`` lands (its bounding box, on the canvas)."""
        corners = np.array(
            [[box.x, box.y, 1], [box.right, box.y, 1], [box.x, box.bottom, 1], [box.right, box.bottom, 1]]
        )
        xs, ys, _ = self.matrix(box) @ corners.T
        return Rect.bounding(xs.min(), ys.min(), xs.max(), ys.max()).intersected(canvas)


def placed_by(
    pixels: np.ndarray, box: Rect, placement: Placement, canvas: Rect, mode: str = "RGBa"
) -> tuple[Rect, np.ndarray]:
    """``pixels`` (lying at ``box``) resampled where ``placement`` puts them: the destination rectangle and
    its pixels. Bicubic on premultiplied pixels, so transparent edges keep no halo; ``mode`` "L" for a
    mask (bilinear)."""
    dest = placement.covers(box, canvas)
    if dest.is_empty():
        return dest, np.zeros((0, 0, 4) if mode == "RGBa" else (0, 0), np.uint8)
    inverse = np.linalg.inv(placement.matrix(box))
    # Pillow maps each output pixel (relative to ``dest``) to an input position (relative to ``box``).
    shift_in = np.array([[1, 0, dest.x], [0, 1, dest.y], [0, 0, 1]], np.float64)
    shift_out = np.array([[1, 0, -box.x], [0, 1, -box.y], [0, 0, 1]], np.float64)
    a, b, c, d, e, f = (shift_out @ inverse @ shift_in)[:2].ravel()
    resample = Image.Resampling.BICUBIC if mode == "RGBa" else Image.Resampling.BILINEAR
    image = Image.fromarray(np.ascontiguousarray(pixels), mode).transform(
        (dest.w, dest.h), Image.Transform.AFFINE, (a, b, c, d, e, f), resample=resample
    )
    out = np.array(image)
    if mode == "RGBa":  # bicubic may overshoot: premultiplied colour never exceeds its alpha
        np.minimum(out[..., :3], out[..., 3:4], out=out[..., :3])
    return dest, out


def transformed_box(doc: Document, layer: Layer) -> Rect:
    """What a free transform turns about: the selection's box, or where the layer shows anything."""
    return bounds(doc.selection) if doc.selection is not None else content_bounds(layer)


def transform_pixels(doc: Document, index: int, placement: Placement) -> tuple[PixelPatches, np.ndarray | None]:
    """Scale, rotate, flip and move the selection's contents (the layer without one) as ``placement`` says,
    as one command, and the selection transformed with them."""
    layer = _editable(doc, index)
    box = transformed_box(doc, layer)
    taken = lifted(layer.pixels, doc.selection, box)
    dest, moved = placed_by(taken, box, placement, doc.rect)
    area = box.united(dest)
    before = layer.pixels[area.slices()].copy()
    after = before.copy()
    after[box.y - area.y : box.bottom - area.y, box.x - area.x : box.right - area.x] -= taken
    if not dest.is_empty():
        there = (slice(dest.y - area.y, dest.bottom - area.y), slice(dest.x - area.x, dest.right - area.x))
        after[there] = laid_over(after[there], moved)
    selection = None
    if doc.selection is not None:
        mask_dest, mask = placed_by(doc.selection[box.slices()], box, placement, doc.rect, mode="L")
        selection = np.zeros_like(doc.selection)
        if not mask_dest.is_empty():
            selection[mask_dest.slices()] = mask
    return PixelPatches(f"Transform '{layer.name}'", layer, [area], [before], [after]), selection
