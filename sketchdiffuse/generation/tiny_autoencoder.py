"""The tiny autoencoder (TAESD / TAESDXL): a fast, rougher VAE for live mode and progress previews.

torch and diffusers are imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sketchdiffuse.generation.errors import ModelError, ModelNotFoundError
from sketchdiffuse.generation.hub import fetch_hub_model
from sketchdiffuse.generation.load_errors import translate_load_error
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind


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
