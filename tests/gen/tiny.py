"""Tiny Stable Diffusion pipelines built from the real diffusers / transformers classes.

They are saved in diffusers layout (and as an original-layout single file) so that the
application loads them exactly as it loads a user's model. Weights are random but seeded.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

SCHEDULER = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "steps_offset": 1,
    "timestep_spacing": "leading",
}


def byte_symbols() -> list[str]:
    """The 256 printable stand-ins for bytes that byte-level BPE vocabularies use (GPT-2 / CLIP order)."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def write_tokenizer_files(folder: Path) -> int:
    """A small byte-level BPE vocabulary in the CLIP layout; returns its size."""
    symbols = byte_symbols()
    merges = [("c", "a"), ("ca", "t</w>"), ("o", "g</w>"), ("d", "og</w>")]
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    return len(vocab)


def _tokenizer(folder: Path, pad: str = "<|endoftext|>"):
    from transformers import CLIPTokenizer

    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token=pad, model_max_length=77)


def _text_config(vocab_size: int, hidden_size: int = 32, **extra: object):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=vocab_size - 2,
        eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1,
        hidden_size=hidden_size,
        intermediate_size=37,
        layer_norm_eps=1e-05,
        num_attention_heads=4,
        num_hidden_layers=5,
        vocab_size=vocab_size,
        hidden_act="gelu",
        **extra,
    )


def _vae():
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    return AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        sample_size=64,
    )


def _unet(in_channels: int = 4, **extra: object):
    """The UNet of both tiny pipelines: block_out_channels (32, 64), one cross-attention level."""
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    return UNet2DConditionModel(
        in_channels=in_channels,
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        **extra,
    )


def _sdxl_unet(cross_attention_dim: int, time_ids: int, pooled: int = 32):
    """SDXL's text-time conditioning: ``time_ids`` x 8 time embeddings plus the pooled text."""
    return _unet(
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=time_ids * 8 + pooled,
        cross_attention_dim=cross_attention_dim,
        norm_num_groups=1,
    )


