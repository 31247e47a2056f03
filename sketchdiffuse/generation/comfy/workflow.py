"""A ComfyUI workflow (API format: node id -> class_type and inputs) made from a GenerationRequest with core
nodes only, so any ComfyUI server runs it without custom nodes beyond its own SaveImageWebsocket.

Text-to-image starts from EmptyLatentImage; img2img encodes the uploaded drawing with VAEEncode and samples
(KSamplerAdvanced) the last steps x strength steps of the schedule, as the local engine does; a masked
request keeps the unmasked latents with SetLatentNoiseMask (an inpainting checkpoint, which wants the mask in
its input, gets InpaintModelConditioning instead); LoRAs are a
chain of LoraLoader nodes; controls are ControlNetLoader + ControlNetApplyAdvanced per control; reference
pictures are CLIPVisionEncode + StyleModelApply (a T2I style adapter: ComfyUI's own nodes have no
IP-Adapter), their weight the style's strength. The picture comes back through SaveImageWebsocket (no file
is written on the server).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sketchdiffuse.generation.engine import plan_steps
from sketchdiffuse.generation.errors import InvalidRequestError
from sketchdiffuse.generation.request import GenerationRequest

# Our sampler names -> ComfyUI's (sampler_name, scheduler).
SAMPLERS: dict[str, tuple[str, str]] = {
    "Euler": ("euler", "normal"),
    "Euler a": ("euler_ancestral", "normal"),
    "DPM++ 2M": ("dpmpp_2m", "normal"),
    "DPM++ 2M Karras": ("dpmpp_2m", "karras"),
    "DDIM": ("ddim", "ddim_uniform"),
    "LMS": ("lms", "normal"),
    "UniPC": ("uni_pc", "normal"),
    "LCM": ("lcm", "sgm_uniform"),
}
OUTPUT_NODE = "save"  # the SaveImageWebsocket node: binary frames while it runs are the result


@dataclass
class Uploads:
    """Names the server gave the uploaded pictures (POST /upload/image)."""

    drawing: str | None = None
    mask: str | None = None  # a grey picture, white repaints
    controls: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)  # one per request.references entry


@dataclass(frozen=True)
class StyleModels:
    """The server's models that read reference pictures: a CLIP vision encoder and a T2I style adapter."""

    clip_vision: str
    style_model: str


@dataclass
class Workflow:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, node_id: str, class_type: str, **inputs: Any) -> list[Any]:
        """Add a node; returns a link to its first output, [node_id, 0]."""
        self.nodes[node_id] = {"class_type": class_type, "inputs": inputs}
        return [node_id, 0]


def sampler_for(name: str) -> tuple[str, str]:
    try:
        return SAMPLERS[name]
    except KeyError:
        raise InvalidRequestError(f"The sampler '{name}' has no ComfyUI equivalent here; choose another.") from None


