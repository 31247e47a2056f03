"""The AUTOMATIC1111-style ``parameters`` text for a result, so other tools read our PNGs."""

from __future__ import annotations

from pathlib import Path

from sketchdiffuse.generation.identity import file_hash
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
    for i, c in enumerate(r.controls):  # as the ControlNet extension writes them
        settings[f"ControlNet {i}"] = (
            f"Module: {c.kind.value}, Model: {Path(c.model).name}, Weight: {c.strength:g}, "
            f"Guidance Start: {c.start:g}, Guidance End: {c.end:g}"
        )
    if r.references and r.ip_adapter:
        settings["IP Adapter"] = f"{Path(r.ip_adapter).name}, weights " + " ".join(
            f"{x.weight:g}" for x in r.references
        )
    if r.loras:
        settings["Lora hashes"] = ", ".join(f"{lora.name}: {_lora_hash(lora.path)}" for lora in r.loras)
    if result.server:
        settings["Server"] = result.server
    settings["Version"] = "sketchdiffuse"
    # AUTOMATIC1111 keeps LoRAs as tags in the prompt; a reader that knows them applies them again.
    tags = "".join(f" <lora:{lora.name}:{lora.weight:g}>" for lora in r.loras)
    return format_parameters(r.prompt + tags, r.negative_prompt, settings)


def _lora_hash(path: str) -> str:
    try:
        return file_hash(Path(path))
    except OSError:  # moved since: the name alone still says which
        return "unknown"


def png_text(result: GenerationResult) -> dict[str, str]:
    return {PARAMETERS_KEY: parameters_text(result)}
