"""Model families and the defaults that come with them (artists should not need to know them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from sketchdiffuse.generation.errors import CorruptWeightsError, NotAStableDiffusionModelError

SD_PIPELINES = {"StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline", "StableDiffusionInpaintPipeline"}
SDXL_PIPELINES = {"StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline", "StableDiffusionXLInpaintPipeline"}


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
    inpaint: bool = False  # a 9-channel UNet: latent, mask and masked latent in
    refiner: bool = False  # an SDXL refiner: finishes an SDXL base model's pictures
    zero_snr: bool = False  # trained with zero terminal SNR (rescaled betas, sampled from the last step)


def distillation_of(name: str, scheduler_class: str = "") -> str:
    lowered = name.lower()
    if "lcm" in lowered or scheduler_class == "LCMScheduler":
        return "lcm"
    if "turbo" in lowered:
        return "turbo"
    if "lightning" in lowered or "hyper" in lowered:
        return "lightning"
    return ""


LCM_DEFAULTS = (4, 1.0, "LCM")  # steps, guidance, sampler: an LCM model's, or any model's with an LCM-LoRA


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
        steps, guidance, sampler = LCM_DEFAULTS
        return replace(
            family, distilled="lcm", default_steps=steps, default_guidance=guidance, default_scheduler=sampler
        )
    if distilled == "lightning":
        return replace(family, distilled="lightning", default_steps=4, default_guidance=0.0, default_scheduler="Euler")
    return family


def family_from_name(name: str) -> Family:
    """A best guess from the name alone, for a model not downloaded yet (e.g. 'stabilityai/sd-turbo')."""
    lowered = name.lower()
    base = Family("sdxl", "SDXL", 1024) if "xl" in lowered else Family("sd", "SD", 512)
    return with_distillation(base, distillation_of(name))


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
    if cls in SDXL_PIPELINES and (index.get("text_encoder") or [None])[0] is None:
        # The refiner's repository has only the second encoder (text_encoder and tokenizer are null).
        base = Family("sdxl", "SDXL refiner", native, prediction, config="sdxl-refiner", refiner=True)
    elif cls in SDXL_PIPELINES:
        base = Family("sdxl", "SDXL", native, prediction, config="sdxl")
    elif unet.get("cross_attention_dim") == 1024:
        base = Family(
            "sd", "SD 2.x", native, prediction, config="sd2-768-v" if prediction == "v_prediction" else "sd2-512"
        )
    else:
        base = Family("sd", "SD 1.x", native, prediction, config="sd1")
    return with_distillation(base, distillation_of(name, scheduler.get("_class_name", "")))
