"""Everything that defines a picture (the request) and what came back (the result)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property

import numpy as np

from sketchdiffuse.generation.controls import Control, Lora, Reference, frozen_rgb
from sketchdiffuse.generation.digest import image_digest
from sketchdiffuse.generation.errors import InvalidRequestError
from sketchdiffuse.generation.limits import (
    AESTHETIC_SCORE,
    GUIDANCE,
    MAX_SEED,
    RANDOM_SEED,
    REFINER_SWITCH,
    STEPS,
    STRENGTH,
    WORK_SIDE,
)
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind

__all__ = [
    "MAX_SEED",
    "RANDOM_SEED",
    "Cancelled",
    "GenerationRequest",
    "GenerationResult",
    "ModelIdentity",
    "SizePolicy",
]


class SizePolicy(str, Enum):
    NATIVE = "native"  # scale so the longer side is the model's native size
    CANVAS = "canvas"  # keep the canvas size (rounded to multiples of 8)


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    model: ModelRef
    init_image: np.ndarray | None = field(default=None, compare=False, repr=False)
    negative_prompt: str = ""
    strength: float = 0.6
    steps: int = 20
    guidance_scale: float = 7.0
    seed: int = RANDOM_SEED
    scheduler: str = "Euler a"
    size_policy: SizePolicy = SizePolicy.NATIVE
    width: int | None = None  # output size when there is no drawing (defaults to the model's native size)
    height: int | None = None
    work_side: int | None = None  # at most this many pixels on the longer side (live mode's reduced size)
    tiny_autoencoder: str | None = None  # AutoencoderTiny source used instead of the full VAE (fast, rougher)
    preview_decoder: str | None = None  # AutoencoderTiny source used only to draw progress previews
    # SDXL base + refiner: the base runs the schedule up to ``refiner_switch``, the refiner the rest.
    refiner: ModelRef | None = None
    refiner_switch: float = 0.8
    aesthetic_score: float = 6.0  # the refiner's conditioning (diffusers' and A1111's defaults)
    negative_aesthetic_score: float = 2.5
    # Inpainting: which part of ``init_image`` to repaint (H x W uint8, 255 repaints, 0 keeps; the
    # pipeline takes it as white and black), and where ``init_image`` lies on the canvas (x, y, w, h),
    # so that a result is put back in the same place whenever it is applied.
    mask: np.ndarray | None = field(default=None, compare=False, repr=False)
    region: tuple[int, int, int, int] | None = None
    # The document's frame (sx, sy, tx, ty) when ``region`` was taken: the canvas may be expanded, cropped or
    # scaled before the result is applied, and the frame carries the region to the same part of the picture.
    region_frame: tuple[float, float, float, float] | None = None
    # ControlNet controls (guidance from a layer) and LoRA styles, in the order they were added (controls.py).
    controls: tuple[Control, ...] = ()
    loras: tuple[Lora, ...] = ()
    # Reference pictures and the IP-Adapter that reads them: a .safetensors file with an image_encoder folder
    # beside it, or "HUB_ID:SUBFOLDER/FILE.safetensors" (steering.ip_adapter_location).
    references: tuple[Reference, ...] = ()
    ip_adapter: str | None = None
    auxiliary_budget_mb: float = 4096.0  # memory for ControlNets kept loaded between jobs (generation/auxiliary.py)

    def __post_init__(self) -> None:
        if not STRENGTH[0] <= self.strength <= STRENGTH[1]:
            raise InvalidRequestError(f"Strength must be between 0 and 1, not {self.strength}.")
        if not STEPS[0] <= self.steps <= STEPS[1]:
            raise InvalidRequestError(f"Steps must be between {STEPS[0]} and {STEPS[1]}, not {self.steps}.")
        if not GUIDANCE[0] <= self.guidance_scale <= GUIDANCE[1]:
            raise InvalidRequestError(f"Guidance must be between 0 and {GUIDANCE[1]:g}, not {self.guidance_scale}.")
        if self.work_side is not None and not WORK_SIDE[0] <= self.work_side <= WORK_SIDE[1]:
            raise InvalidRequestError(
                f"The working size must be between {WORK_SIDE[0]} and {WORK_SIDE[1]} pixels, not {self.work_side}."
            )
        if not REFINER_SWITCH[0] <= self.refiner_switch <= REFINER_SWITCH[1]:
            raise InvalidRequestError(
                f"The refiner switch must be between {REFINER_SWITCH[0]:g} and {REFINER_SWITCH[1]:g}, "
                f"not {self.refiner_switch}."
            )
        for score in (self.aesthetic_score, self.negative_aesthetic_score):
            if not AESTHETIC_SCORE[0] <= score <= AESTHETIC_SCORE[1]:
                raise InvalidRequestError(f"An aesthetic score is between 0 and 10, not {score}.")
        if self.seed != RANDOM_SEED and not 0 <= self.seed <= MAX_SEED:
            raise InvalidRequestError(f"A seed is a whole number from 0 to {MAX_SEED}, or random.")
        on_server = self.model.kind is SourceKind.SERVER  # the server reads references with its own models
        if self.references and not on_server and not (self.ip_adapter or "").strip():
            raise InvalidRequestError(
                "Reference images steer through an IP-Adapter; choose one (a .safetensors file with its "
                "image_encoder folder beside it) in Generation settings."
            )
        if self.init_image is not None and self.init_image.flags.writeable:
            object.__setattr__(self, "init_image", frozen_rgb(self.init_image, "The drawing"))
        if self.mask is not None:
            # A request restored from a project keeps its mask and region, not its drawing.
            region = self.region
            shape = self.init_image.shape[:2] if self.init_image is not None else region and (region[3], region[2])
            if self.mask.shape != shape or self.mask.dtype != np.uint8:
                raise InvalidRequestError("An inpainting mask must be an 8-bit grey image the size of the drawing.")
            if self.mask.flags.writeable:
                mask = np.array(self.mask, copy=True)
                mask.setflags(write=False)
                object.__setattr__(self, "mask", mask)

    @cached_property
    def drawing_digest(self) -> str | None:
        """A digest of ``init_image``, computed once per request: live mode compares drawings with it
        on the window's thread and the engine's drawing cache reuses it on the worker's."""
        if self.init_image is None:
            return None
        return image_digest(np.ascontiguousarray(self.init_image))

    @cached_property
    def mask_digest(self) -> str | None:
        """A digest of ``mask``: live mode tells a changed selection from an unchanged one by it."""
        return None if self.mask is None else image_digest(np.ascontiguousarray(self.mask))

    @cached_property
    def controls_digest(self) -> tuple[str, ...]:
        """Digests of the control and reference images (they compare equal without them): a stroke on a
        control layer or another reference is a new state for live mode."""
        images = [c.image for c in self.controls] + [r.image for r in self.references]
        return tuple(image_digest(np.ascontiguousarray(image)) for image in images)

    def with_(self, **changes: object) -> GenerationRequest:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    short_hash: str
    family: str


@dataclass(frozen=True)
class GenerationResult:
    image: np.ndarray = field(repr=False)  # H x W x 3 uint8 at the canvas size
    request: GenerationRequest
    seed: int
    steps_run: int  # denoising steps actually run
    total_steps: int  # steps of the schedule they were taken from
    timings: dict[str, float]  # seconds per stage
    model: ModelIdentity
    width: int  # size the model worked at
    height: int
    warnings: tuple[str, ...] = ()
    shortcuts: tuple[str, ...] = ()  # the fast-path items this job used, e.g. "cached prompt", "tiny autoencoder"
    memory_fallbacks: tuple[str, ...] = ()  # what an out-of-memory retry turned on, e.g. "VAE tiling"
    saved_path: str | None = None  # where the worker wrote it as soon as it arrived (the results folder)
    saved_png: bytes | None = field(default=None, repr=False, compare=False)  # those bytes, reused by saves
    refiner: ModelIdentity | None = None  # the refiner that finished it, when one did
    server: str | None = None  # the ComfyUI server that made it; None: this computer


@dataclass(frozen=True)
class Cancelled:
    """A job stopped by the user; nothing was decoded."""

    request: GenerationRequest
    steps_run: int
