"""Full-size tensor tables of the single files artists download, written as sparse .safetensors files:
the header carries every real name, shape and dtype; the data is holes, except the few tensors a
detector reads, which get values.

The names come from the real architectures (diffusers models built on the meta device from the
shipped configs) put into the original layout by tests/gen/ldm.py, and the OpenCLIP layout that
diffusers' ``convert_open_clip_checkpoint`` reads. ``tests/gen/test_model_zoo.py`` checks every
table against diffusers' own reader (``infer_diffusers_model_type``, ``convert_ldm_unet_checkpoint``),
so a table that is wrong fails there, not silently.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import torch

from sketchdiffuse.resources import resource
from tests.gen.ldm import clip_to_ldm, unet_to_ldm, vae_to_ldm

Table = dict[str, tuple[str, tuple[int, ...]]]  # name -> (safetensors dtype, shape)
SIZES = {"F16": 2, "BF16": 2, "F32": 4}


def _meta_state(kind: str, config_folder: str) -> tuple[dict[str, torch.Tensor], dict]:
    from diffusers import AutoencoderKL, UNet2DConditionModel

    cls = UNet2DConditionModel if kind == "unet" else AutoencoderKL
    config = cls.load_config(resource("model_configs", config_folder, kind))
    with torch.device("meta"):
        model = cls.from_config(config)
    return model.state_dict(), config


def unet_table(config_folder: str, in_channels: int = 4) -> Table:
    state, config = _meta_state("unet", config_folder)
    # The SDXL conditioning MLP is "label_emb.0" in the original layout.
    renamed = {
        k.replace("add_embedding.linear_1", "label_emb.0.0").replace("add_embedding.linear_2", "label_emb.0.2"): v
        for k, v in state.items()
    }
    out = {}
    for key, value in _unet_keys(renamed, config).items():
        shape = tuple(value.shape)
        if key.endswith("input_blocks.0.0.weight"):
            shape = (shape[0], in_channels, *shape[2:])
        out[key] = ("F16", shape)
    return out


def _unet_keys(state: dict[str, torch.Tensor], config: dict) -> dict[str, torch.Tensor]:
    label = {k: v for k, v in state.items() if k.startswith("label_emb.")}
    rest = {k: v for k, v in state.items() if not k.startswith("label_emb.")}
    out = unet_to_ldm(rest, config)
    out.update({"model.diffusion_model." + k: v for k, v in label.items()})
    return out


def vae_table() -> Table:
    state, config = _meta_state("vae", "sd1")
    return {k: ("F16", tuple(v.shape)) for k, v in vae_to_ldm(state, config).items()}


def clip_l_table(prefix: str = "cond_stage_model.transformer.") -> Table:
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig.from_pretrained(resource("model_configs", "sd1", "text_encoder"))
    with torch.device("meta"):
        state = CLIPTextModel(config).state_dict()
    table = clip_to_ldm(state)
    return {k.replace("cond_stage_model.transformer.", prefix): ("F16", tuple(v.shape)) for k, v in table.items()}


def open_clip_table(prefix: str, width: int, layers: int, projection: int) -> Table:
    """OpenCLIP's text tower as SD 2.x (ViT-H) and SDXL (bigG) checkpoints store it."""
    t: Table = {
        prefix + "token_embedding.weight": ("F16", (49408, width)),
        prefix + "positional_embedding": ("F16", (77, width)),
        prefix + "ln_final.weight": ("F16", (width,)),
        prefix + "ln_final.bias": ("F16", (width,)),
        prefix + "text_projection": ("F16", (width, projection)),
        prefix + "logit_scale": ("F16", ()),
    }
    for i in range(layers):
        block = f"{prefix}transformer.resblocks.{i}."
        t |= {
            block + "ln_1.weight": ("F16", (width,)),
            block + "ln_1.bias": ("F16", (width,)),
            block + "attn.in_proj_weight": ("F16", (3 * width, width)),
            block + "attn.in_proj_bias": ("F16", (3 * width,)),
            block + "attn.out_proj.weight": ("F16", (width, width)),
            block + "attn.out_proj.bias": ("F16", (width,)),
            block + "ln_2.weight": ("F16", (width,)),
            block + "ln_2.bias": ("F16", (width,)),
            block + "mlp.c_fc.weight": ("F16", (4 * width, width)),
            block + "mlp.c_fc.bias": ("F16", (4 * width,)),
            block + "mlp.c_proj.weight": ("F16", (width, 4 * width)),
            block + "mlp.c_proj.bias": ("F16", (width,)),
        }
    return t


def ema_table(unet: Table) -> Table:
    """EMA copies as the original trainer stores them: the UNet's names without their dots."""
    t: Table = {"model_ema.decay": ("F32", ()), "model_ema.num_updates": ("F32", ())}
    for key, entry in unet.items():
        t["model_ema." + key.removeprefix("model.").replace(".", "")] = entry
    return t


def checkpoint(kind: str) -> Table:
    """The tensor table of one of the zoo's files."""
    if kind in ("sd15", "sd15-ema", "sd15-inpainting"):
        unet = unet_table("sd1", 9 if kind == "sd15-inpainting" else 4)
        table = unet | vae_table() | clip_l_table()
        return table | ema_table(unet) if kind == "sd15-ema" else table
    if kind == "sd21-768-v":
        return unet_table("sd2-768-v") | vae_table() | open_clip_table("cond_stage_model.model.", 1024, 24, 1024)
    if kind in ("sdxl-base", "sdxl-vpred"):
        table = (
            unet_table("sdxl")
            | vae_table()
            | clip_l_table("conditioner.embedders.0.transformer.")
            | open_clip_table("conditioner.embedders.1.model.", 1280, 32, 1280)
        )
        if kind == "sdxl-vpred":
            table |= {"v_pred": ("F32", ()), "ztsnr": ("F32", ())}
        return table
    if kind == "sdxl-refiner":
        return (
            unet_table("sdxl-refiner") | vae_table() | open_clip_table("conditioner.embedders.0.model.", 1280, 32, 1280)
        )
    raise KeyError(kind)


def write_sparse(
    path: Path, table: Table, metadata: dict[str, str] | None = None, values: dict[str, np.ndarray] | None = None
) -> Path:
    """A .safetensors file with ``table``'s header; tensor data are holes except ``values`` (float32 given,
    stored in the table's dtype)."""
    header: dict[str, object] = {}
    offset = 0
    for name, (dtype, shape) in table.items():
        size = int(np.prod(shape, dtype=np.int64)) * SIZES[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as handle:
        handle.write(struct.pack("<Q", len(raw)) + raw)
        handle.truncate(8 + len(raw) + offset)  # a sparse file: gigabytes that take no disk space
        for name, array in (values or {}).items():
            dtype, _ = table[name]
            start = header[name]["data_offsets"][0]  # type: ignore[index]
            handle.seek(8 + len(raw) + start)
            handle.write(np.asarray(array, dtype=np.float16 if dtype == "F16" else np.float32).tobytes())
    return path


def meta_checkpoint(table: Table) -> dict[str, torch.Tensor]:
    """The table as meta tensors, for diffusers' readers that look at names and shapes only."""
    return {name: torch.empty(shape, device="meta") for name, (_, shape) in table.items()}
