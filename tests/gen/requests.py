"""Requests for the tiny model, shared by the engine tests; each module names the values its assertions use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sketchdiffuse.generation import Engine, GenerationRequest, GenerationResult, ModelRef

GREY = np.full((64, 64, 3), 128, np.uint8)


def max_diff(a: np.ndarray, b: np.ndarray) -> int:
    """The largest difference of two pictures, in 1/255 steps."""
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def img2img_request(folder: Path, precision: str = "auto", **kw: object) -> GenerationRequest:
    base: dict[str, object] = {
        "prompt": "a cat",
        "model": ModelRef.parse(str(folder), precision=precision),
        "init_image": GREY,
        "strength": 0.5,
        "steps": 4,
        "guidance_scale": 7.0,
        "seed": 3,
        "scheduler": "Euler",
    }
    base.update(kw)
    return GenerationRequest(**base)  # type: ignore[arg-type]


def plain_img2img(plain: Any, result: GenerationResult) -> np.ndarray:
    """What a plain diffusers img2img pipeline makes of ``result``'s request and seed."""
    import torch
    from PIL import Image

    req = result.request
    assert req.init_image is not None
    plain.set_progress_bar_config(disable=True)
    image = plain(
        prompt=req.prompt,
        negative_prompt=req.negative_prompt,
        image=Image.fromarray(req.init_image),
        strength=req.strength,
        num_inference_steps=req.steps,
        guidance_scale=req.guidance_scale,
        generator=torch.Generator().manual_seed(result.seed),
    ).images[0]
    return np.asarray(image)


def run(engine: Engine, req: GenerationRequest, **kw: object) -> GenerationResult:
    result = engine.generate(req, **kw)  # type: ignore[arg-type]
    assert isinstance(result, GenerationResult)
    return result


def plain_euler(cls_name: str, folder: Path, **components: Any) -> Any:
    """diffusers' own pipeline ``cls_name`` from ``folder`` with the Euler sampler the engine tests use."""
    import diffusers
    from diffusers import EulerDiscreteScheduler

    plain = getattr(diffusers, cls_name).from_pretrained(
        folder, safety_checker=None, requires_safety_checker=False, **components
    )
    plain.scheduler = EulerDiscreteScheduler.from_config(plain.scheduler.config)
    plain.set_progress_bar_config(disable=True)
    return plain


def plain_picture(plain: Any, seed: int = 3, **call: Any) -> np.ndarray:
    """``plain`` called for "a cat" with 4 steps at guidance 7 from ``seed``, as the engine tests ask."""
    import torch

    image = plain(
        prompt="a cat", num_inference_steps=4, guidance_scale=7.0, generator=torch.Generator().manual_seed(seed), **call
    ).images[0]
    return np.asarray(image)
