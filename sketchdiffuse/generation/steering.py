"""Controls and LoRAs applied to a loaded model for one job (the requests' parts in controls.py).

ControlNet pipelines are made with ``from_pipe`` over the loaded model's own modules, so a control adds only
the ControlNet's weights. LoRAs are peft adapters inside the shared UNet and text encoder: loaded once per
file, re-weighted with ``set_adapters`` (no reload of anything), deleted when no longer asked for, which
leaves the base weights exactly as they were."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from sketchdiffuse.generation.controls import Control, Lora, Reference, lora_text_width, made_for
from sketchdiffuse.generation.errors import InvalidRequestError, ModelError
from sketchdiffuse.generation.models import LoadedModel

CONTROL_MODES = ("txt2img", "img2img", "inpaint")


def controlled_pipeline(model: LoadedModel, mode: str, nets: list[Any]) -> Any:
    """The ControlNet pipeline for ``mode`` over ``model``'s components with ``nets`` beside the UNet."""
    import diffusers
    from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

    names = {
        ("txt2img", False): "StableDiffusionControlNetPipeline",
        ("img2img", False): "StableDiffusionControlNetImg2ImgPipeline",
        ("inpaint", False): "StableDiffusionControlNetInpaintPipeline",
        ("txt2img", True): "StableDiffusionXLControlNetPipeline",
        ("img2img", True): "StableDiffusionXLControlNetImg2ImgPipeline",
        ("inpaint", True): "StableDiffusionXLControlNetInpaintPipeline",
    }
    cls = getattr(diffusers, names[(mode, model.is_sdxl)])
    controlnet = nets[0] if len(nets) == 1 else MultiControlNetModel(nets)
    pipe = cls.from_pipe(model.pipe, controlnet=controlnet, dtype=model.dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def check_controlnet(net: Any, model: LoadedModel, control: Control) -> None:
    """A ControlNet made for another Stable Diffusion version fails deep in the UNet; say so first."""
    theirs, ours = net.config.cross_attention_dim, model.pipe.unet.config.cross_attention_dim
    if theirs != ours:
        raise InvalidRequestError(
            f"The {control.kind.label} ControlNet '{Path(control.model).name}' was made for another Stable "
            f"Diffusion version than {model.family.label} (text features {theirs} wide, the model's {ours}); "
            "choose one made for the loaded model."
        )


def control_arguments(controls: tuple[Control, ...], width: int, height: int, key: str) -> dict[str, Any]:
    """The pipeline's control arguments: the images at the working size under ``key`` ("image" for
    text-to-image, "control_image" otherwise), strengths and start/end, one each or lists for several."""
    from PIL import Image

    images = [
        Image.fromarray(c.image).resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0) for c in controls
    ]

    def one_or_list(values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else values

    return {
        key: one_or_list(images),
        "controlnet_conditioning_scale": one_or_list([float(c.strength) for c in controls]),
        "control_guidance_start": one_or_list([float(c.start) for c in controls]),
        "control_guidance_end": one_or_list([float(c.end) for c in controls]),
    }


def apply_loras(model: LoadedModel, loras: tuple[Lora, ...]) -> None:
    """Make ``model`` carry exactly ``loras`` at their weights: new files loaded (after a check that they fit
    the model), weights set, the ones no longer asked for deleted."""
    pipe = model.pipe
    wanted: dict[str, float] = {}
    for lora in loras:  # the same file twice: the weights add up, as two tags in a prompt would
        wanted[lora.path] = wanted.get(lora.path, 0.0) + lora.weight
    gone = [name for path, name in model.loras.items() if path not in wanted]
    if gone:
        pipe.delete_adapters(gone)
        model.loras = {path: name for path, name in model.loras.items() if path in wanted}
    for path in wanted:
        if path not in model.loras:
            name = f"lora_{model.next_adapter}"
            model.next_adapter += 1
            _load_lora(model, path, name)
            model.loras[path] = name
    if wanted:
        pipe.set_adapters([model.loras[p] for p in wanted], [wanted[p] for p in wanted])


def _load_lora(model: LoadedModel, path: str, name: str) -> None:
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"The LoRA '{file.name}' is not there any more ({path}); add it again or remove it.")
    if file.suffix.lower() != ".safetensors":
        raise ModelError(f"'{file.name}' is not a .safetensors file; sketchdiffuse opens LoRAs only in that format.")
    width = lora_text_width(file)
    ours = int(model.pipe.unet.config.cross_attention_dim)
    if width is not None and width != ours:
        raise InvalidRequestError(
            f"The LoRA '{file.stem}' was made for {made_for(width)}; the loaded model is {model.family.label}. "
            "Choose a LoRA made for it, or load a model it was made for."
        )
    try:
        model.pipe.load_lora_weights(str(file), adapter_name=name)
    except Exception as exc:  # peft and diffusers raise many kinds for keys and shapes that do not fit
        with contextlib.suppress(Exception):  # nothing may have been loaded under that name
            model.pipe.delete_adapters([name])  # a half-loaded adapter must not stay in the model
        raise ModelError(f"The LoRA '{file.stem}' could not be loaded ({type(exc).__name__}: {exc}).") from exc


