"""Loading a Stable Diffusion pipeline from a Hub id, a diffusers folder or a single .safetensors file.

torch and diffusers are imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sketchdiffuse.generation.tuning as tuning
from sketchdiffuse.generation.checkpoint_family import family_of_checkpoint
from sketchdiffuse.generation.cpu_features import cpu_has_fast_bf16
from sketchdiffuse.generation.errors import (
    ModelError,
    ModelNotFoundError,
    NotAStableDiffusionModelError,
    UnrecognisedModelError,
)
from sketchdiffuse.generation.family import Family, family_of_folder
from sketchdiffuse.generation.family_override import FamilyOverride
from sketchdiffuse.generation.heap_tuning import gpu_device_present
from sketchdiffuse.generation.hub import HUB_IGNORE, LoadProgress, cached_pipeline, fetch_hub_model, is_half_weights
from sketchdiffuse.generation.identity import file_hash, folder_hash
from sketchdiffuse.generation.load_errors import translate_load_error
from sketchdiffuse.generation.mapped_weights import released_outside_gil
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
from sketchdiffuse.generation.request import ModelIdentity

__all__ = ["LoadProgress", "fetch_hub_model", "translate_load_error"]
from sketchdiffuse.resources import resource

log = logging.getLogger(__name__)


def preload_libraries() -> None:
    """Import torch, diffusers and transformers ahead of the first generation.

    Importing them holds Python's GIL for up to half a second at a time (extension modules and
    bytecode loading), which would stall the window if it happened while the artist paints; the
    window calls this on the worker thread right after it opens instead, and the slowest part,
    libtorch's own start-up, runs first without the GIL (native_libraries).
    """
    tuning.open_native_libraries()
    with tuning.quiet_collector():
        _import_libraries()


def _import_libraries() -> None:
    import torch  # noqa: F401
    from diffusers import (  # noqa: F401
        AutoencoderKL,
        AutoencoderTiny,
        EulerDiscreteScheduler,
        StableDiffusionImg2ImgPipeline,
        StableDiffusionPipeline,
        StableDiffusionXLImg2ImgPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer  # noqa: F401

    from sketchdiffuse.generation.schedulers import make_scheduler  # noqa: F401

    _quiet_libraries()


NVIDIA_DEVICE_NODES = ("/dev/nvidiactl", "/dev/nvidia0")


def unusable_gpu() -> str | None:
    """Why an NVIDIA GPU that is present cannot be used by this PyTorch build; None when there is none
    or it works. Without this, generation would fall back to the CPU without a word."""
    import torch

    if not gpu_device_present(NVIDIA_DEVICE_NODES):
        return None
    if torch.version.cuda is None:
        return (
            "An NVIDIA GPU is present, but this PyTorch build has no CUDA support: install the CUDA build of PyTorch."
        )
    try:
        torch.cuda.init()
    except Exception as exc:  # the driver's own reason, e.g. "driver too old"
        return (
            f"An NVIDIA GPU is present, but PyTorch cannot use it ({str(exc).splitlines()[0]}); generating on the CPU."
        )
    major, minor = torch.cuda.get_device_capability()
    arch = f"sm_{major}{minor}"
    built = torch.cuda.get_arch_list()
    if built and arch not in built and f"compute_{major}{minor}" not in built:
        return (
            f"This PyTorch build has no kernels for the GPU's architecture ({arch}; built for {', '.join(built)}): "
            "install a PyTorch build for this GPU."
        )
    return None


def pick_device(preference: str = "auto") -> str:
    import torch

    if preference not in ("auto", "cuda", "mps", "cpu"):
        raise ModelError(f"Unknown device '{preference}'; choose auto, cuda, mps or cpu.")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ModelError("CUDA was chosen but no CUDA GPU is available to PyTorch; choose auto or cpu.")
    if preference == "mps" and not torch.backends.mps.is_available():
        raise ModelError("Apple MPS was chosen but is not available; choose auto or cpu.")
    if preference != "auto":
        return preference
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def cuda_has_native_bf16() -> bool:
    """bf16 in hardware: NVIDIA Ampere (compute capability 8.0) or newer. torch's own check also says yes
    where bf16 is emulated (Turing, Volta: slower than fp16), and ROCm builds report NVIDIA-style
    capabilities that say nothing about bf16 speed, so those keep fp16."""
    import torch

    if getattr(torch.version, "hip", None):
        return False
    major, _minor = torch.cuda.get_device_capability()
    return major >= 8


def pick_dtype(device: str, preference: str = "auto") -> Any:
    import torch

    table = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    if preference in table:
        return table[preference]
    if preference != "auto":
        raise ModelError(f"Unknown precision '{preference}'; choose auto, fp16, bf16 or fp32.")
    if device == "cuda":
        return torch.bfloat16 if cuda_has_native_bf16() else torch.float16
    if device == "mps":
        return torch.float16

    # About twice as fast as fp32 where the CPU multiplies bf16 natively (benchmarks/bench_generation.py).
    return torch.bfloat16 if cpu_has_fast_bf16() else torch.float32


@dataclass
class LoadedModel:
    ref: ModelRef
    pipe: Any  # the img2img pipeline; txt2img shares its components
    family: Family
    identity: ModelIdentity
    device: str
    dtype: Any
    # Turned on by an out-of-memory retry and still on (CPU offload cannot be undone cheaply).
    memory_fallbacks: list[str] = field(default_factory=list)
    # The model's own scheduler config as loaded: every job's sampler is built from it, never from
    # the previous job's scheduler (whose options, e.g. Karras sigmas, would leak into the next).
    scheduler_config: dict[str, Any] = field(default_factory=dict)
    device_warning: str = ""  # e.g. a GPU this PyTorch cannot use: every result says so
    # LoRA files loaded into the UNet and text encoder as peft adapters: path -> adapter name (steering.py).
    loras: dict[str, str] = field(default_factory=dict)
    next_adapter: int = 0
    ip_adapter: tuple[str, int] | None = None  # the IP-Adapter loaded into the UNet and how many times
    _txt2img: Any = field(default=None, repr=False)
    _inpaint: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.scheduler_config and self.pipe is not None:
            self.scheduler_config = dict(self.pipe.scheduler.config)

    @property
    def is_sdxl(self) -> bool:
        return self.family.kind == "sdxl"

    def txt2img(self) -> Any:
        """A text-to-image pipeline over the same loaded components (no second load)."""
        if self._txt2img is None:
            from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

            cls = StableDiffusionXLPipeline if self.is_sdxl else StableDiffusionPipeline
            # Without a dtype, from_pipe converts the shared components to fp32.
            self._txt2img = cls.from_pipe(self.pipe, dtype=self.dtype)
            self._txt2img.set_progress_bar_config(disable=True)
        return self._txt2img

    def inpaint(self) -> Any:
        """An inpainting pipeline over the same components: a 9-channel UNet sees the mask and the masked
        picture; an ordinary 4-channel one has the kept region blended back at every step."""
        if self._inpaint is None:
            from diffusers import StableDiffusionInpaintPipeline, StableDiffusionXLInpaintPipeline

            cls = StableDiffusionXLInpaintPipeline if self.is_sdxl else StableDiffusionInpaintPipeline
            self._inpaint = cls.from_pipe(self.pipe, dtype=self.dtype)
            self._inpaint.set_progress_bar_config(disable=True)
        return self._inpaint

    @property
    def inpainting_unet(self) -> bool:
        """True for an inpainting checkpoint (a UNet that takes the mask and masked picture as input)."""
        return int(self.pipe.unet.config.in_channels) == 9

    def forget_derived_pipelines(self) -> None:
        """Text-to-image and inpainting pipelines are made again from the model's current components."""
        self._txt2img = None
        self._inpaint = None

    def release(self) -> None:
        self._inpaint = None
        self._txt2img = None
        self.pipe = None
        free_memory()


