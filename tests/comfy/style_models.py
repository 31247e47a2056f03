"""Random-weight models for reference pictures on the test server, written by ComfyUI's own environment
(run with the .comfy-venv python, the working directory ComfyUI's source): a T2I style adapter in the
layout ComfyUI's StyleModelLoader reads ("style_embedding" and its transformer), and a CLIP ViT-L/14 image
encoder with ComfyUI's own configuration for it. Usage: python style_models.py STYLE_FILE CLIP_VISION_FILE
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.getcwd())  # ComfyUI's source: `comfy` is importable from there

import torch
from safetensors.torch import save_file


def main() -> None:
    from comfy.t2i_adapter.adapter import StyleAdapter
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(3)
    adapter = StyleAdapter(width=1024, context_dim=768, num_head=8, n_layes=3, num_token=8)
    save_file({k: v.contiguous() for k, v in adapter.state_dict().items()}, sys.argv[1])
    with open(os.path.join("comfy", "clip_vision_config_vitl.json")) as handle:
        config = CLIPVisionConfig(**json.load(handle))
    with torch.device("meta"):  # shapes only: 300 M parameters are drawn below, not initialised twice
        encoder = CLIPVisionModelWithProjection(config)
    weights = {}
    for name, tensor in encoder.state_dict().items():
        ones = name.endswith(("layer_norm1.weight", "layer_norm2.weight", "layrnorm.weight", "post_layernorm.weight"))
        weights[name] = torch.ones(tensor.shape) if ones else torch.randn(tensor.shape) * 0.02
    save_file({k: v.half().contiguous() for k, v in weights.items()}, sys.argv[2])


if __name__ == "__main__":
    main()
