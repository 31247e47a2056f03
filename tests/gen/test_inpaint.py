"""Inpainting in the engine: equal to plain diffusers' inpainting pipeline, for an ordinary checkpoint
(4-channel UNet, the kept region blended back at each step) and an inpainting one (9 channels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from sketchdiffuse.generation import Engine
from sketchdiffuse.generation.errors import InvalidRequestError
from tests.gen.requests import img2img_request, max_diff, run

DRAWING = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
MASK = np.zeros((64, 64), np.uint8)
MASK[16:48, 20:52] = 255


def plain_inpaint(folder: Path, mask: np.ndarray, strength: float) -> np.ndarray:
    from diffusers import EulerDiscreteScheduler, StableDiffusionInpaintPipeline

    plain = StableDiffusionInpaintPipeline.from_pretrained(folder, safety_checker=None, requires_safety_checker=False)
    plain.scheduler = EulerDiscreteScheduler.from_config(plain.scheduler.config)
    plain.set_progress_bar_config(disable=True)
    image = plain(
        prompt="a cat",
        negative_prompt="a dog",
        image=Image.fromarray(DRAWING),
        mask_image=Image.fromarray(mask, "L"),
        strength=strength,
        num_inference_steps=4,
        guidance_scale=7.0,
        height=64,
        width=64,
        generator=torch.Generator().manual_seed(7),
    ).images[0]
    return np.asarray(image)


@pytest.fixture(scope="module")
def engines() -> dict[str, Engine]:
    """One engine per checkpoint, so each loads once for the module."""
    return {}


@pytest.mark.parametrize("strength", [1.0, 0.75])
@pytest.mark.parametrize("checkpoint", ["tiny_sd", "tiny_sd_inpaint"])
def test_inpainting_equals_plain_diffusers(
    checkpoint: str, strength: float, request: pytest.FixtureRequest, engines: dict[str, Engine]
):
    folder = request.getfixturevalue(checkpoint)
    engine = engines.setdefault(checkpoint, Engine())
    req = img2img_request(
        folder,
        precision="fp32",
        negative_prompt="a dog",
        init_image=DRAWING,
        mask=MASK,
        strength=strength,
        seed=7,
    )
    result = run(engine, req)
    assert engine.model is not None and engine.model.inpainting_unet == (checkpoint == "tiny_sd_inpaint")
    assert max_diff(result.image, plain_inpaint(folder, MASK, strength)) <= 1
    assert result.steps_run == (4 if strength == 1.0 else 3)


def test_an_inpainting_checkpoint_without_a_mask_repaints_everything(engine: Engine, tiny_sd_inpaint: Path):
    result = run(engine, img2img_request(tiny_sd_inpaint, precision="fp32", init_image=DRAWING, strength=1.0, seed=7))
    full = np.full((64, 64), 255, np.uint8)
    expected = run(
        engine, img2img_request(tiny_sd_inpaint, precision="fp32", init_image=DRAWING, mask=full, strength=1.0, seed=7)
    )
    assert np.array_equal(result.image, expected.image)


def test_a_mask_of_another_size_is_refused(tiny_sd: Path):
    with pytest.raises(InvalidRequestError, match="mask"):
        img2img_request(tiny_sd, init_image=DRAWING, mask=np.zeros((32, 64), np.uint8))
