"""Samplers by the names artists know them by."""

from __future__ import annotations

from typing import Any

from sketchdiffuse.generation.errors import InvalidRequestError

# name -> (diffusers class, config overrides)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "use_karras_sigmas": False}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    "DDIM": ("DDIMScheduler", {}),
    "LMS": ("LMSDiscreteScheduler", {}),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "LCM": ("LCMScheduler", {}),
}
SCHEDULER_NAMES = tuple(SCHEDULERS)


def make_scheduler(name: str, base_config: Any) -> Any:
    """A fresh scheduler of kind ``name`` that keeps the model's training schedule (betas, prediction, spacing)."""
    import diffusers

    if name not in SCHEDULERS:
        raise InvalidRequestError(f"Unknown sampler '{name}'; choose one of: {', '.join(SCHEDULER_NAMES)}.")
    class_name, overrides = SCHEDULERS[name]
    cls = getattr(diffusers, class_name)
    return cls.from_config(base_config, **overrides)
