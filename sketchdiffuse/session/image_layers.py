"""Layers made from images: a dropped or pasted image scaled to fit and centred, a generated result."""

from __future__ import annotations

import numpy as np
from PIL import Image

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.frame import Frame
from sketchdiffuse.document.layer import Layer, blank_pixels
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.generation.request import GenerationResult
from sketchdiffuse.io.images import ImportedImage
from sketchdiffuse.io.pixels import premultiply, unpremultiply
from sketchdiffuse.session.region import region_layer


def fitted_layer(doc: Document, image: ImportedImage | np.ndarray, name: str) -> Layer:
    """A canvas-size layer with the image scaled down to fit inside the canvas (never up), centred."""
    pixels = image.pixels if isinstance(image, ImportedImage) else image
    h, w = pixels.shape[:2]
    scale = min(1.0, doc.width / w, doc.height / h)
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        # Resample straight colour: resampling premultiplied data in Pillow would darken edges twice.
        straight = Image.fromarray(unpremultiply(pixels), "RGBA").resize(size, Image.Resampling.LANCZOS)
        pixels = premultiply(np.asarray(straight))
        h, w = pixels.shape[:2]
    canvas = blank_pixels(doc.width, doc.height)
    x, y = (doc.width - w) // 2, (doc.height - h) // 2
    canvas[y : y + h, x : x + w] = pixels
    return Layer(name=name, pixels=canvas)


def result_layer(doc: Document, result: GenerationResult, name: str) -> Layer:
    """A layer from a generated picture: one made in a selection goes back to its place with the selection
    as its alpha (region.py); any other is an opaque layer, resized to the canvas if that changed size."""
    rgb, request = result.image, result.request
    if request.region is not None and request.mask is not None:
        # The canvas may have been expanded, cropped or scaled since: the frames carry the area along.
        made_in = Frame(*request.region_frame) if request.region_frame is not None else Frame()
        area = made_in.carried(Rect(*request.region), doc.frame)
        mask = request.mask
        if (area.w, area.h) != (mask.shape[1], mask.shape[0]):
            mask = np.asarray(Image.fromarray(mask, "L").resize((area.w, area.h), Image.Resampling.LANCZOS))
        return region_layer(doc.width, doc.height, rgb, area, mask, name)
    h, w = rgb.shape[:2]
    if (w, h) != (doc.width, doc.height):
        rgb = np.asarray(Image.fromarray(rgb).resize((doc.width, doc.height), Image.Resampling.LANCZOS))
    alpha = np.full((doc.height, doc.width, 1), 255, np.uint8)
    return Layer(name=name, pixels=np.concatenate([rgb, alpha], axis=2))


def apply_result(doc: Document, result: GenerationResult) -> cmd.StackChange:
    """The command that applies ``result`` as a new layer: above the active layer, or, for one made in a
    selection, above the topmost colour layer: it was made from all of them, so a layer above the active one
    (a multiply layer, say) would otherwise apply twice inside the selection; control layers stay above."""
    name = layer_name_for(result)
    top = None
    if result.request.region is not None:
        colour = [i for i, layer in enumerate(doc.layers) if layer.control is None]
        top = colour[-1] + 1 if colour else len(doc.layers)
    return cmd.add_layer(doc, result_layer(doc, result, name), index=top, text=f"Apply '{name}'")


def layer_name_for(result: GenerationResult) -> str:
    """A layer made from a result is named from its prompt and seed."""
    words = " ".join(result.request.prompt.split()[:6]) or "Generated"
    return f"{words} ({result.seed})"
