"""The AUTOMATIC1111-style ``parameters`` text for a result, so other tools read our PNGs."""

from __future__ import annotations

from sketchdiffuse.generation.request import GenerationResult
from sketchdiffuse.io.png_meta import PARAMETERS_KEY, format_parameters


def parameters_text(result: GenerationResult) -> str:
    r = result.request
    h, w = result.image.shape[:2]
    settings: dict[str, object] = {
        "Steps": r.steps,
        "Sampler": r.scheduler,
        "CFG scale": f"{r.guidance_scale:g}",
        "Seed": result.seed,
        "Size": f"{w}x{h}",
        "Model hash": result.model.short_hash,
        "Model": result.model.name,
    }
    if r.init_image is not None and r.strength < 1.0:
        settings["Denoising strength"] = f"{r.strength:g}"
    if result.refiner is not None:  # as AUTOMATIC1111 writes them
        settings["Refiner"] = f"{result.refiner.name} [{result.refiner.short_hash}]"
        settings["Refiner switch at"] = f"{r.refiner_switch:g}"
    settings["Version"] = "sketchdiffuse"
    return format_parameters(r.prompt, r.negative_prompt, settings)


def png_text(result: GenerationResult) -> dict[str, str]:
    return {PARAMETERS_KEY: parameters_text(result)}
