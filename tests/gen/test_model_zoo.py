"""Detection of the single files artists download, on full-size tensor tables (tests/gen/zoo.py).

Each table is first checked against diffusers' own reader, so the zoo cannot drift from the real
layouts; then sketchdiffuse's detector must tell each file's family, prediction and kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.generation.checkpoint_family import V_STATISTIC, family_of_checkpoint
from sketchdiffuse.resources import resource
from tests.gen.zoo import checkpoint, meta_checkpoint, write_sparse

# diffusers' name for each zoo file (loaders/single_file_utils.infer_diffusers_model_type)
DIFFUSERS_TYPE = {
    "sd15": "v1",
    "sd15-ema": "v1",
    "sd15-inpainting": "inpainting",
    "sd21-768-v": "v2",
    "sdxl-base": "xl_base",
    "sdxl-vpred": "xl_base",
    "sdxl-refiner": "xl_refiner",
}


@pytest.mark.parametrize("kind", sorted(DIFFUSERS_TYPE))
def test_the_zoo_tables_read_as_diffusers_reads_the_real_files(kind: str):
    from diffusers import UNet2DConditionModel
    from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint, infer_diffusers_model_type

    table = checkpoint(kind)
    state = meta_checkpoint(table)
    assert infer_diffusers_model_type(state) == DIFFUSERS_TYPE[kind]
    folder = {"sd21-768-v": "sd2-768-v", "sdxl-base": "sdxl", "sdxl-vpred": "sdxl", "sdxl-refiner": "sdxl-refiner"}
    config = dict(UNet2DConditionModel.load_config(resource("model_configs", folder.get(kind, "sd1"), "unet")))
    if kind == "sd15-inpainting":
        config["in_channels"] = 9
    unet = {k: v for k, v in state.items() if k.startswith("model.diffusion_model.")}
    converted = convert_ldm_unet_checkpoint(unet, config)
    import torch

    with torch.device("meta"):
        expected = UNet2DConditionModel.from_config(config).state_dict()
    assert set(converted) == set(expected)
    assert all(tuple(converted[k].shape) == tuple(expected[k].shape) for k in expected)


def _statistic(std: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    values = rng.standard_normal(1024).astype(np.float32)
    return {V_STATISTIC: values / values.std() * std}


ZOO = [
    # file name, kind, metadata, tensor values -> label, native, prediction, config, inpaint, refiner, zero_snr
    ("v1-5-pruned.safetensors", "sd15", None, None, ("SD 1.x", 512, "epsilon", "sd1", False, False, False)),
    ("v1-5-pruned-emaonly.safetensors", "sd15-ema", None, None, ("SD 1.x", 512, "epsilon", "sd1", False, False, False)),
    (
        "sd-v1-5-inpainting.safetensors",
        "sd15-inpainting",
        None,
        None,
        ("SD 1.x inpainting", 512, "epsilon", "sd1", True, False, False),
    ),
    # SD 2.1 768-v: metadata first, whatever the name says
    (
        "my-finetune-512.safetensors",
        "sd21-768-v",
        {"modelspec.architecture": "stable-diffusion-v2-768-v", "modelspec.resolution": "768x768"},
        None,
        ("SD 2.x", 768, "v_prediction", "sd2-768-v", False, False, False),
    ),
    (
        "my-finetune.safetensors",
        "sd21-768-v",
        {"modelspec.prediction_type": "epsilon"},
        None,
        ("SD 2.x", 512, "epsilon", "sd2-512", False, False, False),
    ),
    # no metadata: the layer-norm statistic, again whatever the name says
    (
        "v2-1_512-ema.safetensors",
        "sd21-768-v",
        None,
        _statistic(0.2),
        ("SD 2.x", 768, "v_prediction", "sd2-768-v", False, False, False),
    ),
    (
        "v2-1_768-ema.safetensors",
        "sd21-768-v",
        None,
        _statistic(0.02),
        ("SD 2.x", 512, "epsilon", "sd2-512", False, False, False),
    ),
    (
        "sd_turbo.safetensors",
        "sd21-768-v",
        None,
        _statistic(0.02),
        ("SD 2.x", 512, "epsilon", "sd2-512", False, False, False),
    ),
    ("sd_xl_base_1.0.safetensors", "sdxl-base", None, None, ("SDXL", 1024, "epsilon", "sdxl", False, False, False)),
    ("noob-vpred.safetensors", "sdxl-vpred", None, None, ("SDXL", 1024, "v_prediction", "sdxl", False, False, True)),
    (
        "sd_xl_refiner_1.0.safetensors",
        "sdxl-refiner",
        None,
        None,
        ("SDXL refiner", 1024, "epsilon", "sdxl-refiner", False, True, False),
    ),
]


@pytest.mark.parametrize(("name", "kind", "metadata", "values", "expected"), ZOO, ids=[z[0] for z in ZOO])
def test_single_files_are_told_apart(tmp_path: Path, name: str, kind: str, metadata, values, expected):  # type: ignore[no-untyped-def]
    path = write_sparse(tmp_path / name, checkpoint(kind), metadata, values)
    assert path.stat().st_size > 1_000_000_000  # full size on paper ...
    assert path.stat().st_blocks * 512 < 50_000_000  # ... holes on disk
    family = family_of_checkpoint(path)
    got = (
        family.label,
        family.native_size,
        family.prediction,
        family.config,
        family.inpaint,
        family.refiner,
        family.zero_snr,
    )
    assert got == expected
    if name == "sd_turbo.safetensors":
        assert family.distilled == "turbo" and family.default_steps == 2


def test_the_shipped_refiner_config_is_the_published_architecture():
    """ComfyUI's SDXLRefiner: model_channels 384, context_dim 1280, adm_in_channels 2560, transformer depth 4
    in the two middle levels; every zoo key of the refiner is a parameter of the config's UNet."""
    import torch
    from diffusers import UNet2DConditionModel

    config = UNet2DConditionModel.load_config(resource("model_configs", "sdxl-refiner", "unet"))
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(config)
    assert unet.conv_in.out_channels == 384
    assert unet.add_embedding.linear_1.in_features == 2560
    attn = unet.down_blocks[1].attentions[0]
    assert len(attn.transformer_blocks) == 4 and attn.transformer_blocks[0].attn2.to_k.in_features == 1280
    assert not hasattr(unet.down_blocks[0], "attentions") and not hasattr(unet.down_blocks[3], "attentions")
    assert 2_000_000_000 < sum(p.numel() for p in unet.parameters()) < 2_600_000_000  # ~2.3 B


def test_an_sdxl_unet_without_its_text_encoders_is_not_taken_for_sd1(tmp_path: Path):
    from sketchdiffuse.generation.errors import UnrecognisedModelError

    unet_only = {k: v for k, v in checkpoint("sdxl-base").items() if k.startswith("model.diffusion_model.")}
    path = write_sparse(tmp_path / "sdxl-unet.safetensors", unet_only)
    with pytest.raises(UnrecognisedModelError, match="SDXL UNet alone"):
        family_of_checkpoint(path)
