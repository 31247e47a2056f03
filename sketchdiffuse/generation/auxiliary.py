"""Models loaded beside the base model (ControlNets) kept within a memory budget.

Switching a control off and on again, or between two controls, should not load a ControlNet each time;
holding every ControlNet ever used would fill the GPU. The least recently used ones are released first
when the budget is exceeded, and the caller hears which (a status message)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sketchdiffuse.generation.errors import ModelError
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind

DEFAULT_BUDGET = 4 << 30  # bytes: a few SD 1.5 ControlNets (1.4 GB each in fp32) or one SDXL one


def module_bytes(module: Any) -> int:
    return sum(p.numel() * p.element_size() for p in module.parameters())


class AuxiliaryModels:
    """``get(key, load)``: the module kept for ``key``, loaded by ``load`` when missing; over the budget the
    least recently used others are released (never the one just asked for)."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET, on_release: Callable[[str], None] | None = None) -> None:
        self.budget_bytes = budget_bytes
        self.on_release = on_release
        self._kept: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self._job: set[tuple[Any, ...]] = set()  # asked for by the job in progress: never released for another

    def begin_job(self) -> None:
        """A new job: what the last one used may be released again."""
        self._job.clear()

    @property
    def nbytes(self) -> int:
        return sum(size for _, size in self._kept.values())

    def kept(self) -> list[tuple[Any, ...]]:
        return list(self._kept)

    def get(self, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
        self._job.add(key)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key][0]
        module = load()
        self._kept[key] = (module, module_bytes(module))
        self._trim()
        return module

    def _trim(self) -> None:
        """Release the least recently used models the job in progress does not use, while over the budget
        (a job that needs more than the budget keeps all it needs: releasing them would reload every job)."""
        while self.nbytes > self.budget_bytes:
            oldest = next((k for k in self._kept if k not in self._job), None)
            if oldest is None:
                return
            del self._kept[oldest]
            if self.on_release is not None:
                self.on_release(f"Released {oldest[1]} to stay within the memory budget for extra models.")

    def clear(self) -> None:
        self._kept.clear()
        self._job.clear()


def load_controlnet(source: str, device: str, dtype: Any) -> Any:
    """A ControlNetModel from a Hub id, a diffusers folder or a single .safetensors file, on the base model's
    device and dtype; every failure is a ModelError with a sentence saying what to do."""
    from diffusers import ControlNetModel

    try:
        ref = ModelRef.parse(source)
    except Exception as exc:
        raise ModelError(f"The ControlNet '{source}' cannot be found ({exc}).") from exc
    try:
        if ref.kind is SourceKind.FILE:
            model = ControlNetModel.from_single_file(ref.source, torch_dtype=dtype)
        elif ref.kind is SourceKind.FOLDER:
            if not (Path(ref.source) / "config.json").is_file():
                raise ModelError(
                    f"'{ref.name}' has no config.json, so it is not a ControlNet folder; choose the folder that "
                    "holds config.json and diffusion_pytorch_model.safetensors."
                )
            model = ControlNetModel.from_pretrained(ref.source, torch_dtype=dtype)
        else:
            model = ControlNetModel.from_pretrained(ref.source, torch_dtype=dtype)
    except ModelError:
        raise
    except Exception as exc:  # diffusers raises many kinds; one sentence for the artist
        raise ModelError(
            f"'{ref.name}' could not be loaded as a ControlNet ({type(exc).__name__}: {exc}). "
            "Choose a ControlNet model made for the loaded Stable Diffusion version."
        ) from exc
    return model.to(device)