def free_memory() -> None:
    # A released model may sit in the frozen generation (see tuning.quiet_collector): thaw it so
    # this collection can free it.
    gc.unfreeze()
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if torch.backends.mps.is_available():
            torch.mps.empty_cache()
    except Exception:  # pragma: no cover - freeing is best effort
        log.debug("could not empty the accelerator cache", exc_info=True)


def _clip_tokenizer(pad_token: str) -> Any:
    from transformers import CLIPTokenizer

    folder = resource("tokenizers", "clip")
    return CLIPTokenizer(
        str(folder / "vocab.json"),
        str(folder / "merges.txt"),
        pad_token=pad_token,
        model_max_length=77,
    )


def detect_family(ref: ModelRef) -> Family | None:
    """The family of a model without loading it (configs or a file header); None when that cannot be told yet,
    e.g. a Hub model that is not downloaded."""
    try:
        if ref.kind is SourceKind.FILE:
            return _checkpoint_family(Path(ref.source), ref.override)
        if ref.kind is SourceKind.FOLDER:
            family = family_of_folder(Path(ref.source), ref.name)
        else:
            from huggingface_hub import snapshot_download

            folder = cached_pipeline(ref.source) or Path(
                snapshot_download(ref.source, local_files_only=True, ignore_patterns=HUB_IGNORE)
            )
            family = family_of_folder(folder, ref.source)
        return ref.override.apply(family) if ref.override is not None else family
    except Exception:  # unknown now; loading will report the real problem with a full sentence
        return None


