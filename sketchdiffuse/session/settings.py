"""Typed settings: the prompt panel's values and where and how the model runs.

They are stored through a small storage protocol (the window's implementation wraps QSettings;
tests and the command line use a dict). Values are written with their own types, never as
"true"/"false" strings, and read forgivingly: what older releases stored (booleans as text,
numbers as text) still reads, and a damaged or out-of-range value falls back to its default.
The value ranges are the ones GenerationRequest checks (generation/limits.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

from sketchdiffuse.generation.limits import (
    AESTHETIC_SCORE,
    GUIDANCE,
    MAX_SEED,
    REFINER_SWITCH,
    STEPS,
    STRENGTH,
    WORK_SIDE,
)
from sketchdiffuse.generation.request import SizePolicy
from sketchdiffuse.generation.schedulers import SCHEDULER_NAMES
from sketchdiffuse.session.loras import decode_loras, encode_loras

DEFAULT_MODEL = "stabilityai/sd-turbo"
DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "fp16", "bf16", "fp32")


class Storage(Protocol):
    def get(self, key: str) -> object | None: ...
    def set(self, key: str, value: object) -> None: ...


class MemoryStorage:
    """Settings kept in a dict: the command line, tests, and a window whose settings cannot be read."""

    def __init__(self, values: dict[str, object] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, key: str) -> object | None:
        return self.values.get(key)

    def set(self, key: str, value: object) -> None:
        self.values[key] = value


# -- forgiving readers --------------------------------------------------------------------------


def as_bool(raw: object, default: bool) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(raw, str) and raw.strip().lower() in ("false", "0", "no", "off", ""):
        return False
    return default


def as_number(raw: object, default: float, low: float, high: float, whole: bool = False) -> Any:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    if value != value or not low <= value <= high:  # NaN or out of range
        return default
    return int(value) if whole else value


def as_choice(raw: object, default: str, choices: tuple[str, ...]) -> str:
    return str(raw) if str(raw) in choices else default


# -- the two groups -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelValues:
    """What the prompt panel shows; stored under "prompt/"."""

    prompt: str = ""
    negative_prompt: str = ""
    strength: float = 0.6
    steps: int = 20
    guidance_scale: float = 7.0
    seed: int = 0
    seed_locked: bool = False
    scheduler: str = "Euler a"
    model: str = DEFAULT_MODEL
    loras: str = ""  # the LoRA list: JSON [[file, weight], ...] (session/loras.py)

    @classmethod
    def from_mapping(cls, raw: dict[str, object], base: PanelValues | None = None) -> PanelValues:
        """Values from a mapping (stored settings, Reuse settings, a PNG's parameters); missing or
        unusable ones keep ``base``'s."""
        b = base or cls()
        return cls(
            prompt=str(raw["prompt"]) if raw.get("prompt") is not None else b.prompt,
            negative_prompt=str(raw["negative_prompt"])
            if raw.get("negative_prompt") is not None
            else b.negative_prompt,
            strength=as_number(raw.get("strength"), b.strength, *STRENGTH),
            steps=as_number(raw.get("steps"), b.steps, *STEPS, whole=True),
            guidance_scale=as_number(raw.get("guidance_scale"), b.guidance_scale, *GUIDANCE),
            seed=as_number(raw.get("seed"), b.seed, 0, MAX_SEED, whole=True),
            seed_locked=as_bool(raw.get("seed_locked"), b.seed_locked),
            scheduler=as_choice(raw.get("scheduler"), b.scheduler, SCHEDULER_NAMES),
            model=str(raw["model"]) if raw.get("model") else b.model,
            loras=encode_loras(decode_loras(str(raw["loras"]))) if raw.get("loras") is not None else b.loras,
        )

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


EMPTY_FILLS = ("keep", "neighbours", "noise")


@dataclass(frozen=True)
class RunSettings:
    """Where and how the model runs, and the document's safety net; stored under "generation/"."""

    device: str = "auto"
    precision: str = "auto"
    size_policy: SizePolicy = SizePolicy.NATIVE
    cpu_offload: bool = False
    vae_tiling: bool = False
    live_side: int = 384  # 0: live mode works at the normal size
    tiny_autoencoder: str = ""
    autosave_minutes: float = 2.0  # 0: off
    tuning: bool = True  # process tuning for CPU generation (generation/tuning.py)
    refiner: str = ""  # an SDXL refiner finishing SDXL pictures; "" for none
    refiner_switch: float = 0.8  # the fraction of the schedule the base model runs
    aesthetic_score: float = 6.0  # the refiner's conditioning
    negative_aesthetic_score: float = 2.5
    # Memory for the layer projections that keep layer changes on big canvases fast (0: off);
    # 512 MB covers 4096 x 4096, 2 GB 8192 x 8192.
    layer_cache_mb: int = 2048
    # Generating in a selection: the context around it (a share of its size on each side), and what an
    # empty (transparent) part of the drawing becomes first (session/region.py).
    inpaint_padding: float = 0.25
    empty_fill: str = "keep"
    # Memory for ControlNets kept loaded between jobs (generation/auxiliary.py); the least recently used go first.
    auxiliary_mb: int = 4096
    lora_folder: str = ""  # scanned for the LoRAs a prompt's <lora:name:weight> tags name
    ip_adapter: str = ""  # reads the reference images (generation/steering.ip_adapter_location)

    @classmethod
    def from_mapping(cls, raw: dict[str, object]) -> RunSettings:
        d = cls()
        side = as_number(raw.get("live_side"), d.live_side, 0, WORK_SIDE[1], whole=True)
        return cls(
            device=as_choice(raw.get("device"), d.device, DEVICES),
            precision=as_choice(raw.get("precision"), d.precision, PRECISIONS),
            size_policy=SizePolicy(as_choice(raw.get("size_policy"), d.size_policy.value, ("native", "canvas"))),
            cpu_offload=as_bool(raw.get("cpu_offload"), d.cpu_offload),
            vae_tiling=as_bool(raw.get("vae_tiling"), d.vae_tiling),
            live_side=side if side == 0 or side >= WORK_SIDE[0] else d.live_side,
            tiny_autoencoder=str(raw.get("tiny_autoencoder") or "").strip(),
            autosave_minutes=as_number(raw.get("autosave_minutes"), d.autosave_minutes, 0, 24 * 60),
            tuning=as_bool(raw.get("tuning"), d.tuning),
            refiner=str(raw.get("refiner") or "").strip(),
            refiner_switch=as_number(raw.get("refiner_switch"), d.refiner_switch, *REFINER_SWITCH),
            aesthetic_score=as_number(raw.get("aesthetic_score"), d.aesthetic_score, *AESTHETIC_SCORE),
            negative_aesthetic_score=as_number(
                raw.get("negative_aesthetic_score"), d.negative_aesthetic_score, *AESTHETIC_SCORE
            ),
            layer_cache_mb=as_number(raw.get("layer_cache_mb"), d.layer_cache_mb, 0, 65536, whole=True),
            inpaint_padding=as_number(raw.get("inpaint_padding"), d.inpaint_padding, 0.0, 2.0),
            empty_fill=as_choice(raw.get("empty_fill"), d.empty_fill, EMPTY_FILLS),
            auxiliary_mb=as_number(raw.get("auxiliary_mb"), d.auxiliary_mb, 0, 1 << 20, whole=True),
            lora_folder=str(raw.get("lora_folder") or "").strip(),
            ip_adapter=str(raw.get("ip_adapter") or "").strip(),
        )

    def as_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["size_policy"] = self.size_policy.value
        return values

    def with_(self, **changes: object) -> RunSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _read(storage: Storage, prefix: str, names: list[str]) -> dict[str, object]:
    values = {}
    for name in names:
        raw = storage.get(f"{prefix}/{name}")
        if raw is not None:
            values[name] = raw
    return values


def read_panel(storage: Storage) -> PanelValues:
    return PanelValues.from_mapping(_read(storage, "prompt", [f.name for f in fields(PanelValues)]))


def write_panel(storage: Storage, values: PanelValues) -> None:
    for key, value in values.as_dict().items():
        storage.set(f"prompt/{key}", value)


def read_run(storage: Storage) -> RunSettings:
    return RunSettings.from_mapping(_read(storage, "generation", [f.name for f in fields(RunSettings)]))


def write_run(storage: Storage, settings: RunSettings) -> None:
    for key, value in settings.as_dict().items():
        storage.set(f"generation/{key}", value)
