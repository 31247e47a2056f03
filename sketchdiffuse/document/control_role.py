"""A layer's control role: guidance for the model (its lines hold the composition), not colour.

A layer with a role is shown on the canvas like any other, but it is left out of the drawing img2img
starts from; its pixels become a ControlNet's control image (generation/controls.py). Hiding the layer
switches the control off."""

from __future__ import annotations

from dataclasses import dataclass

from sketchdiffuse.document.errors import DocumentError

CONTROL_KINDS = ("scribble", "lineart", "canny")  # generation.controls.ControlKind's values


@dataclass(frozen=True)
class ControlRole:
    kind: str
    model: str  # a ControlNetModel: Hub id, diffusers folder or single .safetensors file
    strength: float = 1.0
    start: float = 0.0
    end: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in CONTROL_KINDS:
            raise DocumentError(f"A control is one of {', '.join(CONTROL_KINDS)}, not '{self.kind}'.")
        if not 0.0 <= self.strength <= 2.0 or not 0.0 <= self.start < self.end <= 1.0:
            raise DocumentError(
                f"A control's strength is 0 to 2 and it acts from a start to a later end between 0 and 1 "
                f"(not {self.strength:g}, {self.start:g} to {self.end:g})."
            )