def ip_adapter_location(source: str) -> tuple[str, str, str]:
    """(folder or Hub id, subfolder, file name) of an IP-Adapter: a local .safetensors file (its image encoder
    in an ``image_encoder`` folder beside it, as in the h94/IP-Adapter layout), or HUB_ID:SUBFOLDER/FILE."""
    path = Path(source).expanduser()
    if path.is_file():
        return str(path.parent), "", path.name
    repo, colon, inner = source.partition(":")
    if colon and "/" in repo and inner.endswith(".safetensors") and not path.exists():
        subfolder, _, name = inner.rpartition("/")
        return repo, subfolder, name
    raise ModelError(
        f"The IP-Adapter '{source}' is not there: choose its .safetensors file (with the image_encoder folder "
        "beside it) or name it as HUB_ID:SUBFOLDER/FILE.safetensors, e.g. h94/IP-Adapter:models/ip-adapter_sd15.safetensors."
    )


def apply_references(model: LoadedModel, source: str | None, references: tuple[Reference, ...]) -> None:
    """Make ``model`` carry the IP-Adapter once per reference (each its own weight), or none: loaded with
    diffusers' load_ip_adapter, unloaded (the attention processors restored) when no reference is left.
    Pipelines made from the model before are dropped so the next ones get the image encoder."""
    wanted = (source, len(references)) if references and source else None
    if model.ip_adapter != wanted:
        if model.ip_adapter is not None:
            model.pipe.unload_ip_adapter()
            model.ip_adapter = None
            model.forget_derived_pipelines()  # they hold the image encoder, also when loading the next one fails
        if wanted is not None:
            folder, subfolder, name = ip_adapter_location(str(source))
            count = len(references)
            try:
                model.pipe.load_ip_adapter([folder] * count, [subfolder] * count, [name] * count)
            except Exception as exc:  # a missing image encoder, a download, keys of another model
                with contextlib.suppress(Exception):
                    model.pipe.unload_ip_adapter()
                raise ModelError(
                    f"The IP-Adapter '{name}' could not be loaded ({type(exc).__name__}: {exc}). It needs its "
                    "image_encoder folder beside it and must be made for the loaded model's version."
                ) from exc
            model.ip_adapter = wanted
        model.forget_derived_pipelines()
    if references:
        model.pipe.set_ip_adapter_scale(
            [style_scale(model, r.weight) if r.style_only else r.weight for r in references]
        )


def style_scale(model: LoadedModel, weight: float) -> dict[str, Any]:
    """Per-layer scales that keep a reference's style and leave its subject (InstantStyle): only the second
    attention of the first up block that has attentions reads the reference (SDXL: up block 0, SD 1.x: 1)."""
    for i, block in enumerate(model.pipe.unet.up_blocks):
        attentions = getattr(block, "attentions", None)
        if attentions:
            layers = [0.0] * len(attentions)
            layers[min(1, len(layers) - 1)] = weight
            return {"up": {f"block_{i}": layers}}
    raise InvalidRequestError("This model's UNet has no attention to take a style from; untick Style only.")


def reference_arguments(references: tuple[Reference, ...]) -> dict[str, Any]:
    """The pipeline's argument: one picture per loaded adapter."""
    from PIL import Image

    return {"ip_adapter_image": [Image.fromarray(r.image) for r in references]} if references else {}
