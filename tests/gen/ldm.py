"""The inverse of diffusers' single-file key conversion, for SD 1.x-layout UNet, VAE and CLIP.

Used to write the tiny pipeline as an original-layout ("LDM") checkpoint, the format in
which most models are shared, so the single-file loader is tested on a real file.
"""

from __future__ import annotations

from typing import Any

import torch

_RESNET = [
    ("norm1", "in_layers.0"),
    ("conv1", "in_layers.2"),
    ("norm2", "out_layers.0"),
    ("conv2", "out_layers.3"),
    ("time_emb_proj", "emb_layers.1"),
    ("conv_shortcut", "skip_connection"),
]
_UNET_FIXED = {
    "time_embedding.linear_1": "time_embed.0",
    "time_embedding.linear_2": "time_embed.2",
    "conv_in": "input_blocks.0.0",
    "conv_norm_out": "out.0",
    "conv_out": "out.2",
}


def _resnet(rest: str) -> str:
    for new, old in _RESNET:
        if rest.startswith(new + "."):
            return old + rest[len(new) :]
    return rest


def unet_to_ldm(state: dict[str, torch.Tensor], config: Any) -> dict[str, torch.Tensor]:
    per = config["layers_per_block"]
    has_attn_up = ["CrossAttn" in t for t in config["up_block_types"]]
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        parts = key.split(".")
        new = None
        for prefix, old in _UNET_FIXED.items():
            if key.startswith(prefix + "."):
                new = old + key[len(prefix) :]
        if new is None and parts[0] == "down_blocks":
            b, kind, j, rest = int(parts[1]), parts[2], int(parts[3]), ".".join(parts[4:])
            if kind == "resnets":
                new = f"input_blocks.{1 + b * (per + 1) + j}.0.{_resnet(rest)}"
            elif kind == "attentions":
                new = f"input_blocks.{1 + b * (per + 1) + j}.1.{rest}"
            elif kind == "downsamplers":
                new = f"input_blocks.{(b + 1) * (per + 1)}.0.op.{'.'.join(parts[5:])}"
        elif new is None and parts[0] == "mid_block":
            kind, j, rest = parts[1], int(parts[2]), ".".join(parts[3:])
            new = f"middle_block.{2 * j}.{_resnet(rest)}" if kind == "resnets" else f"middle_block.1.{rest}"
        elif new is None and parts[0] == "up_blocks":
            b, kind, j, rest = int(parts[1]), parts[2], int(parts[3]), ".".join(parts[4:])
            if kind == "resnets":
                new = f"output_blocks.{b * (per + 1) + j}.0.{_resnet(rest)}"
            elif kind == "attentions":
                new = f"output_blocks.{b * (per + 1) + j}.1.{rest}"
            elif kind == "upsamplers":
                slot = 2 if has_attn_up[b] else 1
                new = f"output_blocks.{b * (per + 1) + per}.{slot}.{'.'.join(parts[4:])}"
        if new is None:
            raise KeyError(f"no LDM name for UNet key {key}")
        out["model.diffusion_model." + new] = value
    return out


def vae_to_ldm(state: dict[str, torch.Tensor], config: Any) -> dict[str, torch.Tensor]:
    n = len(config["block_out_channels"])
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        new = key.replace("conv_shortcut", "nin_shortcut").replace("conv_norm_out", "norm_out")
        parts = new.split(".")
        if parts[1] == "down_blocks":
            i = parts[2]
            if parts[3] == "resnets":
                new = f"{parts[0]}.down.{i}.block.{parts[4]}.{'.'.join(parts[5:])}"
            else:  # downsamplers.0.conv
                new = f"{parts[0]}.down.{i}.downsample.{'.'.join(parts[5:])}"
        elif parts[1] == "up_blocks":
            i = n - 1 - int(parts[2])
            if parts[3] == "resnets":
                new = f"{parts[0]}.up.{i}.block.{parts[4]}.{'.'.join(parts[5:])}"
            else:
                new = f"{parts[0]}.up.{i}.upsample.{'.'.join(parts[5:])}"
        elif parts[1] == "mid_block" and parts[2] == "resnets":
            new = f"{parts[0]}.mid.block_{int(parts[3]) + 1}.{'.'.join(parts[4:])}"
        elif parts[1] == "mid_block" and parts[2] == "attentions":
            rest = ".".join(parts[4:])
            for a, b in (("group_norm", "norm"), ("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "proj_out")):
                if rest.startswith(a + "."):
                    rest = b + rest[len(a) :]
            new = f"{parts[0]}.mid.attn_1.{rest}"
            if value.ndim == 2:  # linear in diffusers, 1x1 conv in the original
                value = value[:, :, None, None]
        out["first_stage_model." + new] = value
    return out


def clip_to_ldm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # Original checkpoints name CLIP weights "text_model.*"; newer transformers save them without it.
    prefix = "cond_stage_model.transformer."
    return {prefix + (k if k.startswith("text_model.") else "text_model." + k): v for k, v in state.items()}


_OPEN_CLIP_LAYER = [
    ("self_attn.out_proj.", "attn.out_proj."),
    ("layer_norm1.", "ln_1."),
    ("layer_norm2.", "ln_2."),
    ("mlp.fc1.", "mlp.c_fc."),
    ("mlp.fc2.", "mlp.c_proj."),
]


def open_clip_to_ldm(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """A CLIPTextModelWithProjection in OpenCLIP's layout (SD 2.x, SDXL's second encoder, the refiner's
    only one): q, k and v stacked into one in-projection, the projection transposed. The inverse of
    diffusers' ``convert_open_clip_checkpoint``."""
    out = {
        prefix + "token_embedding.weight": state["text_model.embeddings.token_embedding.weight"],
        prefix + "positional_embedding": state["text_model.embeddings.position_embedding.weight"],
        prefix + "ln_final.weight": state["text_model.final_layer_norm.weight"],
        prefix + "ln_final.bias": state["text_model.final_layer_norm.bias"],
        prefix + "text_projection": state["text_projection.weight"].T.contiguous(),
    }
    layers = 1 + max(int(k.split(".")[3]) for k in state if k.startswith("text_model.encoder.layers."))
    for i in range(layers):
        src, dst = f"text_model.encoder.layers.{i}.", f"{prefix}transformer.resblocks.{i}."
        for kind in ("weight", "bias"):
            out[dst + f"attn.in_proj_{kind}"] = torch.cat([state[src + f"self_attn.{p}_proj.{kind}"] for p in "qkv"])
        for key, value in state.items():
            if key.startswith(src) and ".q_proj." not in key and ".k_proj." not in key and ".v_proj." not in key:
                rest = key[len(src) :]
                for new, old in _OPEN_CLIP_LAYER:
                    rest = rest.replace(new, old)
                out[dst + rest] = value
    return out