def load_model(ref: ModelRef, on_progress: LoadProgress | None = None) -> LoadedModel:
    """Load ``ref`` onto its device; every failure is a ModelError (or OutOfMemoryError) with a clear sentence."""
    with tuning.quiet_collector():
        return _load_model(ref, on_progress)


def _load_model(ref: ModelRef, on_progress: LoadProgress | None) -> LoadedModel:
    import torch

    _quiet_libraries()
    device = pick_device(ref.device)
    problem = unusable_gpu() if device == "cpu" and ref.device == "auto" else None
    if problem:
        log.warning("%s", problem)
    dtype = pick_dtype(device, ref.precision)
    what = f"'{ref.name}'"
    if ref.kind is SourceKind.HUB:
        folder = fetch_hub_model(ref.source, on_progress, half=dtype != torch.float32)
        family = family_of_folder(folder, ref.source)
        short_hash = folder_hash(folder)
        loader = lambda: _load_folder(folder, family, dtype)  # noqa: E731
    elif ref.kind is SourceKind.FOLDER:
        folder = Path(ref.source)
        if not folder.is_dir():
            raise ModelNotFoundError(f"The model folder '{ref.source}' does not exist (moved or deleted?).")
        family = family_of_folder(folder, ref.name)
        short_hash = folder_hash(folder)
        loader = lambda: _load_folder(folder, family, dtype)  # noqa: E731
    else:
        path = Path(ref.source)
        if not path.is_file():
            raise ModelNotFoundError(f"The model file '{ref.source}' does not exist (moved or deleted?).")
        family = _checkpoint_family(path, ref.override)
        short_hash = file_hash(path)
        loader = lambda: _load_file(path, family, dtype, ref.config_dir, copy_weights=device == "cpu")  # noqa: E731
    if ref.override is not None and ref.kind is not SourceKind.FILE:
        family = ref.override.apply(family)
    if family.inpaint:
        raise NotAStableDiffusionModelError(
            f"{what} is an inpainting model ({family.label}): it repaints a selected region and cannot "
            "turn a whole drawing into a picture. Choose an ordinary model for whole-canvas generation."
        )
    if on_progress:
        on_progress("load", 0, 1)
    try:
        pipe = loader()
        # Converting or moving the weights frees the mapped files they were read from.
        with released_outside_gil(_modules(pipe)):
            if ref.cpu_offload and device == "cuda":
                pipe.to(dtype=dtype)
                pipe.enable_model_cpu_offload()
            elif device != "cpu":
                # Straight from the mapped file to the GPU, converted tensor by tensor on the way: no
                # second copy of the weights in RAM first.
                pipe.to(device, dtype)
            else:
                pipe.to(dtype=dtype)
        if ref.vae_tiling:
            pipe.vae.enable_tiling()
        if device == "cpu" and dtype == torch.bfloat16:
            # oneDNN's bf16 convolutions run faster on channels-last tensors (VAE decode 4.8 -> 4.1 s at 512 px).
            pipe.vae.to(memory_format=torch.channels_last)
    except ModelError:
        raise
    except Exception as exc:  # diffusers and torch raise many kinds; each becomes one clear sentence
        free_memory()
        raise translate_load_error(exc, what) from exc
    pipe.set_progress_bar_config(disable=True)
    tuning.keep_freed_buffers(device == "cpu")
    # The loaded configuration is the truth about the native size (a config folder may override the family's).
    native = int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
    if family.kind == "sdxl" and family.distilled == "turbo":
        native = 512  # SDXL-Turbo was distilled at 512 px; its UNet config still says 1024
    if ref.override is not None and ref.override.native_size:
        native = ref.override.native_size  # the artist's word over the config's
    family = replace(family, native_size=native)
    scheduler_config = dict(pipe.scheduler.config)
    if ref.kind is SourceKind.FILE or ref.override is not None:
        scheduler_config |= file_schedule(family)
        pipe.scheduler = type(pipe.scheduler).from_config(scheduler_config)
    if on_progress:
        on_progress("load", 1, 1)
    identity = ModelIdentity(ref.name, short_hash, family.label)
    model = LoadedModel(ref, pipe, family, identity, device, dtype, scheduler_config=scheduler_config)
    model.device_warning = problem or ""
    return model


