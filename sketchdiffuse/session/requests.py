"""A GenerationRequest from the panel's values, the run settings and the drawing: what Generate sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np

from sketchdiffuse.document.compose import composite
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.frame import Frame
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.generation.caches import OneEntryCache
from sketchdiffuse.generation.controls import Control, ControlKind, Reference, control_image
from sketchdiffuse.generation.family import LCM_DEFAULTS
from sketchdiffuse.generation.limits import RANDOM_SEED
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
from sketchdiffuse.generation.request import GenerationRequest
from sketchdiffuse.io.pixels import flatten_on
from sketchdiffuse.session.loras import is_lcm, request_loras
from sketchdiffuse.session.references import ReferencePicture
from sketchdiffuse.session.region import region_of
from sketchdiffuse.session.servers import Server
from sketchdiffuse.session.settings import PanelValues, RunSettings

REFINE_STRENGTH = 0.3  # Refine on a history entry: enough to add detail, little enough to keep the picture


def drawing_of(composite: np.ndarray) -> np.ndarray:
    """The drawing the model starts from: the premultiplied composite flattened on white, read-only
    (the request keeps it without another copy)."""
    rgb = flatten_on(composite)
    rgb.setflags(write=False)
    return rgb


def model_ref(text: str, run: RunSettings) -> ModelRef:
    """A model as the run settings say it runs: device, precision, CPU offload, VAE tiling (the base and
    the refiner alike)."""
    return replace(
        ModelRef.parse(text, run.device, run.precision), cpu_offload=run.cpu_offload, vae_tiling=run.vae_tiling
    )


def request_model(panel: PanelValues, run: RunSettings, server: Server | None) -> ModelRef:
    """The panel's model on this computer, or the checkpoint chosen on the server pictures are made on."""
    return server.model_ref() if server is not None else model_ref(panel.model, run)


def build_request(
    panel: PanelValues,
    run: RunSettings,
    drawing: np.ndarray | None,
    seed: int | None = None,
    server: Server | None = None,
) -> GenerationRequest:
    """``seed`` None: the panel's seed when locked, otherwise a random one. ``server``: made on that ComfyUI
    server (no refiner there: the SDXL refiner setting names a local model). Raises GenerationError for
    values the request refuses, with the sentence the window shows."""
    model = request_model(panel, run, server)
    if seed is None:
        seed = panel.seed if panel.seed_locked else RANDOM_SEED
    refiner = model_ref(run.refiner, run) if run.refiner and server is None else None
    prompt, loras = request_loras(panel.prompt, panel.loras, run.lora_folder, server is not None)
    steps, guidance, scheduler = panel.steps, panel.guidance_scale, panel.scheduler
    if any(is_lcm(lora) and lora.weight != 0 for lora in loras) and scheduler != LCM_DEFAULTS[2]:
        steps, guidance, scheduler = LCM_DEFAULTS  # an LCM-LoRA brings its sampler, as an LCM model would
    return GenerationRequest(
        prompt=prompt,
        loras=loras,
        auxiliary_budget_mb=run.auxiliary_mb,
        negative_prompt=panel.negative_prompt,
        model=model,
        init_image=drawing,
        strength=panel.strength,
        steps=steps,
        guidance_scale=guidance,
        seed=seed,
        scheduler=scheduler,
        size_policy=run.size_policy,
        preview_decoder=run.tiny_autoencoder or None,  # sharper progress previews when one is set
        refiner=refiner,
        refiner_switch=run.refiner_switch,
        aesthetic_score=run.aesthetic_score,
        negative_aesthetic_score=run.negative_aesthetic_score,
    )


@lru_cache(maxsize=16)
def native_size(model: ModelRef) -> int:
    """The model's training size, read from its configuration once (live mode asks at every stroke)."""
    from sketchdiffuse.generation.family import family_from_name
    from sketchdiffuse.generation.models import detect_family

    family = detect_family(model) if model.kind is not SourceKind.SERVER else None  # with the override applied
    if family is None:  # not readable yet (a Hub model not downloaded): the name's guess, overridden too
        family = family_from_name(model.name)
        family = model.override.apply(family) if model.override is not None else family
    return family.native_size


