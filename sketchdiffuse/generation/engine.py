"""The generation engine: keeps one pipeline loaded and turns requests into results.

No Qt here: the window's worker thread, the command line and the tests drive the same code.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sketchdiffuse.generation.auxiliary import AuxiliaryModels, load_controlnet
from sketchdiffuse.generation.caches import OneEntryCache
from sketchdiffuse.generation.controls import Control
from sketchdiffuse.generation.errors import GenerationError, InvalidRequestError, OutOfMemoryError
from sketchdiffuse.generation.family import Family
from sketchdiffuse.generation.limits import resolve_seed
from sketchdiffuse.generation.model_lists import ModelLists
from sketchdiffuse.generation.model_ref import ModelRef
from sketchdiffuse.generation.models import LoadedModel, LoadProgress, free_memory, load_model
from sketchdiffuse.generation.preview import latents_to_rgb
from sketchdiffuse.generation.prompts import Embeddings, encode
from sketchdiffuse.generation.request import (
    Cancelled,
    GenerationRequest,
    GenerationResult,
    ModelIdentity,
    SizePolicy,
)
from sketchdiffuse.generation.schedulers import make_scheduler
from sketchdiffuse.generation.steering import (
    apply_loras,
    apply_references,
    check_controlnet,
    control_arguments,
    controlled_pipeline,
    reference_arguments,
)
from sketchdiffuse.generation.tiny_autoencoder import TinyAutoencoder, load_tiny_autoencoder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    step: int  # steps done, 1-based
    total: int  # steps this job runs
    elapsed: float
    remaining: float  # estimated seconds left


ProgressCallback = Callable[[Progress], None]
PreviewCallback = Callable[[np.ndarray], None]


class CancelToken:
    """Set from any thread; the engine stops at the next step boundary."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def work_size(width: int, height: int, policy: SizePolicy, native: int, longest: int | None = None) -> tuple[int, int]:
    """The size the model works at, aspect kept as far as the grid allows.

    At the native size the area stays near native² (a 16:9 canvas on SD 1.5 works at 704 x 384, not
    512 x 288, which would be below the training resolution), with sides in multiples of 64 for
    full-size models (8 for tiny ones). ``longest`` then caps the longer side (live mode)."""
    if policy is SizePolicy.NATIVE:
        grid = 64 if native >= 512 else 8
        scale = native / (width * height) ** 0.5
        w = max(grid, round(width * scale / grid) * grid)
        h = max(grid, round(height * scale / grid) * grid)
    else:
        w, h = width, height
    if longest is not None and max(w, h) > longest:
        cap = longest / max(w, h)
        w, h = w * cap, h * cap
    return max(8, round(w / 8) * 8), max(8, round(h / 8) * 8)


def request_sizes(request: GenerationRequest, native: int) -> tuple[int, int, int, int]:
    """(canvas width, height, working width, height): the drawing's size (without one, the size asked for or
    the model's native size) and the size the model works at for it."""
    if request.init_image is not None:
        canvas_h, canvas_w = request.init_image.shape[:2]
    else:
        canvas_w, canvas_h = request.width or native, request.height or native
    return (canvas_w, canvas_h, *work_size(canvas_w, canvas_h, request.size_policy, native, request.work_side))


def unchanged(
    request: GenerationRequest, seed: int, identity: ModelIdentity, started: float, server: str | None = None
) -> GenerationResult:
    """Strength 0 on a drawing: nothing to change, so the drawing comes back as it is, on every backend,
    without a model or a server being asked."""
    assert request.init_image is not None
    h, w = request.init_image.shape[:2]
    timings = {"total": time.perf_counter() - started}
    return GenerationResult(np.array(request.init_image), request, seed, 0, 0, timings, identity, w, h, server=server)


def plan_steps(steps: int, strength: float) -> tuple[int, int]:
    """(schedule length, steps run) for img2img, as diffusers counts them.

    A strength x steps that rounds to zero would run nothing; the schedule is lengthened
    until exactly one step runs, which keeps that step's noise level near ``strength``.
    """
    if not strength > 0:
        raise InvalidRequestError("Strength 0 changes nothing: there are no steps to run.")
    total = steps
    while min(int(total * strength), total) < 1:
        total += 1
    return total, min(int(total * strength), total)


