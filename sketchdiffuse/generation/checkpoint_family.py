"""The family of a single-file (original layout) checkpoint, told from its tensor table and metadata
without loading any weights.

Which tensor says what, cross-checked against two independent readers of these files: diffusers'
``loaders/single_file_utils.py`` (``CHECKPOINT_KEY_NAMES``, ``infer_diffusers_model_type``) and
ComfyUI's ``comfy/supported_models.py`` (SD 2.x v-prediction statistic, SDXL ``v_pred``/``ztsnr``,
the refiner's single OpenCLIP encoder) and ``comfy/model_detection.py`` (input channels):

- SDXL base: the second text encoder ``conditioner.embedders.1.*``; the refiner has only one,
  an OpenCLIP model at ``conditioner.embedders.0.model.*``.
- Inpainting: the UNet's first convolution takes 9 channels (latent, mask, masked latent), not 4.
- SDXL v-prediction: marker keys ``v_pred`` (and ``ztsnr`` for zero terminal SNR) in the file.
- SD 2.x at 768 predicts v, at 512 noise: ``modelspec.prediction_type`` / ``modelspec.architecture``
  metadata (Stability's model spec) when the file has it, else the spread of one layer norm's bias
  (ComfyUI: population std > 0.09 means v), else the file name.
- EMA copies (``model_ema.*``) are ignored: the model's own weights are loaded, as A1111 does.
"""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sketchdiffuse.generation.errors import CorruptWeightsError, NotAStableDiffusionModelError, UnrecognisedModelError
from sketchdiffuse.generation.family import Family, distillation_of, with_distillation

UNET = "model.diffusion_model."
FIRST_CONV = UNET + "input_blocks.0.0.weight"
SDXL_SECOND_ENCODER = "conditioner.embedders.1."
REFINER_ENCODER = "conditioner.embedders.0.model."
V_STATISTIC = UNET + "output_blocks.11.1.transformer_blocks.0.norm1.bias"
V_STATISTIC_THRESHOLD = 0.09
MAX_HEADER = 100 * 1024 * 1024
DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64}


def read_header(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The tensor table of a .safetensors file and its ``__metadata__``, read without loading weights."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(8)
            if len(raw) != 8:
                raise ValueError("file too short")
            (length,) = struct.unpack("<Q", raw)
            if length > MAX_HEADER or length > path.stat().st_size:
                raise ValueError("header length out of range")
            header = json.loads(handle.read(length))
        if not isinstance(header, dict):
            raise ValueError("the header is not a table")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CorruptWeightsError(
            f"'{path.name}' is not a valid .safetensors file ({exc}); it may be damaged or only partly downloaded."
        ) from exc
    metadata = header.pop("__metadata__", None) or {}
    return header, {str(k): str(v) for k, v in metadata.items()}


def read_tensor(path: Path, header: dict[str, dict[str, Any]], name: str) -> np.ndarray | None:
    """One small tensor's values as float32 (None when absent or in a type read here does not know)."""
    entry = header.get(name)
    if entry is None:
        return None
    start, end = entry["data_offsets"]
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        handle.seek(8 + length + start)
        data = handle.read(end - start)
    if entry["dtype"] == "BF16":  # the top half of a float32
        return (np.frombuffer(data, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
    dtype = DTYPES.get(entry["dtype"])
    return None if dtype is None else np.frombuffer(data, dtype=dtype).astype(np.float32)


def _sd2_predicts_v(path: Path, header: dict[str, dict[str, Any]], metadata: dict[str, str]) -> bool:
    prediction = metadata.get("modelspec.prediction_type", "").lower()
    if prediction in ("v", "v_prediction", "epsilon"):
        return prediction != "epsilon"
    architecture = metadata.get("modelspec.architecture", "").lower()
    if architecture.startswith("stable-diffusion-v2"):
        return architecture.endswith("-v")
    values = read_tensor(path, header, V_STATISTIC)
    if values is not None and values.size:
        return float(values.std()) > V_STATISTIC_THRESHOLD
    lowered = path.stem.lower()  # a header without that tensor: the name is all that is left
    return not any(hint in lowered for hint in ("base", "512", "turbo"))


def family_of_checkpoint(path: Path) -> Family:
    """Tell a single-file checkpoint's family from its tensor names, shapes and metadata."""
    header, metadata = read_header(path)
    if not any(k.startswith(UNET) for k in header):
        raise NotAStableDiffusionModelError(
            f"'{path.name}' holds no Stable Diffusion UNet; it may be a LoRA, an embedding or a VAE, "
            "which are not full models."
        )
    first_conv = header.get(FIRST_CONV, {}).get("shape", [0, 4])
    inpaint = len(first_conv) > 1 and first_conv[1] == 9
    distilled = distillation_of(path.stem)
    if any(k.startswith(SDXL_SECOND_ENCODER) for k in header):
        v_pred = "v_pred" in header
        family = Family(
            "sdxl",
            "SDXL",
            1024,
            "v_prediction" if v_pred else "epsilon",
            config="sdxl",
            zero_snr=v_pred and "ztsnr" in header,
        )
    elif any(k.startswith(REFINER_ENCODER) for k in header):
        family = Family("sdxl", "SDXL refiner", 1024, config="sdxl-refiner", refiner=True)
    else:
        context = [k for k in header if k.startswith(UNET) and k.endswith("attn2.to_k.weight")]
        if not context:
            raise UnrecognisedModelError(
                f"'{path.name}' has a Stable Diffusion UNet of a layout sketchdiffuse does not recognise. "
                "If you know which family it is, say so in Model settings and it loads as that."
            )
        width = header[context[0]]["shape"][-1]
        if width in (1280, 2048):  # SDXL's conditioning widths, but none of its text encoders in the file
            raise UnrecognisedModelError(
                f"'{path.name}' holds an SDXL UNet alone; sketchdiffuse does not recognise a model without its "
                "text encoders. Use the full checkpoint, or say which family it is in Model settings."
            )
        if width == 1024:
            if _sd2_predicts_v(path, header, metadata):
                family = Family("sd", "SD 2.x", 768, "v_prediction", config="sd2-768-v")
            else:
                family = Family("sd", "SD 2.x", 512, config="sd2-512")
        else:
            family = Family("sd", "SD 1.x", 512, config="sd1")
    if inpaint:
        family = replace(family, label=family.label + " inpainting", inpaint=True)
    return with_distillation(family, distilled)
