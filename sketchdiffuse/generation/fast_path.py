"""What makes repeated generations cheap: bf16 detection, the tiny autoencoder, and caches of
the work a new job would repeat (the prompt's text embeddings and the drawing's latents).

torch and diffusers are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from sketchdiffuse.generation.errors import ModelError, ModelNotFoundError

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")


def cpu_has_fast_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (AVX512-BF16 or AMX).

    PyTorch's own mkldnn check also says yes for plain AVX512, where bf16 is emulated and slower
    than fp32, so the instruction sets are asked for by name.
    """
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for probe in probes:
        check = getattr(torch.cpu, probe, None)
        if check is not None:
            try:
                if check():
                    return True
            except RuntimeError:  # pragma: no cover - a probe that cannot run says nothing
                continue
    if all(hasattr(torch.cpu, p) for p in probes):
        return False
    try:  # older torch: the kernel's own flags
        flags = Path("/proc/cpuinfo").read_text(errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class OneEntryCache(Generic[K, V]):
    """Remembers the last value and the key it was made for; live mode repeats the same key."""

    def __init__(self) -> None:
        self._key: K | None = None
        self._value: V | None = None

    def get(self, key: K) -> V | None:
        return self._value if self._value is not None and self._key == key else None

    def put(self, key: K, value: V) -> None:
        self._key, self._value = key, value

    def clear(self) -> None:
        self._key = self._value = None


def image_digest(data: bytes | np.ndarray) -> str:
    """A short digest of bytes or a C-contiguous array (hashed in place, not copied)."""
    buffer = data.data if isinstance(data, np.ndarray) else data  # ndarray.data: a view of its memory
    return hashlib.blake2b(buffer, digest_size=16).hexdigest()


@dataclass
class TinyAutoencoder:
    source: str
    module: Any  # diffusers.AutoencoderTiny

    def encode(self, image: Any) -> Any:
        """Image in [-1, 1] -> latents already in the UNet's (scaled) latent space."""
        return self.module.encode(image.to(self.module.dtype)).latents * self.module.config.scaling_factor

    def decode(self, latents: Any) -> Any:
        """Latents -> image in [-1, 1]."""
        return self.module.decode(latents.to(self.module.dtype) / self.module.config.scaling_factor).sample


def load_tiny_autoencoder(source: str, device: str, dtype: Any) -> TinyAutoencoder:
    """An AutoencoderTiny (TAESD for SD 1/2, TAESDXL for SDXL) from a folder, a Hub id or one .safetensors file."""
    from diffusers import AutoencoderTiny

    from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
    from sketchdiffuse.generation.models import fetch_hub_model, translate_load_error

    ref = ModelRef.parse(source)
    what = f"the tiny autoencoder '{ref.name}'"
    try:
        if ref.kind is SourceKind.FILE:
            from safetensors.torch import load_file

            module: Any = AutoencoderTiny()  # single files carry no config: the TAESD / TAESDXL architecture
            state = load_file(ref.source)
            try:
                missing, unexpected = module.load_state_dict(state, strict=False)
            except RuntimeError as exc:  # same names, other shapes
                missing, unexpected = [str(exc).splitlines()[0]], []
            if missing or unexpected:
                raise ModelError(
                    f"{what} is not an AutoencoderTiny in diffusers layout "
                    f"({len(missing)} weights missing or of another shape, {len(unexpected)} unexpected)."
                )
        else:
            folder = Path(ref.source) if ref.kind is SourceKind.FOLDER else fetch_hub_model(ref.source)
            if not (folder / "config.json").is_file():
                vae = folder / "vae"
                if not (vae / "config.json").is_file():
                    raise ModelNotFoundError(f"{what} has no config.json: choose the folder that holds it.")
                folder = vae
            module = AutoencoderTiny.from_pretrained(folder, local_files_only=True, use_safetensors=True)
    except ModelError:
        raise
    except Exception as exc:
        raise translate_load_error(exc, what) from exc
    module.to(device=device, dtype=dtype).eval()
    return TinyAutoencoder(source, module)
