"""Stable Diffusion generation without Qt; torch and diffusers load only when a model does."""

from sketchdiffuse.generation.engine import CancelToken, Engine, Progress
from sketchdiffuse.generation.errors import GenerationError, ModelError
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
from sketchdiffuse.generation.request import Cancelled, GenerationRequest, GenerationResult, SizePolicy

__all__ = [
    "CancelToken",
    "Cancelled",
    "Engine",
    "GenerationError",
    "GenerationRequest",
    "GenerationResult",
    "ModelError",
    "ModelRef",
    "Progress",
    "SizePolicy",
    "SourceKind",
]
