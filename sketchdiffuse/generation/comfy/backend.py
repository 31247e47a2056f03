"""A ComfyUI server as a Backend: the request's pictures uploaded, its workflow queued, progress and previews
passed on, the result returned as the local engine returns one (made at the working size, scaled back to the
drawing's size), with where it was made in its warnings. The same seed does not give the same picture as the
local engine: the samplers' noise and the models' arithmetic differ."""

from __future__ import annotations

import io
import re
import time
from dataclasses import replace

import numpy as np
from PIL import Image

from sketchdiffuse.generation.comfy.client import ComfyClient, ServerError, server_label
from sketchdiffuse.generation.comfy.workflow import StyleModels, Uploads, build_workflow
from sketchdiffuse.generation.engine import (
    CancelToken,
    PreviewCallback,
    Progress,
    ProgressCallback,
    request_sizes,
    unchanged,
)
from sketchdiffuse.generation.family import Family, family_from_name
from sketchdiffuse.generation.limits import resolve_seed
from sketchdiffuse.generation.model_lists import ModelLists
from sketchdiffuse.generation.model_ref import ModelRef
from sketchdiffuse.generation.models import LoadProgress
from sketchdiffuse.generation.request import Cancelled, GenerationRequest, GenerationResult, ModelIdentity


def _png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(out, "PNG", compress_level=1)
    return out.getvalue()


MODEL_SUFFIX = re.compile(r"\.(safetensors|ckpt|pt|pth|bin)$", re.IGNORECASE)


def _stem(name: str) -> str:
    """A file's name without folders and model extension ("detail_v1.5" keeps its dot)."""
    return MODEL_SUFFIX.sub("", re.split(r"[\\/]", name.strip())[-1]).lower()


def name_on_server(wanted: str, listed: list[str], what: str, folder: str, where: str) -> str:
    """The server's name for a LoRA or ControlNet the artist chose here (a local file, a Hub id, or the
    server's own name): the same name, else the same file name in any of its subfolders."""
    if wanted in listed:
        return wanted
    stem = _stem(wanted)
    for name in listed:
        if _stem(name) == stem:
            return name
    raise ServerError(
        f"The {what} '{_stem(wanted)}' is not on {where}; copy the file into its models/{folder} folder "
        "(or choose one it has)."
    )


def style_models(models: ModelLists, where: str) -> StyleModels:
    """The server's models for reference pictures: a T2I style adapter (not Flux's Redux) and a CLIP vision
    encoder, ViT-L preferred (the one the SD 1.x style adapter was trained with)."""
    adapters = [n for n in models.style_models if not any(w in n.lower() for w in ("redux", "flux"))]
    if not adapters or not models.clip_vision:
        raise ServerError(
            f"Reference pictures on {where} need a T2I style adapter in its models/style_models folder (such as "
            "t2iadapter_style_sd14v1) and a CLIP ViT-L image encoder in models/clip_vision; "
            f"it has {len(adapters)} and {len(models.clip_vision)}. Add them, or remove the references."
        )
    large = [n for n in models.clip_vision if re.search(r"vit[-_]?l|large|clip_l\b", n.lower())]
    return StyleModels((large or models.clip_vision)[0], adapters[0])


def _rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")).copy()


class ComfyBackend:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.client = ComfyClient(url, token)
        self.where = server_label(self.client.url)

    def unload(self) -> None:
        """Nothing is loaded here; the server keeps its models as it sees fit."""

    def available_models(self) -> ModelLists:
        return self.client.models()

    def prepare(self, ref: ModelRef, on_load: LoadProgress | None = None) -> Family:
        """The checkpoint is on the server (it loads it itself, at the first job); its family, from its name."""
        checkpoints = self.client.models().checkpoints
        if ref.source not in checkpoints:
            listed = ", ".join(checkpoints[:8]) + (", ..." if len(checkpoints) > 8 else "") or "none"
            raise ServerError(
                f"The checkpoint '{ref.source}' is not on {self.where} (it has: {listed}); put it in its "
                "models/checkpoints folder or choose one it has."
            )
        return family_from_name(ref.source)

    def _named_on_server(self, request: GenerationRequest, models: ModelLists) -> GenerationRequest:
        """LoRAs and ControlNets by the names the server lists them under."""
        loras = tuple(
            replace(lora, path=name_on_server(lora.path, models.loras, "LoRA", "loras", self.where))
            for lora in request.loras
        )
        controls = tuple(
            replace(c, model=name_on_server(c.model, models.controlnets, "ControlNet", "controlnet", self.where))
            for c in request.controls
        )
        return replace(request, loras=loras, controls=controls)

    def generate(
        self,
        request: GenerationRequest,
        on_progress: ProgressCallback | None = None,
        on_preview: PreviewCallback | None = None,
        cancel: CancelToken | None = None,
        on_load: LoadProgress | None = None,
    ) -> GenerationResult | Cancelled:
        started = time.perf_counter()
        cancel = cancel or CancelToken()
        seed = resolve_seed(request.seed)
        checkpoint = request.model.source
        family = family_from_name(checkpoint)
        init = request.init_image
        canvas_w, canvas_h, width, height = request_sizes(request, family.native_size)
        identity = ModelIdentity(checkpoint, "", "")
        if init is not None and request.strength == 0.0:
            return unchanged(request, seed, identity, started, self.client.url)
        looks = any(r.weight > 0 for r in request.references)
        if looks and family.kind == "sdxl":
            raise ServerError(
                "Reference pictures on a server work with SD 1.x checkpoints (ComfyUI's own nodes read them "
                "with a T2I style adapter, made for SD 1.x); remove them, or make this picture on this computer."
            )
        named, style = request, None
        if request.loras or request.controls or looks:  # the lists only when a name must be found
            models = self.client.models()
            named = self._named_on_server(request, models)  # the result keeps the artist's own names
            style = style_models(models, self.where) if looks else None
        uploads = Uploads()
        if init is not None and (request.strength < 1.0 or request.mask is not None):
            uploads.drawing = self.client.upload(_png(init))
        if request.mask is not None and uploads.drawing is not None:
            mask = np.repeat(request.mask[..., None], 3, axis=2)
            uploads.mask = self.client.upload(_png(mask))
        uploads.controls = [self.client.upload(_png(c.image)) for c in request.controls]
        uploads.references = [self.client.upload(_png(r.image)) if r.weight > 0 else "" for r in request.references]
        inpainting = "inpaint" in checkpoint.lower()  # wants the mask in its input: InpaintModelConditioning
        workflow = build_workflow(named, checkpoint, seed, width, height, uploads, inpainting, style)
        if cancel.cancelled:
            return Cancelled(request, 0)

        def progress(step: int, total: int) -> None:
            if on_progress is not None and total > 0:
                elapsed = time.perf_counter() - started
                on_progress(Progress(step, total, elapsed, elapsed / max(step, 1) * (total - step)))

        def preview(data: bytes) -> None:
            if on_preview is not None:
                on_preview(_rgb(data))

        outcome = self.client.run(workflow, progress, preview, lambda: cancel.cancelled)
        if outcome.image is None:
            return Cancelled(request, outcome.steps)
        image = _rgb(outcome.image)
        if image.shape[:2] != (canvas_h, canvas_w):
            image = np.asarray(Image.fromarray(image).resize((canvas_w, canvas_h), Image.Resampling.LANCZOS))
        timings = {"total": time.perf_counter() - started}
        return GenerationResult(
            image,
            request,
            seed,
            outcome.steps,
            request.steps,
            timings,
            identity,
            width,
            height,
            (f"Made on {self.where}.",),
            server=self.client.url,
        )
