"""Writes resources/model_configs/<family>/: the diffusers configuration of each model family
that single-file checkpoints are loaded into, so loading them never reaches the Hub.

The values are the published architectures (Stable Diffusion 1.x, 2.x at 512 and 768, SDXL).
Run: python tools/make_model_configs.py
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "resources" / "model_configs"

SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    # As in the models' own repositories: DDIM must neither clip its predictions nor use alpha=1 at t=0.
    "clip_sample": False,
    "set_alpha_to_one": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "use_karras_sigmas": False,
}

VAE = {
    "_class_name": "AutoencoderKL",
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 512,
    "scaling_factor": 0.18215,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}

CLIP_L = {
    "architectures": ["CLIPTextModel"],
    "attention_dropout": 0.0,
    "bos_token_id": 0,
    "dropout": 0.0,
    "eos_token_id": 2,
    "hidden_act": "quick_gelu",
    "hidden_size": 768,
    "initializer_factor": 1.0,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 77,
    "model_type": "clip_text_model",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 1,
    "projection_dim": 768,
    "vocab_size": 49408,
}

# OpenCLIP ViT-H as used by SD 2.x: the last of its 24 layers is not used.
CLIP_H = CLIP_L | {
    "hidden_act": "gelu",
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_attention_heads": 16,
    "num_hidden_layers": 23,
    "projection_dim": 512,
}

CLIP_BIGG = CLIP_L | {
    "architectures": ["CLIPTextModelWithProjection"],
    "hidden_act": "gelu",
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_attention_heads": 20,
    "num_hidden_layers": 32,
    "projection_dim": 1280,
}

UNET_COMMON = {
    "_class_name": "UNet2DConditionModel",
    "act_fn": "silu",
    "center_input_sample": False,
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
}

UNET_SD1 = UNET_COMMON | {
    "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280],
    "cross_attention_dim": 768,
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    "sample_size": 64,
    "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
}

UNET_SD2 = UNET_SD1 | {
    "attention_head_dim": [5, 10, 20, 20],
    "cross_attention_dim": 1024,
    "use_linear_projection": True,
}

UNET_SDXL = UNET_COMMON | {
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "attention_head_dim": [5, 10, 20],
    "block_out_channels": [320, 640, 1280],
    "cross_attention_dim": 2048,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "projection_class_embeddings_input_dim": 2816,
    "sample_size": 128,
    "transformer_layers_per_block": [1, 2, 10],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "use_linear_projection": True,
}

# The SDXL refiner (ComfyUI's SDXLRefiner: model_channels 384, context 1280, adm 2560, transformer
# depth 4 in the two middle levels); 2560 = 5 time ids (with the aesthetic score) x 256 + 1280.
UNET_SDXL_REFINER = UNET_COMMON | {
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "attention_head_dim": [6, 12, 24, 24],
    "block_out_channels": [384, 768, 1536, 1536],
    "cross_attention_dim": 1280,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "projection_class_embeddings_input_dim": 2560,
    "sample_size": 128,
    "transformer_layers_per_block": 4,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "use_linear_projection": True,
}

SD_INDEX = {
    "_class_name": "StableDiffusionPipeline",
    "feature_extractor": [None, None],
    "image_encoder": [None, None],
    "requires_safety_checker": False,
    "safety_checker": [None, None],
    "scheduler": ["diffusers", "EulerDiscreteScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}

SDXL_INDEX = {
    "_class_name": "StableDiffusionXLPipeline",
    "feature_extractor": [None, None],
    "force_zeros_for_empty_prompt": True,
    "image_encoder": [None, None],
    "scheduler": ["diffusers", "EulerDiscreteScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "tokenizer_2": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}

# The refiner has only the second (OpenCLIP bigG) encoder and conditions on an aesthetic score.
SDXL_REFINER_INDEX = SDXL_INDEX | {
    "_class_name": "StableDiffusionXLImg2ImgPipeline",
    "force_zeros_for_empty_prompt": False,
    "requires_aesthetics_score": True,
    "text_encoder": [None, None],
    "tokenizer": [None, None],
}

FAMILIES = {
    "sd1": (SD_INDEX, {"unet": UNET_SD1, "vae": VAE, "text_encoder": CLIP_L, "scheduler": SCHEDULER}),
    "sd2-512": (SD_INDEX, {"unet": UNET_SD2, "vae": VAE, "text_encoder": CLIP_H, "scheduler": SCHEDULER}),
    "sd2-768-v": (
        SD_INDEX,
        {
            "unet": UNET_SD2 | {"sample_size": 96, "upcast_attention": True},
            "vae": VAE | {"sample_size": 768},
            "text_encoder": CLIP_H,
            "scheduler": SCHEDULER | {"prediction_type": "v_prediction"},
        },
    ),
    "sdxl": (
        SDXL_INDEX,
        {
            "unet": UNET_SDXL,
            "vae": VAE | {"sample_size": 1024, "scaling_factor": 0.13025, "force_upcast": True},
            "text_encoder": CLIP_L,
            "text_encoder_2": CLIP_BIGG,
            "scheduler": SCHEDULER,
        },
    ),
    "sdxl-refiner": (
        SDXL_REFINER_INDEX,
        {
            "unet": UNET_SDXL_REFINER,
            "vae": VAE | {"sample_size": 1024, "scaling_factor": 0.13025, "force_upcast": True},
            "text_encoder_2": CLIP_BIGG,
            "scheduler": SCHEDULER,
        },
    ),
}


def main() -> None:
    for family, (index, parts) in FAMILIES.items():
        root = OUT / family
        root.mkdir(parents=True, exist_ok=True)
        (root / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")
        for name, config in parts.items():
            (root / name).mkdir(exist_ok=True)
            filename = "scheduler_config.json" if name == "scheduler" else "config.json"
            (root / name / filename).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    print(f"wrote {', '.join(FAMILIES)} under {OUT}")


if __name__ == "__main__":
    main()