def build_workflow(
    request: GenerationRequest,
    checkpoint: str,
    seed: int,
    width: int,
    height: int,
    uploads: Uploads,
    inpainting_checkpoint: bool = False,
    style: StyleModels | None = None,
) -> dict[str, dict[str, Any]]:
    """The API-format graph for ``request`` on the server's ``checkpoint``, at ``width`` x ``height`` (the
    working size, multiples of 8) with ``seed``; ``style`` reads its reference pictures."""
    sampler, scheduler = sampler_for(request.scheduler)
    w = Workflow()
    loaded = w.add("checkpoint", "CheckpointLoaderSimple", ckpt_name=checkpoint)
    model, clip, vae = loaded, ["checkpoint", 1], ["checkpoint", 2]
    for i, lora in enumerate(request.loras):
        name = lora.path  # on a server, the LoRA's name in its loras folder
        model = w.add(
            f"lora{i}", "LoraLoader", model=model, clip=clip, lora_name=name,
            strength_model=lora.weight, strength_clip=lora.weight,
        )  # fmt: skip
        clip = [f"lora{i}", 1]
    positive = w.add("positive", "CLIPTextEncode", text=request.prompt, clip=clip)
    negative = w.add("negative", "CLIPTextEncode", text=request.negative_prompt, clip=clip)
    looks = [(i, r) for i, r in enumerate(request.references) if r.weight > 0]  # weight 0: as if not there
    if looks and style is None:
        raise InvalidRequestError("Reference pictures on a server need its style models; none were given.")
    if looks and style is not None:
        vision = w.add("clip_vision", "CLIPVisionLoader", clip_name=style.clip_vision)
        adapter = w.add("style_model", "StyleModelLoader", style_model_name=style.style_model)
        for i, reference in looks:
            picture = w.add(f"reference_image{i}", "LoadImage", image=uploads.references[i])
            seen = w.add(f"reference_seen{i}", "CLIPVisionEncode", clip_vision=vision, image=picture, crop="center")
            positive = w.add(
                f"reference{i}", "StyleModelApply", conditioning=positive, style_model=adapter,
                clip_vision_output=seen, strength=reference.weight, strength_type="multiply",
            )  # fmt: skip
    for i, control in enumerate(request.controls):
        net = w.add(f"controlnet{i}", "ControlNetLoader", control_net_name=control.model)
        picture = w.add(f"control_image{i}", "LoadImage", image=uploads.controls[i])
        positive = w.add(
            f"control{i}", "ControlNetApplyAdvanced", positive=positive, negative=negative, control_net=net,
            image=picture, strength=control.strength, start_percent=control.start, end_percent=control.end,
            vae=vae,
        )  # fmt: skip
        negative = [f"control{i}", 1]
    strength = 1.0
    if uploads.drawing is None:
        latent = w.add("latent", "EmptyLatentImage", width=width, height=height, batch_size=1)
    else:
        strength = request.strength
        drawing = w.add("drawing", "LoadImage", image=uploads.drawing)
        drawing = w.add("scaled", "ImageScale", image=drawing, upscale_method="lanczos", width=width,
                        height=height, crop="disabled")  # fmt: skip
        if uploads.mask is not None:
            mask_image = w.add("mask_image", "LoadImage", image=uploads.mask)
            mask = w.add("mask", "ImageToMask", image=mask_image, channel="red")
            mask = w.add("mask_scaled", "ImageScale", image=w.add("mask_rgb", "MaskToImage", mask=mask),
                         upscale_method="bilinear", width=width, height=height, crop="disabled")  # fmt: skip
            mask = w.add("mask_final", "ImageToMask", image=mask, channel="red")
            if inpainting_checkpoint:  # the model sees the masked drawing and the mask beside the latent
                w.add("inpaint", "InpaintModelConditioning", positive=positive, negative=negative, vae=vae,
                      pixels=drawing, mask=mask, noise_mask=True)  # fmt: skip
                positive, negative, latent = ["inpaint", 0], ["inpaint", 1], ["inpaint", 2]
            else:
                encoded = w.add("encode", "VAEEncode", pixels=drawing, vae=vae)
                latent = w.add("masked", "SetLatentNoiseMask", samples=encoded, mask=mask)
        else:
            latent = w.add("encode", "VAEEncode", pixels=drawing, vae=vae)
    # The local engine's schedule (engine.plan_steps): ``total`` steps, the last ``run`` of them run, from the
    # noise level the strength asks. KSampler's denoise would shorten the schedule instead.
    total, run = plan_steps(request.steps, strength)
    sampled = w.add(
        "sampler", "KSamplerAdvanced", model=model, add_noise="enable", noise_seed=seed, steps=total,
        cfg=request.guidance_scale, sampler_name=sampler, scheduler=scheduler, positive=positive,
        negative=negative, latent_image=latent, start_at_step=total - run, end_at_step=total,
        return_with_leftover_noise="disable",
    )  # fmt: skip
    image = w.add("decode", "VAEDecode", samples=sampled, vae=vae)
    w.add(OUTPUT_NODE, "SaveImageWebsocket", images=image)
    return w.nodes
