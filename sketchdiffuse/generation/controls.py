"""What steers a picture besides the prompt: ControlNet controls made from a layer, and LoRA styles.

A control is guidance, not colour: its image (white lines on black, as the ControlNet models for scribbles,
line art and edges were trained on) goes to a ``ControlNetModel`` beside the UNet, with a strength and the
part of the schedule it acts in. A LoRA is a small set of weight changes loaded into the model by peft,
with a weight (0 leaves the model as it was).
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from sketchdiffuse.generation.errors import InvalidRequestError

CONTROL_STRENGTH = (0.0, 2.0)
LORA_WEIGHT = (-2.0, 2.0)
REFERENCE_WEIGHT = (0.0, 2.0)


class ControlKind(str, Enum):
    SCRIBBLE = "scribble"  # the layer's strokes as white lines on black
    LINEART = "lineart"  # the same, for line-art models (trained on finer lines)
    CANNY = "canny"  # edges found in the layer's picture (OpenCV's Canny)

    @property
    def label(self) -> str:
        return {"scribble": "Scribble", "lineart": "Line art", "canny": "Canny edges"}[self.value]


def frozen_rgb(image: np.ndarray, what: str) -> np.ndarray:
    """``image`` checked to be RGB bytes and made read-only (copied once), so a request cannot change."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidRequestError(f"{what} must be an RGB image (H x W x 3, 8 bits).")
    if not image.flags.writeable:
        return image
    frozen = np.array(image, copy=True)
    frozen.setflags(write=False)
    return frozen


@dataclass(frozen=True)
class Control:
    """One ControlNet control: ``image`` (H x W x 3 uint8, the drawing's size) made by ``control_image``."""

    kind: ControlKind
    model: str  # a Hub id, a diffusers folder or a single .safetensors file of a ControlNetModel
    image: np.ndarray = field(compare=False, repr=False)
    strength: float = 1.0
    start: float = 0.0  # the share of the schedule before the control begins to act
    end: float = 1.0  # and after which it stops

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InvalidRequestError(f"The {self.kind.label} control has no ControlNet model; choose one.")
        if not CONTROL_STRENGTH[0] <= self.strength <= CONTROL_STRENGTH[1]:
            raise InvalidRequestError(f"A control's strength is between 0 and 2, not {self.strength}.")
        if not 0.0 <= self.start < self.end <= 1.0:
            raise InvalidRequestError(
                f"A control acts from a start to a later end between 0 and 1, not {self.start} to {self.end}."
            )
        object.__setattr__(self, "image", frozen_rgb(self.image, "A control image"))


@dataclass(frozen=True)
class Lora:
    path: str  # a .safetensors file
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not LORA_WEIGHT[0] <= self.weight <= LORA_WEIGHT[1]:
            raise InvalidRequestError(f"A LoRA's weight is between -2 and 2, not {self.weight}.")

    @property
    def name(self) -> str:
        return re.split(r"[\\/]", self.path)[-1].rsplit(".", 1)[0]


def control_image(kind: ControlKind, rgba_premultiplied: np.ndarray) -> np.ndarray:
    """The control picture of a layer (premultiplied RGBA): white lines on black.

    Scribble and line art take the layer's strokes themselves, how much a pixel is covered and how dark it
    is (a line drawn in white on a white layer would be no line); Canny finds the edges of the layer's
    picture over white."""
    alpha = rgba_premultiplied[..., 3].astype(np.float32)
    if kind is ControlKind.CANNY:
        import cv2

        from sketchdiffuse.io.pixels import flatten_on

        grey = cv2.cvtColor(np.ascontiguousarray(flatten_on(rgba_premultiplied)), cv2.COLOR_RGB2GRAY)
        edges = cv2.Canny(grey, 100, 200)
        return np.repeat(edges[..., None], 3, axis=2)
    # Premultiplied: alpha - mean(colour) is coverage times darkness, 0 where nothing or white is painted.
    colour = rgba_premultiplied[..., :3].astype(np.float32).mean(axis=2)
    ink = np.clip(alpha - colour, 0, 255)
    # A layer drawn in light colours on nothing still means lines: where the darkness is faint, the
    # coverage speaks.
    if ink.max() < 64:
        ink = alpha
    lines = (ink + 0.5).astype(np.uint8)
    return np.repeat(lines[..., None], 3, axis=2)


@dataclass(frozen=True)
class Reference:
    """A reference picture whose look steers the result through an IP-Adapter, with its weight."""

    image: np.ndarray = field(compare=False, repr=False)  # H x W x 3 uint8, any size
    weight: float = 0.6
    style_only: bool = False  # its colours and strokes, not its subject or layout (InstantStyle's layer)

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= REFERENCE_WEIGHT[1]:
            raise InvalidRequestError(f"A reference's weight is between 0 and 2, not {self.weight}.")
        object.__setattr__(self, "image", frozen_rgb(self.image, "A reference"))


LORA_TAG = re.compile(r"<lora:([^:>]+)(?::(-?[0-9.]+))?>")


def prompt_loras(prompt: str) -> tuple[str, list[tuple[str, float]]]:
    """AUTOMATIC1111's ``<lora:name:weight>`` tags taken out of a prompt: the prompt without them, and the
    names with their weights (1 when none is given)."""
    found = []
    for m in LORA_TAG.finditer(prompt):
        try:
            found.append((m.group(1).strip(), float(m.group(2)) if m.group(2) else 1.0))
        except ValueError:
            raise InvalidRequestError(
                f"The LoRA tag '{m.group(0)}' has no usable weight; write e.g. <lora:name:0.8>."
            ) from None
    cleaned = re.sub(r"\s+,", ",", re.sub(r"\s{2,}", " ", LORA_TAG.sub("", prompt))).strip(" ,")
    return cleaned, found


TEXT_WIDTHS = {768: "SD 1.x", 1024: "SD 2.x", 2048: "SDXL"}  # cross-attention width -> the family it serves


def made_for(width: int | None) -> str:
    """The family a LoRA of text-feature ``width`` (lora_text_width) was made for, in words."""
    if width is None:
        return "a model this file does not say"
    return TEXT_WIDTHS.get(width, f"a model with {width}-wide text features")


def lora_text_width(file: Path) -> int | None:
    """The width of the text features a LoRA's cross-attention keys take (768 SD 1.x, 1024 SD 2.x, 2048 SDXL),
    read from the safetensors header alone; None when the file has no such key."""
    try:
        with file.open("rb") as f:
            size = struct.unpack("<Q", f.read(8))[0]
            if size > 64 << 20:
                return None
            header = json.loads(f.read(size))
    except (OSError, ValueError, struct.error):
        return None
    for key, meta in header.items():
        low = key.lower()
        down = "lora_down" in low or "lora_a" in low or "lora.down" in low
        if "attn2" in low and "to_k" in low and down and isinstance(meta, dict) and len(meta.get("shape", [])) == 2:
            return int(meta["shape"][1])
    return None
