"""A library's loading failure as one sentence an artist can act on."""

from __future__ import annotations

from sketchdiffuse.generation.errors import (
    CorruptWeightsError,
    ModelError,
    NotAStableDiffusionModelError,
    OutOfMemoryError,
    UnsupportedModelFileError,
)


def translate_load_error(exc: BaseException, what: str) -> ModelError | OutOfMemoryError:
    """A library's loading failure as one sentence about ``what`` (a model, a tiny autoencoder)."""
    text = str(exc)
    lowered = text.lower()
    if "out of memory" in lowered or isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return OutOfMemoryError(
            f"There is not enough memory to load {what}. Close other programs, choose lower precision "
            "(fp16) or CPU offload in the settings, or use a smaller model."
        )
    if "deserializ" in lowered or "safetensor" in lowered or "header" in lowered or "incomplete" in lowered:
        return CorruptWeightsError(f"The weights of {what} are damaged or incomplete ({text.splitlines()[0]}).")
    if "size mismatch" in lowered or "shape" in lowered:
        return NotAStableDiffusionModelError(
            f"The weights of {what} do not fit its architecture ({text.splitlines()[0][:200]})."
        )
    if "safetensors weights" in lowered or "no file named" in lowered or "does not appear to have" in lowered:
        return UnsupportedModelFileError(
            f"{what} has no .safetensors weights (only pickle files, which sketchdiffuse does not open) "
            f"or is missing files: {text.splitlines()[0][:200]}"
        )
    return ModelError(f"{what} could not be loaded: {text.splitlines()[0][:300] if text else type(exc).__name__}")
