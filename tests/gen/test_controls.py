"""ControlNet controls and LoRAs in the engine: equal to diffusers' own pipelines with the same tiny
components, sharing the base model's weights, and LoRAs that leave the base exactly as it was."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from sketchdiffuse.generation import Engine
from sketchdiffuse.generation.auxiliary import AuxiliaryModels, module_bytes
from sketchdiffuse.generation.controls import Control, ControlKind, Lora
from sketchdiffuse.generation.errors import InvalidRequestError, ModelError
from sketchdiffuse.generation.steering import controlled_pipeline
from tests.gen.requests import img2img_request, max_diff, plain_euler, plain_picture, run

LINES = np.zeros((64, 64, 3), np.uint8)
LINES[16:48, 16] = LINES[16:48, 47] = LINES[16, 16:48] = LINES[47, 16:48] = 255  # a square outline
DRAWING = np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def control(folder: Path, strength: float = 0.8, start: float = 0.0, end: float = 1.0) -> Control:
    return Control(ControlKind.SCRIBBLE, str(folder), LINES, strength, start, end)


@pytest.fixture(scope="module")
def control_engine() -> Engine:
    return Engine()


def plain_controlnet(pipeline: Path, nets: list[Path], cls_name: str, **call: Any) -> np.ndarray:
    from diffusers import ControlNetModel

    loaded = [ControlNetModel.from_pretrained(n) for n in nets]
    plain = plain_euler(cls_name, pipeline, controlnet=loaded[0] if len(loaded) == 1 else loaded)
    return plain_picture(plain, **call)


def test_text_to_image_with_a_control_equals_diffusers(control_engine: Engine, tiny_sd: Path, tiny_controlnet: Path):
    req = img2img_request(
        tiny_sd,
        precision="fp32",
        init_image=None,
        width=64,
        height=64,
        controls=(control(tiny_controlnet, 0.8, 0.0, 0.75),),
    )
    result = run(control_engine, req)
    expected = plain_controlnet(
        tiny_sd,
        [tiny_controlnet],
        "StableDiffusionControlNetPipeline",
        image=Image.fromarray(LINES),
        height=64,
        width=64,
        controlnet_conditioning_scale=0.8,
        control_guidance_start=0.0,
        control_guidance_end=0.75,
    )
    assert max_diff(result.image, expected) <= 1
    without = run(control_engine, replace(req, controls=()))
    assert max_diff(result.image, without.image) > 10  # the control did steer the picture


def test_img2img_with_two_controls_equals_diffusers(
    control_engine: Engine, tiny_sd: Path, tiny_controlnet: Path, tmp_path: Path
):
    from tests.gen.tiny import build_tiny_controlnet

    second = build_tiny_controlnet(tiny_sd, tmp_path / "second", seed=5)
    two = (control(tiny_controlnet, 0.8), Control(ControlKind.LINEART, str(second), 255 - LINES, 0.5, 0.2, 1.0))
    req = img2img_request(tiny_sd, precision="fp32", init_image=DRAWING, strength=0.75, controls=two)
    result = run(control_engine, req)
    expected = plain_controlnet(
        tiny_sd,
        [tiny_controlnet, second],
        "StableDiffusionControlNetImg2ImgPipeline",
        image=Image.fromarray(DRAWING),
        control_image=[Image.fromarray(LINES), Image.fromarray(255 - LINES)],
        strength=0.75,
        controlnet_conditioning_scale=[0.8, 0.5],
        control_guidance_start=[0.0, 0.2],
        control_guidance_end=[1.0, 1.0],
    )
    assert max_diff(result.image, expected) <= 1


def test_inpainting_with_a_control_equals_diffusers(control_engine: Engine, tiny_sd: Path, tiny_controlnet: Path):
    mask = np.zeros((64, 64), np.uint8)
    mask[8:56, 8:56] = 255
    req = img2img_request(
        tiny_sd, precision="fp32", init_image=DRAWING, mask=mask, strength=1.0, controls=(control(tiny_controlnet),)
    )
    result = run(control_engine, req)
    expected = plain_controlnet(
        tiny_sd,
        [tiny_controlnet],
        "StableDiffusionControlNetInpaintPipeline",
        image=Image.fromarray(DRAWING),
        mask_image=Image.fromarray(mask, "L"),
        control_image=Image.fromarray(LINES),
        strength=1.0,
        height=64,
        width=64,
        controlnet_conditioning_scale=0.8,
    )
    assert max_diff(result.image, expected) <= 1


def test_a_control_pipeline_shares_the_base_models_weights(
    control_engine: Engine, tiny_sd: Path, tiny_controlnet: Path
):
    run(control_engine, img2img_request(tiny_sd, precision="fp32"))
    model = control_engine.model
    assert model is not None
    net = control_engine._controlnet(control(tiny_controlnet), model)
    for mode in ("txt2img", "img2img", "inpaint"):
        pipe = controlled_pipeline(model, mode, [net, net])
        assert pipe.unet is model.pipe.unet and pipe.vae is model.pipe.vae
        assert pipe.text_encoder is model.pipe.text_encoder


def test_controlnets_beyond_the_budget_are_released_least_recent_first(
    tiny_sd: Path, tiny_controlnet: Path, tmp_path: Path
):
    from tests.gen.tiny import build_tiny_controlnet

    second = build_tiny_controlnet(tiny_sd, tmp_path / "second", seed=6)
    engine = Engine()
    first_run = run(engine, img2img_request(tiny_sd, precision="fp32", controls=(control(tiny_controlnet),)))
    size = engine.auxiliary.nbytes
    room_for_one = size * 1.5 / (1 << 20)  # the budget a request carries, in MB (a setting)
    result = run(
        engine,
        img2img_request(tiny_sd, precision="fp32", controls=(control(second),), auxiliary_budget_mb=room_for_one),
    )
    assert [key[1] for key in engine.auxiliary.kept()] == [str(second)]
    assert any("Released" in w and "memory budget" in w for w in result.warnings)
    assert not any("Released" in w for w in first_run.warnings)


def test_the_auxiliary_cache_keeps_what_fits_and_reuses_it():
    loads: list[str] = []

    def make(name: str) -> Any:
        loads.append(name)
        return torch.nn.Linear(64, 64)  # 16.6 kB in fp32

    released: list[str] = []
    cache = AuxiliaryModels(budget_bytes=3 * module_bytes(torch.nn.Linear(64, 64)), on_release=released.append)
    for name in ["a", "b", "a", "c", "d"]:  # one job each
        cache.begin_job()
        cache.get(("net", name), lambda n=name: make(n))
    assert loads == ["a", "b", "c", "d"]  # "a" came from the cache the second time
    assert [k[1] for k in cache.kept()] == ["a", "c", "d"] and len(released) == 1 and "b" in released[0]


def test_a_controlnet_for_another_version_is_refused_clearly(control_engine: Engine, tiny_sd: Path, tmp_path: Path):
    from diffusers import ControlNetModel

    ControlNetModel(
        block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        cross_attention_dim=64,  # the tiny model's text features are 32 wide
        conditioning_embedding_out_channels=(16, 32),
        layers_per_block=2,
    ).save_pretrained(tmp_path / "other")
    with pytest.raises(InvalidRequestError, match="another Stable Diffusion version"):
        run(control_engine, img2img_request(tiny_sd, precision="fp32", controls=(control(tmp_path / "other"),)))
    with pytest.raises(ModelError, match="not a ControlNet folder"):
        run(control_engine, img2img_request(tiny_sd, precision="fp32", controls=(control(tmp_path),)))


# -- LoRA ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lora_engine() -> Engine:
    return Engine()


def test_lora_weight_zero_equals_no_lora_and_removing_restores_the_base(
    lora_engine: Engine, tiny_sd: Path, tiny_lora: Path
):
    base_req = img2img_request(tiny_sd, precision="fp32", strength=0.9)
    base = run(lora_engine, base_req).image
    styled = run(lora_engine, replace(base_req, loras=(Lora(str(tiny_lora), 1.0),))).image
    assert max_diff(base, styled) > 10
    zero = run(lora_engine, replace(base_req, loras=(Lora(str(tiny_lora), 0.0),))).image
    assert np.array_equal(zero, base)
    again = run(lora_engine, base_req).image  # the LoRA removed
    assert np.array_equal(again, base)
    assert lora_engine.model is not None and lora_engine.model.loras == {}


def test_a_lora_equals_diffusers_own_loading_and_reweights_without_reload(
    lora_engine: Engine, tiny_sd: Path, tiny_lora: Path
):

    req = img2img_request(tiny_sd, precision="fp32", strength=0.9, loras=(Lora(str(tiny_lora), 0.7),))
    first = run(lora_engine, req)
    loaded = lora_engine.model
    result = run(lora_engine, replace(req, loras=(Lora(str(tiny_lora), 0.4),)))
    assert lora_engine.model is loaded and result.timings["load"] < 0.05  # the base model was not reloaded
    assert max_diff(first.image, result.image) > 0
    plain = plain_euler("StableDiffusionImg2ImgPipeline", tiny_sd)
    plain.load_lora_weights(str(tiny_lora), adapter_name="style")
    plain.set_adapters(["style"], [0.4])
    expected = plain_picture(plain, image=Image.fromarray(req.init_image), strength=0.9)
    assert max_diff(result.image, expected) <= 1


def test_a_lora_for_another_model_or_a_missing_file_is_refused_clearly(
    lora_engine: Engine, tiny_sd: Path, tmp_path: Path
):
    from safetensors.torch import save_file

    sdxl_like = tmp_path / "xl-style.safetensors"
    save_file(
        {"unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight": torch.zeros(4, 2048)},
        str(sdxl_like),
    )
    with pytest.raises(InvalidRequestError, match="made for SDXL"):
        run(lora_engine, img2img_request(tiny_sd, precision="fp32", loras=(Lora(str(sdxl_like)),)))
    with pytest.raises(ModelError, match="not there any more"):
        run(lora_engine, img2img_request(tiny_sd, precision="fp32", loras=(Lora(str(tmp_path / "gone.safetensors")),)))
    assert lora_engine.model is not None and lora_engine.model.loras == {}
    run(lora_engine, img2img_request(tiny_sd, precision="fp32"))  # the engine goes on working


# -- reference images (IP-Adapter) ----------------------------------------------------------------

REFERENCE = np.random.default_rng(9).integers(0, 256, (40, 56, 3), dtype=np.uint8)
SECOND = np.random.default_rng(10).integers(0, 256, (32, 32, 3), dtype=np.uint8)


def test_references_equal_diffusers_ip_adapter_and_removing_restores_the_base(
    lora_engine: Engine, tiny_sd: Path, tiny_ip_adapter: Path
):

    from sketchdiffuse.generation.controls import Reference

    base_req = img2img_request(tiny_sd, precision="fp32", strength=0.9)
    base = run(lora_engine, base_req).image
    two = (Reference(REFERENCE, 0.7), Reference(SECOND, 0.4))
    req = replace(base_req, references=two, ip_adapter=str(tiny_ip_adapter))
    result = run(lora_engine, req)
    assert max_diff(result.image, base) > 5
    plain = plain_euler("StableDiffusionImg2ImgPipeline", tiny_sd)
    folder = str(tiny_ip_adapter.parent)
    plain.load_ip_adapter([folder, folder], ["", ""], [tiny_ip_adapter.name] * 2)
    plain.set_ip_adapter_scale([0.7, 0.4])
    expected = plain_picture(
        plain,
        image=Image.fromarray(req.init_image),
        ip_adapter_image=[Image.fromarray(REFERENCE), Image.fromarray(SECOND)],
        strength=0.9,
    )
    assert max_diff(result.image, expected) <= 1
    zero = run(lora_engine, replace(req, references=(Reference(REFERENCE, 0.0), Reference(SECOND, 0.0))))
    assert np.array_equal(zero.image, base)  # weight 0: the reference adds nothing
    assert np.array_equal(run(lora_engine, base_req).image, base)  # unloaded: the base exactly
    text = run(lora_engine, replace(req, init_image=None, width=64, height=64))  # text-to-image takes them too
    assert text.image.shape == (64, 64, 3)


def test_references_without_an_adapter_or_with_a_broken_one_are_refused(
    lora_engine: Engine, tiny_sd: Path, tmp_path: Path
):
    from sketchdiffuse.generation.controls import Reference

    with pytest.raises(InvalidRequestError, match="through an IP-Adapter"):
        img2img_request(tiny_sd, references=(Reference(REFERENCE),))
    lonely = tmp_path / "ip-adapter.safetensors"
    lonely.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(ModelError, match="image_encoder folder"):
        run(
            lora_engine,
            img2img_request(tiny_sd, precision="fp32", references=(Reference(REFERENCE),), ip_adapter=str(lonely)),
        )
    with pytest.raises(ModelError, match="is not there"):
        run(
            lora_engine,
            img2img_request(
                tiny_sd, precision="fp32", references=(Reference(REFERENCE),), ip_adapter="nowhere.safetensors"
            ),
        )
    run(lora_engine, img2img_request(tiny_sd, precision="fp32"))  # still works


def test_sdxl_text_to_image_with_a_control_equals_diffusers(tiny_sdxl: Path, tmp_path: Path):
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(tiny_sdxl / "unet")
    torch.manual_seed(4)
    net = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
    with torch.no_grad():
        for conv in [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]:
            conv.weight.normal_(0.0, 0.3)
    net.save_pretrained(tmp_path / "xl-net")
    engine = Engine()
    req = img2img_request(
        tiny_sdxl,
        precision="fp32",
        init_image=None,
        width=64,
        height=64,
        controls=(control(tmp_path / "xl-net", 0.9),),
    )
    result = run(engine, req)
    plain = plain_euler(
        "StableDiffusionXLControlNetPipeline",
        tiny_sdxl,
        controlnet=ControlNetModel.from_pretrained(tmp_path / "xl-net"),
    )
    expected = plain_picture(
        plain, image=Image.fromarray(LINES), height=64, width=64, controlnet_conditioning_scale=0.9
    )
    assert max_diff(result.image, expected) <= 1


def test_a_style_only_reference_equals_diffusers_per_layer_scales(
    lora_engine: Engine, tiny_sd: Path, tiny_ip_adapter: Path
):
    from sketchdiffuse.generation.controls import Reference

    req = img2img_request(
        tiny_sd,
        precision="fp32",
        strength=0.9,
        references=(Reference(REFERENCE, 0.8, style_only=True),),
        ip_adapter=str(tiny_ip_adapter),
    )
    result = run(lora_engine, req)
    full = run(lora_engine, replace(req, references=(Reference(REFERENCE, 0.8),)))
    assert max_diff(result.image, full.image) > 0  # fewer layers read the reference
    plain = plain_euler("StableDiffusionImg2ImgPipeline", tiny_sd)
    plain.load_ip_adapter(str(tiny_ip_adapter.parent), "", tiny_ip_adapter.name)
    plain.set_ip_adapter_scale({"up": {"block_0": [0.0, 0.8, 0.0]}})  # the tiny UNet's first up block attends
    expected = plain_picture(
        plain, image=Image.fromarray(req.init_image), ip_adapter_image=Image.fromarray(REFERENCE), strength=0.9
    )
    assert max_diff(result.image, expected) <= 1


def test_sdxl_references_equal_diffusers_ip_adapter(tiny_sdxl: Path, tmp_path: Path):
    from sketchdiffuse.generation.controls import Reference
    from tests.gen.tiny import build_tiny_ip_adapter

    adapter = build_tiny_ip_adapter(tiny_sdxl, tmp_path / "xl-ip")
    engine = Engine()
    req = img2img_request(
        tiny_sdxl, precision="fp32", strength=0.9, references=(Reference(REFERENCE, 0.7),), ip_adapter=str(adapter)
    )
    result = run(engine, req)
    plain = plain_euler("StableDiffusionXLImg2ImgPipeline", tiny_sdxl)
    plain.load_ip_adapter(str(adapter.parent), "", adapter.name)
    plain.set_ip_adapter_scale(0.7)
    expected = plain_picture(
        plain, image=Image.fromarray(req.init_image), ip_adapter_image=Image.fromarray(REFERENCE), strength=0.9
    )
    assert max_diff(result.image, expected) <= 1
    assert max_diff(result.image, run(engine, replace(req, references=(), ip_adapter=None)).image) > 0
