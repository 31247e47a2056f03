"""A ComfyUI server as a Backend: the request's pictures uploaded, its workflow queued, progress and previews
passed on, the result returned as the local engine returns one (made at the working size, scaled back to the
drawing's size), with where it was made in its warnings. The same seed does not give the same picture as the
local engine: the samplers' noise and the models' arithmetic differ."""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image

from sketchdiffuse.generation.comfy.client import ComfyClient, ServerError
from sketchdiffuse.generation.comfy.workflow import Uploads, build_workflow
from sketchdiffuse.generation.engine import CancelToken, PreviewCallback, Progress, ProgressCallback, request_sizes
from sketchdiffuse.generation.family import family_from_name
from sketchdiffuse.generation.limits import resolve_seed
from sketchdiffuse.generation.models import LoadProgress
from sketchdiffuse.generation.request import Cancelled, GenerationRequest, GenerationResult, ModelIdentity


def _png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")).copy()


class ComfyBackend:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.client = ComfyClient(url, token)
        self.where = f"ComfyUI at {self.client.url}"

    def unload(self) -> None:
        """Nothing is loaded here; the server keeps its models as it sees fit."""

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
        if request.references:
            raise ServerError(
                "Reference pictures work with the local engine only for now; remove them to use the server."
            )
        uploads = Uploads()
        if init is not None and (request.strength < 1.0 or request.mask is not None):
            uploads.drawing = self.client.upload(_png(np.ascontiguousarray(init)), f"sketchdiffuse-{seed}.png")
        if request.mask is not None and uploads.drawing is not None:
            mask = np.repeat(np.ascontiguousarray(request.mask)[..., None], 3, axis=2)
            uploads.mask = self.client.upload(_png(mask), f"sketchdiffuse-{seed}-mask.png")
        for i, control in enumerate(request.controls):
            uploads.controls.append(
                self.client.upload(_png(np.ascontiguousarray(control.image)), f"sketchdiffuse-{seed}-control{i}.png")
            )
        workflow = build_workflow(request, checkpoint, seed, width, height, uploads)
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
        identity = ModelIdentity(checkpoint, "", "")
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