class Engine:
    """Loads and keeps one model; ``generate`` is called from one thread at a time."""

    def __init__(self, preview_every: int = 2) -> None:
        self.model: LoadedModel | None = None
        self.refiner: LoadedModel | None = None  # SDXL's second stage, kept loaded beside the base
        self.preview_every = preview_every
        self.tiny: TinyAutoencoder | None = None
        self._lock = threading.Lock()
        # Live mode repeats the prompt and often the drawing: their encodings are kept for the next job.
        self._prompts: OneEntryCache[tuple[Any, ...], Embeddings] = OneEntryCache()
        self._drawings: OneEntryCache[tuple[Any, ...], Any] = OneEntryCache()
        # ControlNets stay loaded between jobs within a memory budget (auxiliary.py); what is released is said.
        self.notices: list[str] = []
        self.auxiliary = AuxiliaryModels(on_release=self.notices.append)

    # -- models -------------------------------------------------------------------------------
    def ensure_model(self, ref: ModelRef, on_load: LoadProgress | None = None) -> LoadedModel:
        """The loaded model for ``ref``; loads it (freeing the previous one) only when it differs."""
        if self.model is not None and self.model.ref == ref:
            return self.model
        self.unload()
        self.model = load_model(ref, on_load)
        return self.model

    def prepare(self, ref: ModelRef, on_load: LoadProgress | None = None) -> Family:
        """Backend.prepare: the model downloaded if need be and loaded now; its family."""
        return self.ensure_model(ref, on_load).family

    def available_models(self) -> ModelLists:
        """Backend.available_models: the models downloaded from the Hub (hub.downloaded_models)."""
        from sketchdiffuse.generation.hub import downloaded_models

        return downloaded_models()

    def ensure_refiner(self, base: LoadedModel, ref: ModelRef, on_load: LoadProgress | None = None) -> LoadedModel:
        """The refiner for ``base``: an SDXL model, as the base is (the same latent space)."""
        if self.refiner is None or self.refiner.ref != ref:
            if self.refiner is not None:
                self.refiner.release()
                self.refiner = None
            refiner = load_model(ref, on_load)
            if not refiner.is_sdxl:
                refiner.release()
                raise InvalidRequestError(
                    f"'{ref.name}' is {refiner.family.label}, not an SDXL refiner; choose an SDXL refiner "
                    "(for example sd_xl_refiner_1.0) in Generation settings."
                )
            share_identical_parts(base, refiner)
            self.refiner = refiner
        return self.refiner

    def ensure_tiny_autoencoder(self, source: str, model: LoadedModel) -> TinyAutoencoder:
        tiny = self.tiny
        if tiny is None or tiny.source != source or tiny.module.device.type != model.device.split(":")[0]:
            self.tiny = None
            tiny = self.tiny = load_tiny_autoencoder(source, model.device, model.dtype)
        return tiny

    def _controlnet(self, control: Control, model: LoadedModel) -> Any:
        key = ("controlnet", control.model, model.device, str(model.dtype))
        net = self.auxiliary.get(key, lambda: load_controlnet(control.model, model.device, model.dtype))
        check_controlnet(net, model, control)
        return net

    def unload(self) -> None:
        self.auxiliary.clear()  # ControlNets on the old model's device and dtype, maybe for another family
        self._prompts.clear()
        self._drawings.clear()
        self.tiny = None
        if self.refiner is not None:
            self.refiner.release()
            self.refiner = None
        if self.model is not None:
            self.model.release()  # frees the accelerator cache too
            self.model = None

    # -- generation ---------------------------------------------------------------------------
    def generate(
        self,
        request: GenerationRequest,
        on_progress: ProgressCallback | None = None,
        on_preview: PreviewCallback | None = None,
        cancel: CancelToken | None = None,
        on_load: LoadProgress | None = None,
    ) -> GenerationResult | Cancelled:
        with self._lock:
            return self._generate(request, on_progress, on_preview, cancel or CancelToken(), on_load)

    def _generate(
        self,
        request: GenerationRequest,
        on_progress: ProgressCallback | None,
        on_preview: PreviewCallback | None,
        cancel: CancelToken,
        on_load: LoadProgress | None,
    ) -> GenerationResult | Cancelled:
        started = time.perf_counter()
        self.notices.clear()  # what a failed job noted is not this job's news
        seed = resolve_seed(request.seed)
        timings: dict[str, float] = {}
        init = request.init_image
        if init is not None and request.strength == 0.0:
            identity = self.model.identity if self.model and self.model.ref == request.model else None
            return unchanged(request, seed, identity or ModelIdentity(request.model.name, "", ""), started)
        if cancel.cancelled:
            return Cancelled(request, 0)
        t = time.perf_counter()
        model = self.ensure_model(request.model, on_load)
        timings["load"] = time.perf_counter() - t
        if cancel.cancelled:
            return Cancelled(request, 0)
        import torch

        try:
            with torch.no_grad():
                return self._run(model, request, seed, timings, started, on_progress, on_preview, cancel)
        except GenerationError:
            raise
        except Exception as exc:
            if _is_oom(exc):
                where = "The computer" if self.model is None or self.model.device == "cpu" else "The GPU"
                raise OutOfMemoryError(
                    f"{where} ran out of memory even with VAE tiling"
                    f"{'' if where == 'The computer' else ' and CPU offload'}. Try a smaller canvas, "
                    "fewer steps, or fp16 precision in the settings."
                ) from exc
            raise

    def _run(
        self,
        model: LoadedModel,
        request: GenerationRequest,
        seed: int,
        timings: dict[str, float],
        started: float,
        on_progress: ProgressCallback | None,
        on_preview: PreviewCallback | None,
        cancel: CancelToken,
    ) -> GenerationResult | Cancelled:
        import torch

        pipe = model.pipe
        init = request.init_image
        # An inpainting checkpoint always runs its own pipeline: without a selection, over all of the picture.
        # A refiner finishes a region's whole area by img2img (its result is laid back through the mask).
        inpaint = (request.mask is not None and not model.family.refiner) or model.inpainting_unet
        img2img = init is not None and request.strength < 1.0 and not inpaint
        canvas_w, canvas_h, width, height = request_sizes(request, model.family.native_size)
        if img2img or (inpaint and request.strength < 1.0):
            total, run_steps = plan_steps(request.steps, request.strength)
        else:
            total, run_steps = request.steps, request.steps
        guidance = request.guidance_scale > 1.0
        if not img2img and model.family.refiner:
            raise InvalidRequestError(
                f"'{model.identity.name}' is an SDXL refiner: it finishes pictures but cannot start one from "
                "nothing. Lower the strength below 100 % to refine the drawing, or generate with an SDXL base "
                "model and choose this one as its refiner in Generation settings."
            )
        apply_loras(model, request.loras)  # before the prompt is encoded: a LoRA may change the text encoder
        apply_references(model, request.ip_adapter, request.references)  # before the pipelines are made
        target = model.inpaint() if inpaint else pipe if img2img else model.txt2img()
        self.auxiliary.budget_bytes = int(request.auxiliary_budget_mb * (1 << 20))
        self.auxiliary.begin_job()
        if request.controls:
            mode = "inpaint" if inpaint else "img2img" if img2img else "txt2img"
            target = controlled_pipeline(model, mode, [self._controlnet(c, model) for c in request.controls])
        target.scheduler = make_scheduler(request.scheduler, model.scheduler_config)
        shortcuts: list[str] = []
        if model.device == "cpu" and model.dtype == torch.bfloat16:
            shortcuts.append("bf16")
        tiny = self.ensure_tiny_autoencoder(request.tiny_autoencoder, model) if request.tiny_autoencoder else None
        if tiny is not None:
            shortcuts.append("tiny autoencoder")
        previewer = tiny
        if previewer is None and request.preview_decoder and on_preview is not None:
            previewer = self.ensure_tiny_autoencoder(request.preview_decoder, model)

        t = time.perf_counter()
        prompt_key = (
            request.prompt,
            request.negative_prompt,
            guidance,
            tuple((x.path, x.weight) for x in request.loras),
        )
        emb = self._prompts.get(prompt_key)
        if emb is None:
            emb = encode(pipe, request.prompt, request.negative_prompt, guidance, model.is_sdxl, model.device)
            self._prompts.put(prompt_key, emb)
        else:
            shortcuts.append("cached prompt")
        timings["text_encode"] = time.perf_counter() - t
        kwargs: dict[str, Any] = {
            "prompt_embeds": emb.prompt,
            "negative_prompt_embeds": emb.negative,
            "num_inference_steps": total,
            "guidance_scale": request.guidance_scale,
            "output_type": "latent",
        }
        if model.is_sdxl:
            kwargs["pooled_prompt_embeds"] = emb.pooled
            kwargs["negative_pooled_prompt_embeds"] = emb.negative_pooled

        if img2img:
            kwargs["strength"] = request.strength
        else:
            kwargs["height"], kwargs["width"] = height, width
        if inpaint:
            kwargs["strength"] = request.strength
            kwargs["image"], kwargs["mask_image"] = _inpaint_inputs(request, canvas_w, canvas_h, width, height)

        if request.controls:
            key = "control_image" if img2img or inpaint else "image"
            kwargs |= control_arguments(request.controls, width, height, key)
        kwargs |= reference_arguments(request.references)

        refiner_notes: list[str] = []
        refiner, refine_kwargs, refine_steps = (
            (None, {}, 0)  # a refiner finishes whole pictures; a region is finished by the model that made it
            if inpaint or request.mask is not None
            else self._refiner_stage(model, request, img2img, guidance, total, kwargs, refiner_notes)
        )
        run_steps += refine_steps  # one progress bar over both stages
        step_times: list[float] = []
        denoise_start = time.perf_counter()
        last = [denoise_start]

        def denoise() -> Any:
            """One attempt from the recorded seed: a retry after out-of-memory gives the same picture."""
            generator = torch.Generator("cpu").manual_seed(seed)
            kwargs["generator"] = generator
            if img2img:
                t = time.perf_counter()
                kwargs["image"] = self._drawing_latents(model, request, width, height, generator, tiny, shortcuts)
                timings["vae_encode"] = time.perf_counter() - t
            step_times.clear()  # progress restarts with the attempt and never exceeds the total
            last[0] = time.perf_counter()
            latents = target(**kwargs).images
            if refiner is not None and not cancel.cancelled:  # the same generator goes on (diffusers' recipe)
                latents = refiner.pipe(image=latents, generator=generator, **refine_kwargs).images
            return latents

        def on_step_end(p: Any, i: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
            now = time.perf_counter()
            step_times.append(now - last[0])
            last[0] = now
            done = len(step_times)
            if on_progress is not None:
                mean = sum(step_times) / done
                on_progress(Progress(done, run_steps, now - started, mean * (run_steps - done)))
            if on_preview is not None and done < run_steps and done % self.preview_every == 0:
                latents = callback_kwargs["latents"][:1]
                if previewer is not None:  # a real picture, for a fraction of the full VAE's cost
                    on_preview(_to_uint8(pipe, previewer.decode(latents)))
                else:  # a linear map of the latents: 1/8 of the size, nearly free
                    on_preview(latents_to_rgb(latents[0].float().cpu().numpy(), model.is_sdxl))
            if cancel.cancelled:
                p._interrupt = True
            return callback_kwargs

        kwargs["callback_on_step_end"] = on_step_end
        refine_kwargs["callback_on_step_end"] = on_step_end
        decoder = refiner.pipe if refiner is not None else pipe  # the refiner's VAE finishes its pictures
        used: list[str] = []
        try:
            latents = self._with_memory_fallbacks(model, denoise, used)
            timings["denoise"] = time.perf_counter() - denoise_start
            if cancel.cancelled:
                return Cancelled(request, len(step_times))
            t = time.perf_counter()
            if tiny is not None:
                decode = lambda: _to_uint8(pipe, tiny.decode(latents))  # noqa: E731
                image = self._with_memory_fallbacks(model, decode, used, tiling_helps=False)
            else:
                image = self._with_memory_fallbacks(
                    model, lambda: self._decode(decoder, latents, model.is_sdxl), used, vae=decoder.vae
                )
            timings["vae_decode"] = time.perf_counter() - t
        finally:
            if "VAE tiling" in used and not model.ref.vae_tiling:
                for vae in {id(pipe.vae): pipe.vae, id(decoder.vae): decoder.vae}.values():
                    vae.disable_tiling()  # cheap to turn on again; the next job starts as configured
        warnings = list(emb.warnings) + refiner_notes + self.notices  # cleared when the next job starts
        if model.device_warning:
            warnings.append(model.device_warning)
        if used:
            warnings.append(f"Ran out of memory; this picture was finished with {' and '.join(used)}.")
        if model.memory_fallbacks:
            warnings.append(
                f"The model still runs with {' and '.join(model.memory_fallbacks)} after running out of memory "
                "(slower); restart sketchdiffuse to return to full speed."
            )
        if (width, height) != (canvas_w, canvas_h):
            from PIL import Image

            image = np.asarray(Image.fromarray(image).resize((canvas_w, canvas_h), Image.Resampling.LANCZOS))
        timings["total"] = time.perf_counter() - started
        for i, seconds in enumerate(step_times):
            timings[f"step_{i + 1}"] = seconds
        return GenerationResult(
            image,
            request,
            seed,
            len(step_times),
            total,
            timings,
            model.identity,
            width,
            height,
            tuple(warnings),
            tuple(dict.fromkeys(shortcuts)),  # a retry meets the same caches again
            memory_fallbacks=tuple(used),
            refiner=refiner.identity if refiner is not None else None,
        )

    def _refiner_stage(
        self,
        model: LoadedModel,
        request: GenerationRequest,
        img2img: bool,
        guidance: bool,
        total: int,
        kwargs: dict[str, Any],
        notes: list[str],
    ) -> tuple[LoadedModel | None, dict[str, Any], int]:
        """The refiner, its call's arguments and the steps it adds to the job. Text-to-image: the base's
        call stops at the switch and the refiner finishes the schedule from there. img2img: the base
        makes its picture and the refiner runs a short pass over it (strength 1 - switch)."""
        if request.refiner is None:
            return None, {}, 0
        if not model.is_sdxl:  # a refiner set in the settings stays set while the artist tries other models
            notes.append(
                f"The refiner did not run: it finishes SDXL pictures and '{model.identity.name}' is "
                f"{model.family.label}."
            )
            return None, {}, 0
        refiner = self.ensure_refiner(model, request.refiner)
        refiner.pipe.scheduler = make_scheduler(request.scheduler, refiner.scheduler_config)
        emb = encode(refiner.pipe, request.prompt, request.negative_prompt, guidance, True, refiner.device)
        stage: dict[str, Any] = {
            "prompt_embeds": emb.prompt,
            "negative_prompt_embeds": emb.negative,
            "pooled_prompt_embeds": emb.pooled,
            "negative_pooled_prompt_embeds": emb.negative_pooled,
            "guidance_scale": request.guidance_scale,
            "aesthetic_score": request.aesthetic_score,
            "negative_aesthetic_score": request.negative_aesthetic_score,
            "output_type": "latent",
        }
        if img2img:
            strength = round(1.0 - request.refiner_switch, 6)
            refine_total, refine_steps = plan_steps(request.steps, strength)
            return refiner, stage | {"num_inference_steps": refine_total, "strength": strength}, refine_steps
        kwargs["denoising_end"] = request.refiner_switch
        return refiner, stage | {"num_inference_steps": total, "denoising_start": request.refiner_switch}, 0

    def _drawing_latents(
        self,
        model: LoadedModel,
        request: GenerationRequest,
        width: int,
        height: int,
        generator: Any,
        tiny: TinyAutoencoder | None,
        shortcuts: list[str],
    ) -> Any:
        """Latents of the drawing, sampled with the job's generator exactly as diffusers' img2img does.

        The encoder's output (the latent distribution) is kept for the next job: an unchanged drawing
        skips the encoder and still draws its sample from the new job's generator.
        """
        from PIL import Image

        pipe = model.pipe
        assert request.init_image is not None
        key = (request.drawing_digest, width, height, tiny.source if tiny else None)
        encoded = self._drawings.get(key)
        if encoded is None:  # only then is the drawing resized and encoded
            pil = Image.fromarray(request.init_image).resize((width, height), Image.Resampling.LANCZOS)
            image = pipe.image_processor.preprocess(pil).to(device=model.device)
            encoded = tiny.encode(image) if tiny is not None else self._encode_full(pipe, image, model.is_sdxl)
            self._drawings.put(key, encoded)
        else:
            shortcuts.append("cached drawing")
        if tiny is not None:
            return encoded.to(pipe.unet.dtype)
        latents = encoded.sample(generator)
        config = pipe.vae.config
        mean, std = getattr(config, "latents_mean", None), getattr(config, "latents_std", None)
        if model.is_sdxl and mean is not None and std is not None:
            m = _channel_tensor(mean, latents)
            return (latents - m) * config.scaling_factor / _channel_tensor(std, latents)
        return (latents * config.scaling_factor).to(pipe.unet.dtype)

    @staticmethod
    def _encode_full(pipe: Any, image: Any, sdxl: bool) -> Any:
        """The full VAE's latent distribution; SDXL's fp16 VAE encodes in fp32 as its pipeline does."""
        import torch

        vae = pipe.vae
        # Only SDXL's pipelines upcast (its VAE overflows in fp16); SD 1.x/2.x VAEs run in fp16 as loaded.
        upcast = sdxl and vae.dtype == torch.float16 and getattr(vae.config, "force_upcast", False)
        if upcast:
            vae.to(torch.float32)
        try:
            return vae.encode(image.to(vae.dtype)).latent_dist
        finally:
            if upcast:
                vae.to(torch.float16)

    @staticmethod
    def _decode(pipe: Any, latents: Any, sdxl: bool) -> np.ndarray:
        """Latents -> H x W x 3 uint8; an fp16 overflow (NaN) is decoded again in fp32."""
        import torch

        vae = pipe.vae
        config = vae.config

        def run(vae_dtype: Any) -> Any:
            x = latents.to(vae_dtype)
            mean, std = getattr(config, "latents_mean", None), getattr(config, "latents_std", None)
            if mean is not None and std is not None:
                x = x * _channel_tensor(std, x) / config.scaling_factor + _channel_tensor(mean, x)
            else:
                x = x / config.scaling_factor
            return vae.decode(x, return_dict=False)[0]

        upcast = sdxl and vae.dtype == torch.float16 and getattr(config, "force_upcast", False)
        if upcast:
            vae.to(torch.float32)
        image = run(vae.dtype)
        if torch.isnan(image).any() and vae.dtype != torch.float32:
            log.info("VAE decode overflowed in %s; decoding again in fp32", vae.dtype)
            original = vae.dtype
            vae.to(torch.float32)
            image = run(torch.float32)
            vae.to(original)
        elif upcast:
            vae.to(torch.float16)
        return _to_uint8(pipe, image)

    @staticmethod
    def _with_memory_fallbacks(
        model: LoadedModel, call: Callable[[], Any], used: list[str], tiling_helps: bool = True, vae: Any = None
    ) -> Any:
        """Run ``call``; on out-of-memory free the cache and retry with VAE tiling, then (GPU) CPU offload.
        A picture too large for one pass of the VAE (tensor sizes past 32-bit indexing, which GPU
        kernels report as something other than out-of-memory) is retried with tiling alone.

        ``vae``: the one that decodes (the refiner's when it finishes the picture). ``used`` collects what
        was turned on. Tiling is undone after the job by the caller; CPU offload stays and is recorded
        on the model, so every later result says so."""
        vae = vae if vae is not None else model.pipe.vae
        fallbacks: list[tuple[str, Callable[[], None]]] = []
        if tiling_helps and not vae.use_tiling:  # the full VAE's tiling does nothing for a tiny decoder
            fallbacks.append(("VAE tiling", vae.enable_tiling))
        if model.device != "cpu" and "model CPU offload" not in model.memory_fallbacks and not model.ref.cpu_offload:
            fallbacks.append(("model CPU offload", model.pipe.enable_model_cpu_offload))
        while True:
            try:
                return call()
            except Exception as exc:
                too_large = _too_large_for_one_pass(exc)
                if too_large:
                    fallbacks = [f for f in fallbacks if f[0] == "VAE tiling"]
                elif not _is_oom(exc):
                    raise
                if not fallbacks and too_large:
                    raise OutOfMemoryError(
                        "The picture is too large for this GPU to compute in one pass, even in tiles. Use the "
                        "model's native work size (Generation settings) or a smaller canvas."
                    ) from exc
                if not fallbacks:
                    raise
                name, apply = fallbacks.pop(0)
                log.warning("Out of memory; retrying with %s", name)
                free_memory()
                apply()
                used.append(name)
                if name == "model CPU offload":
                    model.memory_fallbacks.append(name)


# The refiner parts that are often the base's own weights (SDXL 1.0's VAE and OpenCLIP encoder).
SHAREABLE = ("vae", "text_encoder_2")


def share_identical_parts(base: LoadedModel, refiner: LoadedModel, names: tuple[str, ...] = SHAREABLE) -> list[str]:
    """Let the refiner use the base's VAE and second text encoder where its own are the same weights
    (SDXL 1.0's are): one copy in memory instead of two. Returns the parts now shared."""
    import torch

    shared = []
    for name in names:
        own, theirs = getattr(refiner.pipe, name, None), getattr(base.pipe, name, None)
        if own is None or theirs is None or own is theirs or type(own) is not type(theirs):
            continue
        if _architecture(own) != _architecture(theirs):
            continue
        mine, other = own.state_dict(), theirs.state_dict()
        if mine.keys() != other.keys() or not all(
            mine[k].dtype == other[k].dtype and mine[k].device == other[k].device and torch.equal(mine[k], other[k])
            for k in mine
        ):
            continue
        refiner.pipe.register_modules(**{name: theirs})
        shared.append(name)
    if shared:
        free_memory()
    return shared


def _inpaint_inputs(
    request: GenerationRequest, canvas_w: int, canvas_h: int, width: int, height: int
) -> tuple[Any, Any]:
    """The drawing and the mask (white: repaint) at the working size, as the inpainting pipeline takes them;
    without a drawing a white one, without a mask all of it."""
    from PIL import Image

    init = request.init_image
    picture = Image.new("RGB", (canvas_w, canvas_h), "white") if init is None else Image.fromarray(init)
    mask = Image.new("L", (canvas_w, canvas_h), 255) if request.mask is None else Image.fromarray(request.mask, "L")
    if (width, height) != (canvas_w, canvas_h):
        # reducing_gap: a large area is first reduced by a whole factor, then resampled (Pillow's own
        # speed-up, the same picture to the eye).
        picture = picture.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        mask = mask.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return picture, mask


def _architecture(module: Any) -> dict[str, Any]:
    """A model's configuration without where it was loaded from or which library version wrote it."""
    config = module.config
    values = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    ignored = {"name_or_path", "transformers_version", "architectures", "torch_dtype", "dtype"}
    return {k: v for k, v in values.items() if not k.startswith("_") and k not in ignored}


def _channel_tensor(values: Any, like: Any) -> Any:
    import torch

    return torch.tensor(values).view(1, -1, 1, 1).to(like)


def _to_uint8(pipe: Any, image: Any) -> np.ndarray:
    """A decoded image in [-1, 1] -> H x W x 3 uint8."""
    array = pipe.image_processor.postprocess(image.float(), output_type="np")[0]
    return (array * 255).round().astype(np.uint8)


def _is_oom(exc: BaseException) -> bool:
    return (
        type(exc).__name__ == "OutOfMemoryError"
        or isinstance(exc, MemoryError)
        or "out of memory" in str(exc).lower()
        or "can't allocate memory" in str(exc).lower()
    )


# What GPU kernels say when a tensor is past 32-bit indexing or a backend's size limit: a picture too
# large for one pass, which tiling solves and CPU offload does not.
TOO_LARGE = (
    "canuse32bitindexmath",
    "int_max",
    "cudnn_status_not_supported",
    "integer out of range",
    "larger than int_max",
    "tensor dims larger than",
    "ndarray > 2**32 bytes",
    "too large",
)


def _too_large_for_one_pass(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and not _is_oom(exc) and any(marker in text for marker in TOO_LARGE)
