"""Model families and the defaults that come with them (artists should not need to know them)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, replace
from pathlib import Path

from sketchdiffuse.generation.errors import CorruptWeightsError, NotAStableDiffusionModelError

SD_PIPELINES = {"StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline"}
SDXL_PIPELINES = {"StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline"}


@dataclass(frozen=True)
class Family:
    kind: str  # "sd" or "sdxl"
    label: str  # "SD 1.x", "SD 2.x", "SDXL", ...
    native_size: int  # the longer side the model was trained at
    prediction: str = "epsilon"
    distilled: str = ""  # "", "turbo", "lcm", "lightning"
    default_steps: int = 20
    default_guidance: float = 7.0
    default_scheduler: str = "DPM++ 2M Karras"
    config: str = ""  # shipped config folder for single files


def _distillation(name: str, scheduler_class: str = "") -> str:
    lowered = name.lower()
    if "lcm" in lowered or scheduler_class == "LCMScheduler":
        return "lcm"
    if "turbo" in lowered:
        return "turbo"
    if "lightning" in lowered or "hyper" in lowered:
        return "lightning"
    return ""


def with_distillation(family: Family, distilled: str) -> Family:
    """Few-step models need few steps and little or no guidance."""
    if distilled == "turbo":
        native = 512 if family.kind == "sdxl" else family.native_size  # SDXL-Turbo was distilled at 512 px
        return replace(
            family,
            distilled="turbo",
            native_size=native,
            default_steps=2,
            default_guidance=0.0,
            default_scheduler="Euler a",
        )
    if distilled == "lcm":
        return replace(family, distilled="lcm", default_steps=4, default_guidance=1.0, default_scheduler="LCM")
    if distilled == "lightning":
        return replace(family, distilled="lightning", default_steps=4, default_guidance=0.0, default_scheduler="Euler")
    return family


def family_from_name(name: str) -> Family:
    """A best guess from the name alone, for a model not downloaded yet (e.g. 'stabilityai/sd-turbo')."""
    lowered = name.lower()
    base = Family("sdxl", "SDXL", 1024) if "xl" in lowered else Family("sd", "SD", 512)
    return with_distillation(base, _distillation(name))


def family_of_folder(folder: Path, name: str) -> Family:
    """Read the family from a diffusers folder's configuration files."""
    index_path = folder / "model_index.json"
    if not index_path.is_file():
        raise NotAStableDiffusionModelError(
            f"'{name}' has no model_index.json, so it is not a diffusers model folder. "
            "Choose the folder that contains model_index.json, or a single .safetensors file."
        )
    try:
        index = json.loads(index_path.read_text())
        unet = json.loads((folder / "unet" / "config.json").read_text())
        scheduler = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
        vae = json.loads((folder / "vae" / "config.json").read_text())
    except FileNotFoundError as exc:
        raise NotAStableDiffusionModelError(
            f"'{name}' is incomplete: {Path(exc.filename).parent.name}/{Path(exc.filename).name} is missing. "
            "It may still be copying or downloading."
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptWeightsError(f"A configuration file of '{name}' is damaged ({exc}).") from exc
    cls = index.get("_class_name", "")
    if cls not in SD_PIPELINES | SDXL_PIPELINES:
        raise NotAStableDiffusionModelError(
            f"'{name}' is a {cls or 'unknown'} model; sketchdiffuse works with Stable Diffusion 1.x, 2.x and SDXL."
        )
    scale = 2 ** (len(vae.get("block_out_channels", [0, 0, 0, 0])) - 1)
    native = int(unet.get("sample_size", 64)) * scale
    prediction = scheduler.get("prediction_type", "epsilon")
    if cls in SDXL_PIPELINES:
        base = Family("sdxl", "SDXL", native, prediction, config="sdxl")
    elif unet.get("cross_attention_dim") == 1024:
        base = Family(
            "sd", "SD 2.x", native, prediction, config="sd2-768-v" if prediction == "v_prediction" else "sd2-512"
        )
    else:
        base = Family("sd", "SD 1.x", native, prediction, config="sd1")
    return with_distillation(base, _distillation(name, scheduler.get("_class_name", "")))


def safetensors_header(path: Path) -> dict[str, dict]:
    """The tensor table of a .safetensors file, read without loading any weights."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(8)
            if len(raw) != 8:
                raise ValueError("file too short")
            (length,) = struct.unpack("<Q", raw)
            if length > 100 * 1024 * 1024 or length > path.stat().st_size:
                raise ValueError("header length out of range")
            header = json.loads(handle.read(length))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CorruptWeightsError(
            f"'{path.name}' is not a valid .safetensors file ({exc}); it may be damaged or only partly downloaded."
        ) from exc
    header.pop("__metadata__", None)
    return header


def family_of_checkpoint(path: Path) -> Family:
    """Tell a single-file checkpoint's family from its tensor names and shapes."""
    header = safetensors_header(path)
    if not any(k.startswith("model.diffusion_model.") for k in header):
        raise NotAStableDiffusionModelError(
            f"'{path.name}' holds no Stable Diffusion UNet; it may be a LoRA, an embedding or a VAE, "
            "which are not full models."
        )
    name = path.stem
    if any(k.startswith("conditioner.embedders.1.") for k in header):
        return with_distillation(Family("sdxl", "SDXL", 1024, config="sdxl"), _distillation(name))
    context_keys = [k for k in header if k.startswith("model.diffusion_model.") and k.endswith("attn2.to_k.weight")]
    if not context_keys:
        raise NotAStableDiffusionModelError(f"'{path.name}' is not a Stable Diffusion 1.x, 2.x or SDXL checkpoint.")
    if header[context_keys[0]]["shape"][-1] == 1024:
        # SD 2.x weights do not say whether they predict v at 768 or noise at 512; names usually do.
        lowered = name.lower()
        if any(hint in lowered for hint in ("base", "512", "turbo")):
            base = Family("sd", "SD 2.x", 512, config="sd2-512")
        else:
            base = Family("sd", "SD 2.x", 768, "v_prediction", config="sd2-768-v")
        return with_distillation(base, _distillation(name))
    return with_distillation(Family("sd", "SD 1.x", 512, config="sd1"), _distillation(name))