def _checkpoint_family(path: Path, override: FamilyOverride | None) -> Family:
    """The file's family as detected, changed by what the artist said; a file detection does not
    recognise loads as the family the artist named."""
    try:
        detected: Family | None = family_of_checkpoint(path)
    except UnrecognisedModelError:
        if override is None or not override.base:
            raise
        detected = None
    if override is None:
        assert detected is not None
        return detected
    return override.apply(detected)


def file_schedule(family: Family) -> dict[str, Any]:
    """What a single file's shipped config must change to sample as the file was trained: its
    prediction type (an SDXL v-prediction file), zero terminal SNR, and for few-step models the last
    timestep first (the shipped "leading" spacing would give [501, 1] at 2 steps, and img2img at half
    strength would run t=1 alone)."""
    changes: dict[str, Any] = {"prediction_type": family.prediction}
    if family.zero_snr:
        changes["rescale_betas_zero_snr"] = True
    if family.distilled or family.zero_snr:
        changes["timestep_spacing"] = "trailing"
    return changes


def _quiet_libraries() -> None:
    """Loading progress bars and advice meant for library users are not for artists' terminals."""
    import diffusers.utils.logging as diffusers_logging
    import transformers.utils.logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    diffusers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def _pipeline_class(family: Family) -> Any:
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionXLImg2ImgPipeline

    return StableDiffusionXLImg2ImgPipeline if family.kind == "sdxl" else StableDiffusionImg2ImgPipeline


def _load_folder(folder: Path, family: Family, dtype: Any) -> Any:
    import torch

    cls = _pipeline_class(family)
    extra: dict[str, Any] = {}
    unet = folder / "unet"
    has_half = any(is_half_weights(p.name) for p in unet.glob("*.safetensors"))
    has_full = any(not is_half_weights(p.name) for p in unet.glob("*.safetensors"))
    if has_half and (dtype != torch.float32 or not has_full):  # the fp16 variant: half the bytes to read
        extra["variant"] = "fp16"
    if family.kind == "sd":
        extra |= {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    # Always the target precision: converted tensor by tensor while loading (fp16 files into bf16 or
    # fp32, fp32 files into a half type), never a float32 model built first and converted whole
    # (without dtype diffusers builds float32, even from fp16 files: twice the peak memory).
    return cls.from_pretrained(folder, local_files_only=True, use_safetensors=True, dtype=dtype, **extra)


def _load_file(path: Path, family: Family, dtype: Any, config_dir: str | None, copy_weights: bool = True) -> Any:
    """Single-file checkpoints load against a local config folder and local tokenizers: never the Hub.
    ``copy_weights``: copy them out of the mapped file (the CPU computes on them); a GPU copy is made
    by moving them, so a RAM copy first would only cost time and memory."""
    from transformers import CLIPTokenizer

    cls = _pipeline_class(family)
    config = Path(config_dir) if config_dir else resource("model_configs", family.config)
    extra: dict[str, Any] = {}
    # SD 2.x and SDXL's second encoder pad with "!", SD 1.x with the end token.
    if family.refiner:  # the refiner has only the second (OpenCLIP) encoder
        extra |= {"tokenizer": None, "text_encoder": None}
        extra["tokenizer_2"] = (
            CLIPTokenizer.from_pretrained(config / "tokenizer_2")
            if (config / "tokenizer_2").is_dir()
            else _clip_tokenizer("!")
        )
    elif (config / "tokenizer").is_dir():
        extra["tokenizer"] = CLIPTokenizer.from_pretrained(config / "tokenizer")
        if (config / "tokenizer_2").is_dir():
            extra["tokenizer_2"] = CLIPTokenizer.from_pretrained(config / "tokenizer_2")
    else:
        extra["tokenizer"] = _clip_tokenizer("!" if family.config.startswith("sd2") else "<|endoftext|>")
        if family.kind == "sdxl":
            extra["tokenizer_2"] = _clip_tokenizer("!")
    if family.kind == "sd":
        extra |= {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    pipe = cls.from_single_file(str(path), config=str(config), dtype=dtype, local_files_only=True, **extra)
    if copy_weights:
        with released_outside_gil(_modules(pipe)):
            _own_weights(pipe)
    return pipe


def _modules(pipe: Any) -> list[Any]:
    import torch

    return [m for m in pipe.components.values() if isinstance(m, torch.nn.Module)]


def _own_weights(pipe: Any) -> None:
    """Copy weights out of the memory-mapped checkpoint.

    The file is then no longer held open (it can be moved or deleted while loaded), and
    tensors get allocator alignment rather than the arbitrary offsets of a mapped file.
    """
    import torch

    with torch.no_grad():
        for module in _modules(pipe):
            for tensor in [*module.parameters(), *module.buffers()]:
                tensor.data = tensor.data.clone()
