"""The project's reference pictures: each steers the look of the results through the IP-Adapter with its own
weight. They are kept in the project (``references/`` beside the history) and reduced on the way in: the
adapter's image encoder sees 224 px, so a photo's full size would only cost memory and save time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from sketchdiffuse.generation.controls import REFERENCE_WEIGHT
from sketchdiffuse.io.images import encode_png, open_image
from sketchdiffuse.io.pixels import flatten_on

INDEX = "references/index.json"
MAX_SIDE = 768  # pixels kept of a reference's longer side
DEFAULT_WEIGHT = 0.6


@dataclass
class ReferencePicture:
    image: np.ndarray = field(repr=False)  # H x W x 3 uint8, at most MAX_SIDE on the longer side
    weight: float = DEFAULT_WEIGHT
    style_only: bool = False  # its colours and strokes, not its subject (steering.style_scale)


def reference_from(pixels: np.ndarray, weight: float = DEFAULT_WEIGHT) -> ReferencePicture:
    """A reference from premultiplied RGBA (a layer, a decoded file) or RGB (a result): over white, reduced."""
    rgb = flatten_on(pixels) if pixels.shape[2] == 4 else np.asarray(pixels)
    h, w = rgb.shape[:2]
    if max(h, w) > MAX_SIDE:
        scale = MAX_SIDE / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))
    return ReferencePicture(np.array(rgb), min(max(weight, REFERENCE_WEIGHT[0]), REFERENCE_WEIGHT[1]))


def encode_references(references: list[ReferencePicture]) -> dict[str, bytes]:
    """Project extras: one PNG per reference and an index with their weights."""
    out: dict[str, bytes] = {}
    records = []
    for i, ref in enumerate(references):
        name = f"references/{i:03d}.png"
        out[name] = encode_png(Image.fromarray(ref.image))
        records.append({"file": name, "weight": ref.weight, "style_only": ref.style_only})
    out[INDEX] = json.dumps({"version": 1, "references": records}).encode()
    return out


def decode_references(extras: dict[str, bytes]) -> tuple[list[ReferencePicture], list[str]]:
    """The saved references; a damaged one is skipped with a warning, never fatal."""
    if INDEX not in extras:
        return [], []
    try:
        records = json.loads(extras[INDEX])["references"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return [], ["The saved reference pictures are damaged and were not loaded."]
    out, warnings = [], []
    for record in records if isinstance(records, list) else []:
        try:
            image = open_image(extras[str(record["file"])]).pixels
            ref = reference_from(image, float(record.get("weight", DEFAULT_WEIGHT)))
            ref.style_only = record.get("style_only") is True
            out.append(ref)
        except Exception:  # a missing or undecodable picture, a bad weight: that reference only
            warnings.append("A damaged reference picture was skipped.")
    return out, warnings
