"""tools/train_toy_model.py keeps working: the base model and each variant for a few steps on a tiny
data set (CI never retrains; the committed weights come from the full runs)."""

from __future__ import annotations

from pathlib import Path

import torch

from tests.toy.conftest import TOY
from tests.toy.test_judge import training_module


def test_the_toy_model_trains_and_saves_both_layouts(tmp_path: Path):
    from sketchdiffuse.generation.checkpoint_family import family_of_checkpoint
    from sketchdiffuse.generation.family import family_of_folder

    out = tmp_path / "toy"
    assert training_module().main(["--quick", "--out", str(out)]) == 0
    assert family_of_folder(out, "toy").label == "SD 1.x"
    assert family_of_checkpoint(tmp_path / "toy.safetensors").label == "SD 1.x"


def test_the_inpainting_variant_is_a_nine_channel_pipeline(tmp_path: Path):
    from diffusers import StableDiffusionInpaintPipeline

    out = tmp_path / "inpaint"
    assert training_module().main(["--inpaint", "--quick", "--base", str(TOY), "--out", str(out)]) == 0
    pipe = StableDiffusionInpaintPipeline.from_pretrained(out)
    assert pipe.unet.config.in_channels == 9


def test_the_scribble_variant_is_a_controlnet_for_the_toy_model(tmp_path: Path):
    from diffusers import ControlNetModel, UNet2DConditionModel

    out = tmp_path / "scribble"
    assert training_module().main(["--scribble", "--quick", "--base", str(TOY), "--out", str(out)]) == 0
    controlnet = ControlNetModel.from_pretrained(out)
    unet = UNet2DConditionModel.from_pretrained(TOY / "unet")
    assert controlnet.config.cross_attention_dim == unet.config.cross_attention_dim
    assert controlnet.config.block_out_channels == unet.config.block_out_channels


def test_the_lora_variant_loads_into_the_toy_model(tmp_path: Path):
    from diffusers import StableDiffusionPipeline

    out = tmp_path / "lora"
    assert training_module().main(["--lora", "--quick", "--base", str(TOY), "--out", str(out)]) == 0
    pipe = StableDiffusionPipeline.from_pretrained(TOY, dtype=torch.float32)
    torch.manual_seed(0)
    latents, text = torch.randn(1, 4, 16, 16), torch.randn(1, 77, pipe.unet.config.cross_attention_dim)
    with torch.no_grad():
        before = pipe.unet(latents, 500, text).sample
        pipe.load_lora_weights(out)
        after = pipe.unet(latents, 500, text).sample
    assert pipe.get_active_adapters() and not torch.equal(before, after)  # the LoRA changes the UNet