def build_tiny_sd(folder: Path, scratch: Path, in_channels: int = 4) -> Path:
    """UNet (32, 64), small VAE, 32-wide CLIP text encoder; saved with save_pretrained. ``in_channels`` 9:
    an inpainting checkpoint's UNet (latent, mask, masked picture's latent)."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
    from transformers import CLIPTextModel

    vocab_size = write_tokenizer_files(scratch / "tok")
    unet = _unet(cross_attention_dim=32, in_channels=in_channels)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(_text_config(vocab_size))
    pipe = StableDiffusionPipeline(
        vae=_vae(),
        text_encoder=text_encoder,
        tokenizer=_tokenizer(scratch / "tok"),
        unet=unet,
        scheduler=EulerDiscreteScheduler(**SCHEDULER),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_sdxl(folder: Path, scratch: Path, second_width: int = 32) -> Path:
    """SDXL-shaped: two text encoders (the second with projection), text-time conditioning.
    ``second_width``: the second encoder's width; a single-file copy needs it to differ from the
    first's, as in real SDXL (768 and 1280), since readers tell the encoders apart by width."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    vocab_size = write_tokenizer_files(scratch / "tok")
    unet = _sdxl_unet(cross_attention_dim=32 + second_width, time_ids=6, pooled=second_width)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(_text_config(vocab_size, projection_dim=32))
    torch.manual_seed(0)
    text_encoder_2 = CLIPTextModelWithProjection(
        _text_config(vocab_size, hidden_size=second_width, projection_dim=second_width)
    )
    pipe = StableDiffusionXLPipeline(
        vae=_vae(),
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=_tokenizer(scratch / "tok"),
        tokenizer_2=_tokenizer(scratch / "tok", pad="!"),
        unet=unet,
        scheduler=EulerDiscreteScheduler(**SCHEDULER),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_sdxl_refiner(folder: Path, scratch: Path) -> Path:
    """The refiner's layout: only the second (projected) text encoder, no first tokenizer, and the
    aesthetic score among the time ids (5 x 8 + 32 = 72 conditioning inputs)."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLImg2ImgPipeline
    from transformers import CLIPTextModelWithProjection

    vocab_size = write_tokenizer_files(scratch / "tok")
    unet = _sdxl_unet(cross_attention_dim=32, time_ids=5)
    torch.manual_seed(1)
    text_encoder_2 = CLIPTextModelWithProjection(_text_config(vocab_size, projection_dim=32))
    pipe = StableDiffusionXLImg2ImgPipeline(
        vae=_vae(),
        text_encoder=None,
        text_encoder_2=text_encoder_2,
        tokenizer=None,
        tokenizer_2=_tokenizer(scratch / "tok", pad="!"),
        unet=unet,
        scheduler=EulerDiscreteScheduler(**SCHEDULER),
        requires_aesthetics_score=True,
        force_zeros_for_empty_prompt=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_controlnet(pipeline: Path, folder: Path, seed: int = 1) -> Path:
    """A ControlNet made from the tiny pipeline's UNet (diffusers' from_unet), its conditioning embedding
    with one stride-2 stage for the tiny VAE's latent factor of 2, and its zero convolutions given random
    weights so that the control changes the picture (a fresh ControlNet adds exactly nothing)."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(pipeline / "unet")
    torch.manual_seed(seed)
    net = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
    with torch.no_grad():
        zeros = [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]
        for conv in zeros:
            conv.weight.normal_(0.0, 0.3)
    net.save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_lora(pipeline: Path, file: Path, seed: int = 2) -> Path:
    """A rank-4 LoRA for the tiny pipeline's UNet attention, with random (non-zero) weights, saved in diffusers'
    layout with save_lora_weights. (UNet only: loading a text-encoder LoRA goes through transformers, whose
    adapter loading wants a newer peft than the package index here offers.)"""
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = StableDiffusionPipeline.from_pretrained(pipeline)
    torch.manual_seed(seed)
    config = LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False)
    pipe.unet.add_adapter(config)
    with torch.no_grad():  # peft's non-default init is small; larger weights make the style plain to see
        for name, param in pipe.unet.named_parameters():
            if "lora_B" in name:
                param.mul_(20.0)
    StableDiffusionPipeline.save_lora_weights(
        file.parent,
        unet_lora_layers=get_peft_model_state_dict(pipe.unet),
        weight_name=file.name,
        safe_serialization=True,
    )
    return file


def build_tiny_ip_adapter(pipeline: Path, folder: Path, seed: int = 3) -> Path:
    """An IP-Adapter for the tiny pipeline in diffusers' (h94/IP-Adapter's) layout: ``ip-adapter.safetensors``
    (image_proj.* and ip_adapter.N.to_k_ip / to_v_ip for every cross-attention, N = 1, 3, 5, ...) with a tiny
    CLIPVisionModelWithProjection in ``image_encoder/`` beside it; random weights."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        projection_dim=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=32,
        patch_size=4,
    )
    CLIPVisionModelWithProjection(vision).save_pretrained(folder / "image_encoder")
    unet = UNet2DConditionModel.from_pretrained(pipeline / "unet")
    cross = int(unet.config.cross_attention_dim)
    weights = {
        "image_proj.proj.weight": torch.randn(4 * cross, 32) * 0.3,
        "image_proj.proj.bias": torch.randn(4 * cross) * 0.1,
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    key = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        attention = unet.get_submodule(name.removesuffix(".processor"))
        hidden = attention.to_k.out_features
        weights[f"ip_adapter.{key}.to_k_ip.weight"] = torch.randn(hidden, cross) * 0.3
        weights[f"ip_adapter.{key}.to_v_ip.weight"] = torch.randn(hidden, cross) * 0.3
        key += 2
    save_file(weights, str(folder / "ip-adapter.safetensors"))
    return folder / "ip-adapter.safetensors"
