"""The SDXL refiner on the tiny real pipelines: its repository layout (tokenizer and first encoder null),
its single file (one OpenCLIP encoder), refining a drawing alone, and a clear message for what it cannot do."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from sketchdiffuse.generation import Engine, ModelRef
from sketchdiffuse.generation.checkpoint_family import family_of_checkpoint
from sketchdiffuse.generation.errors import InvalidRequestError, NotAStableDiffusionModelError
from sketchdiffuse.generation.family import family_of_folder
from sketchdiffuse.generation.models import load_model
from tests.gen.ldm import clip_to_ldm, open_clip_to_ldm, unet_to_ldm, vae_to_ldm
from tests.gen.requests import img2img_request, max_diff, plain_img2img, run

SKETCH = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
request = partial(img2img_request, precision="fp32", init_image=SKETCH, seed=77, strength=0.5, guidance_scale=5.0)


def sdxl_single_file(folder: Path, target: Path, refiner: bool) -> Path:
    """A tiny SDXL pipeline in the original layout: UNet with label_emb, VAE, and the text encoders where
    SDXL files keep them (base: CLIP-L at embedders.0, OpenCLIP at embedders.1; refiner: OpenCLIP at 0)."""
    state: dict[str, torch.Tensor] = {}
    config = json.loads((folder / "unet" / "config.json").read_text())
    unet = load_file(folder / "unet" / "diffusion_pytorch_model.safetensors")
    label = {k: v for k, v in unet.items() if k.startswith("add_embedding.")}
    state |= unet_to_ldm({k: v for k, v in unet.items() if k not in label}, config)
    for key, value in label.items():
        new = key.replace("add_embedding.linear_1", "label_emb.0.0").replace("add_embedding.linear_2", "label_emb.0.2")
        state["model.diffusion_model." + new] = value
    vae_config = json.loads((folder / "vae" / "config.json").read_text())
    state |= vae_to_ldm(load_file(folder / "vae" / "diffusion_pytorch_model.safetensors"), vae_config)
    text = load_file(folder / "text_encoder_2" / "model.safetensors")
    state |= open_clip_to_ldm(text, f"conditioner.embedders.{0 if refiner else 1}.model.")
    if not refiner:
        clip = clip_to_ldm(load_file(folder / "text_encoder" / "model.safetensors"))
        state |= {k.replace("cond_stage_model.", "conditioner.embedders.0."): v for k, v in clip.items()}
    save_file({k: v.contiguous() for k, v in state.items()}, target)
    return target


def test_a_refiner_folder_is_recognised_and_refines_a_drawing_as_diffusers_does(tiny_refiner: Path):
    from diffusers import StableDiffusionXLImg2ImgPipeline

    family = family_of_folder(tiny_refiner, "tiny-refiner")
    assert (family.label, family.refiner, family.kind) == ("SDXL refiner", True, "sdxl")
    engine = Engine()
    result = run(engine, request(tiny_refiner))
    plain = StableDiffusionXLImg2ImgPipeline.from_pretrained(tiny_refiner)
    assert plain.tokenizer is None and plain.config.requires_aesthetics_score
    assert max_diff(result.image, plain_img2img(plain, result)) <= 1
    assert result.model.family == "SDXL refiner"


def test_the_refiner_alone_cannot_start_a_picture_and_says_so(tiny_refiner: Path):
    with pytest.raises(InvalidRequestError, match=r"SDXL refiner.*cannot start one from nothing.*refiner in"):
        Engine().generate(request(tiny_refiner, strength=1.0))


def test_a_single_file_refiner_loads_with_its_one_encoder_and_matches_the_folder(tiny_refiner: Path, tmp_path: Path):
    path = sdxl_single_file(tiny_refiner, tmp_path / "sd_xl_refiner_tiny.safetensors", refiner=True)
    family = family_of_checkpoint(path)
    assert (family.label, family.refiner, family.config) == ("SDXL refiner", True, "sdxl-refiner")
    ref = replace(ModelRef.parse(str(path), precision="fp32"), config_dir=str(tiny_refiner))
    model = load_model(ref)
    assert model.pipe.tokenizer is None and model.pipe.text_encoder is None
    assert model.pipe.tokenizer_2 is not None and model.pipe.config.requires_aesthetics_score
    engine = Engine()
    from_file = run(engine, request(tiny_refiner).with_(model=ref))
    from_folder = run(Engine(), request(tiny_refiner))
    assert max_diff(from_file.image, from_folder.image) <= 1


def test_an_inpainting_file_is_named_not_loaded_into_the_wrong_pipeline(tiny_sd: Path, tmp_path: Path):
    from tests.gen.test_models import single_file_from

    path = single_file_from(tiny_sd, tmp_path / "tiny-inpainting.safetensors")
    state = load_file(path)
    first = state["model.diffusion_model.input_blocks.0.0.weight"]
    state["model.diffusion_model.input_blocks.0.0.weight"] = torch.cat([first, first, first[:, :1]], dim=1)
    save_file(state, path)
    with pytest.raises(NotAStableDiffusionModelError, match=r"inpainting model \(SD 1.x inpainting\)"):
        load_model(replace(ModelRef.parse(str(path)), config_dir=str(tiny_sd)))


def test_a_v_prediction_sdxl_file_samples_as_it_was_trained(tiny_sdxl: Path, tmp_path: Path):
    """The v_pred and ztsnr marker keys turn the shipped epsilon config into v-prediction with zero
    terminal SNR (rescaled betas, trailing spacing)."""
    from sketchdiffuse.generation.models import file_schedule

    path = tmp_path / "vpred.safetensors"
    save_file(
        {
            "model.diffusion_model.input_blocks.0.0.weight": torch.zeros(8, 4, 3, 3),
            "conditioner.embedders.1.model.ln_final.weight": torch.zeros(8),
            "v_pred": torch.zeros(()),
            "ztsnr": torch.zeros(()),
        },
        path,
    )
    family = family_of_checkpoint(path)
    changes = file_schedule(family)
    assert changes == {
        "prediction_type": "v_prediction",
        "rescale_betas_zero_snr": True,
        "timestep_spacing": "trailing",
    }
    from diffusers import EulerDiscreteScheduler

    scheduler = EulerDiscreteScheduler.from_config(
        json.loads((tiny_sdxl / "scheduler" / "scheduler_config.json").read_text()) | changes
    )
    scheduler.set_timesteps(4)
    assert scheduler.config.prediction_type == "v_prediction"
    assert float(scheduler.alphas_cumprod[-1]) < 1e-6  # zero terminal SNR
    assert int(scheduler.timesteps[0]) == 999


def _plain_base_and_refiner(tiny_sdxl: Path, tiny_refiner: Path, seed: int, drawing: np.ndarray | None) -> np.ndarray:
    """diffusers' own base + refiner calls with one generator. Text-to-image: the base stops at 0.8 and
    the refiner finishes from there. img2img: the base makes its picture, the refiner runs a short
    pass (strength 0.2) over its latents."""
    from diffusers import StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline
    from PIL import Image

    common = {"prompt": "a cat", "negative_prompt": "a dog", "num_inference_steps": 10, "guidance_scale": 5.0}
    generator = torch.Generator().manual_seed(seed)
    refiner = StableDiffusionXLImg2ImgPipeline.from_pretrained(tiny_refiner)
    if drawing is None:
        base = StableDiffusionXLPipeline.from_pretrained(tiny_sdxl)
        latents = base(**common, height=64, width=64, denoising_end=0.8, output_type="latent", generator=generator)
        image = refiner(**common, image=latents.images, denoising_start=0.8, generator=generator).images[0]
        return np.asarray(image)
    base = StableDiffusionXLImg2ImgPipeline.from_pretrained(tiny_sdxl)
    latents = base(**common, image=Image.fromarray(drawing), strength=0.6, output_type="latent", generator=generator)
    image = refiner(**common, image=latents.images, strength=0.2, generator=generator).images[0]
    return np.asarray(image)


@pytest.mark.parametrize("strength", [1.0, 0.6])
def test_base_plus_refiner_equals_diffusers_recipe(tiny_sdxl: Path, tiny_refiner: Path, strength: float):
    from sketchdiffuse.generation.metadata import parameters_text

    refiner_ref = ModelRef.parse(str(tiny_refiner), precision="fp32")
    req = request(tiny_sdxl, steps=10, strength=strength, negative_prompt="a dog", refiner=refiner_ref)
    if strength == 1.0:
        req = req.with_(init_image=None)
    engine = Engine()
    progress: list[tuple[int, int]] = []
    result = run(engine, req, on_progress=lambda p: progress.append((p.step, p.total)))
    expected = _plain_base_and_refiner(tiny_sdxl, tiny_refiner, 77, None if strength == 1.0 else SKETCH)
    assert max_diff(result.image, expected) <= 1
    assert engine.refiner is not None and engine.refiner.family.refiner
    # Both stages count in one progress bar that ends exactly at its total.
    assert progress[-1][0] == progress[-1][1] == result.steps_run
    assert result.refiner is not None and result.refiner.name == "tiny-refiner"
    text = parameters_text(result)
    assert f"Refiner: tiny-refiner [{result.refiner.short_hash}], Refiner switch at: 0.8" in text
    without = run(engine, req.with_(refiner=None))
    assert max_diff(without.image, result.image) > 0  # the refiner changed the picture


def test_a_refiner_needs_an_sdxl_base(tiny_sd: Path, tiny_sdxl: Path, tiny_refiner: Path):
    refiner_ref = ModelRef.parse(str(tiny_refiner), precision="fp32")
    sd = run(Engine(), request(tiny_sd, refiner=refiner_ref))  # a refiner left set in the settings
    assert sd.refiner is None and any("finishes SDXL pictures" in w and "SD 1.x" in w for w in sd.warnings)
    with pytest.raises(InvalidRequestError, match=r"'tiny-sd' is SD 1.x, not an SDXL refiner"):
        Engine().generate(request(tiny_sdxl, refiner=ModelRef.parse(str(tiny_sd), precision="fp32")))
    low = run(Engine(), request(tiny_sdxl, strength=0.15, steps=10, refiner=refiner_ref))
    assert low.refiner is not None and low.steps_run == 1 + 2  # img2img: a short refiner pass whatever the strength


def test_the_refiner_survives_the_project_history(tiny_sdxl: Path, tiny_refiner: Path):
    from sketchdiffuse.generation.history_store import StoredEntry, decode_history, encode_history

    refiner_ref = ModelRef.parse(str(tiny_refiner), precision="fp32")
    result = run(Engine(), request(tiny_sdxl, steps=10, refiner=refiner_ref, refiner_switch=0.7))
    entries, _, warnings = decode_history(encode_history([StoredEntry(result, False, 0.0)]))
    back = entries[0].result
    assert not warnings and back.request.refiner == refiner_ref and back.request.refiner_switch == 0.7
    assert back.refiner == result.refiner


def test_the_refiner_uses_the_bases_copy_of_identical_parts(tiny_sdxl: Path, tiny_refiner: Path):
    """The tiny refiner's VAE is the tiny base's (same weights), its text encoder is not: one VAE in
    memory, two encoders, and the pictures are those diffusers makes with separate copies."""
    engine = Engine()
    refiner_ref = ModelRef.parse(str(tiny_refiner), precision="fp32")
    req = request(tiny_sdxl, steps=10, strength=1.0, init_image=None, negative_prompt="a dog", refiner=refiner_ref)
    result = run(engine, req)
    assert engine.model is not None and engine.refiner is not None
    assert engine.refiner.pipe.vae is engine.model.pipe.vae
    assert engine.refiner.pipe.text_encoder_2 is not engine.model.pipe.text_encoder_2
    assert max_diff(result.image, _plain_base_and_refiner(tiny_sdxl, tiny_refiner, 77, None)) <= 1


def test_a_single_file_sdxl_base_loads_and_matches_the_folder(tmp_path: Path):
    from tests.gen.tiny import build_tiny_sdxl

    tiny_sdxl = build_tiny_sdxl(tmp_path / "tiny-sdxl-48", tmp_path / "scratch", second_width=48)
    path = sdxl_single_file(tiny_sdxl, tmp_path / "tiny-sdxl.safetensors", refiner=False)
    family = family_of_checkpoint(path)
    assert (family.label, family.config, family.refiner) == ("SDXL", "sdxl", False)
    ref = replace(ModelRef.parse(str(path), precision="fp32"), config_dir=str(tiny_sdxl))
    for strength in (0.6, 1.0):
        from_file = run(Engine(), request(tiny_sdxl, strength=strength).with_(model=ref))
        from_folder = run(Engine(), request(tiny_sdxl, strength=strength))
        assert max_diff(from_file.image, from_folder.image) <= 1