def region_request(
    panel: PanelValues,
    run: RunSettings,
    composite: np.ndarray,
    selection: np.ndarray,
    seed: int | None = None,
    frame: Frame | None = None,
    server: Server | None = None,
) -> GenerationRequest:
    """Generate in a selection: the context area around it (region.py) with the selection as the mask;
    the request remembers where the area lies, so the result goes back there. No refiner (it would
    repaint the whole area)."""
    native = native_size(request_model(panel, run, server))
    region = region_of(composite, selection, run.inpaint_padding, native, run.size_policy, run.empty_fill)
    area = region.area
    request = build_request(panel, run, region.drawing, seed, server)
    region_frame = frame if frame is not None and frame != Frame() else None
    return replace(
        request, mask=region.mask, region=(area.x, area.y, area.w, area.h), region_frame=region_frame, refiner=None
    )


def document_request(
    panel: PanelValues,
    run: RunSettings,
    doc: Document,
    seed: int | None = None,
    references: Sequence[ReferencePicture] = (),
    server: Server | None = None,
) -> GenerationRequest:
    """What Generate sends for ``doc``: its drawing (control layers left out), or with a selection the area
    around it, steered by the visible control layers (their control images cut to the same area) and the
    project's reference pictures (through the IP-Adapter of the settings); made on ``server`` when given."""
    composite = drawing_composite(doc)
    controls = layer_controls(doc)
    looks = tuple(Reference(r.image, r.weight, r.style_only) for r in references)
    ip_adapter = (run.ip_adapter or None) if server is None else None  # a server reads them with its own models
    if doc.selection is None:
        request = build_request(panel, run, drawing_of(composite), seed, server)
        return replace(request, controls=controls, references=looks, ip_adapter=ip_adapter)
    request = region_request(panel, run, composite, doc.selection, seed, doc.frame, server)
    area = Rect(*request.region) if request.region is not None else doc.rect
    cut = tuple(replace(c, image=c.image[area.slices()]) for c in controls)
    return replace(request, controls=cut, references=looks, ip_adapter=ip_adapter)


# Live mode asks for a request at every pause in painting: with control layers the drawing is composed
# without them and their control images made, kept here while the layers' pixels stay the same.
_drawings: OneEntryCache[tuple[Any, ...], np.ndarray] = OneEntryCache()
_control_images: dict[tuple[Any, ...], np.ndarray] = {}


def drawing_composite(doc: Document) -> np.ndarray:
    """The composite img2img starts from: every layer but those with a control role (guidance, not colour)."""
    if not any(layer.control is not None for layer in doc.layers):
        return doc.composite_view()  # the cached composite: nothing to leave out
    colour = [layer for layer in doc.layers if layer.control is None]
    key = (
        id(doc),
        doc.width,
        doc.height,
        *((x.uid, doc.pixels_version(x), x.opacity, x.visible, x.blend_mode) for x in colour),
    )
    pixels = _drawings.get(key)
    if pixels is None:
        pixels = composite(colour, doc.rect)
        pixels.setflags(write=False)
        _drawings.put(key, pixels)
    return pixels


def layer_controls(doc: Document) -> tuple[Control, ...]:
    """The controls of the visible control layers, bottom first (hiding a control layer switches it off)."""
    controls = []
    for layer in doc.layers:
        role = layer.control
        if role is None or not layer.visible:
            continue
        kind = ControlKind(role.kind)
        key = (id(doc), layer.uid, doc.pixels_version(layer), layer.pixels.shape, kind)
        image = _control_images.get(key)
        if image is None:
            if len(_control_images) >= 8:
                _control_images.clear()
            image = _control_images[key] = control_image(kind, layer.pixels)
            image.setflags(write=False)  # shared by the requests made while the layer stays the same
        controls.append(Control(kind, role.model, image, role.strength, role.start, role.end))
    return tuple(controls)


def refine_request(request: GenerationRequest, image: np.ndarray, refiner: ModelRef, seed: int) -> GenerationRequest:
    """Refine a finished picture: the refiner alone, a short img2img pass over it, same prompt and seed."""
    picture = np.array(image)
    picture.setflags(write=False)
    return replace(
        request,
        model=refiner,
        init_image=picture,
        strength=REFINE_STRENGTH,
        refiner=None,
        seed=seed,
        work_side=None,
        tiny_autoencoder=None,  # a refined picture is decoded by the full VAE, even from a live result
        # The refiner is another model: the base model's LoRAs, ControlNets and IP-Adapter do not fit it, and
        # the picture it refines already shows what they steered.
        controls=(),
        loras=(),
        references=(),
        ip_adapter=None,
    )


def live_request(request: GenerationRequest, run: RunSettings) -> GenerationRequest:
    """Live mode's variant: the reduced working size and the tiny autoencoder when one is set; no refiner
    (a second model per stroke costs more than live mode can spend)."""
    return replace(
        request, work_side=run.live_side or None, tiny_autoencoder=run.tiny_autoencoder or None, refiner=None
    )
