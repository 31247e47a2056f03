"""What the artist says about a model when detection is wrong or cannot tell: its family, prediction
type, distillation and native size. Kept per model by a content fingerprint (model_key), so a file
keeps its settings when it is renamed or moved."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sketchdiffuse.generation.family import Family, with_distillation

# The shipped config folders a single file can be loaded into, as the chooser names them.
BASES: dict[str, Family] = {
    "sd1": Family("sd", "SD 1.x", 512, config="sd1"),
    "sd2-512": Family("sd", "SD 2.x", 512, config="sd2-512"),
    "sd2-768-v": Family("sd", "SD 2.x", 768, "v_prediction", config="sd2-768-v"),
    "sdxl": Family("sdxl", "SDXL", 1024, config="sdxl"),
    "sdxl-refiner": Family("sdxl", "SDXL refiner", 1024, config="sdxl-refiner", refiner=True),
}
PREDICTIONS = ("", "epsilon", "v_prediction")
DISTILLATIONS = ("", "none", "turbo", "lcm", "lightning")
SAMPLE = 1 << 20  # bytes read at three places of a file for its fingerprint


@dataclass(frozen=True)
class FamilyOverride:
    """Empty fields keep what detection found."""

    base: str = ""  # a key of BASES
    prediction: str = ""  # "epsilon" or "v_prediction"
    distilled: str = ""  # "none", "turbo", "lcm" or "lightning"
    native_size: int = 0  # pixels on the longer side; 0 keeps the family's

    def __post_init__(self) -> None:
        if self.base not in ("", *BASES) or self.prediction not in PREDICTIONS:
            raise ValueError(f"unknown model family or prediction: {self.base!r}, {self.prediction!r}")
        if self.distilled not in DISTILLATIONS or not (self.native_size == 0 or 64 <= self.native_size <= 4096):
            raise ValueError(f"unknown distillation or size: {self.distilled!r}, {self.native_size}")

    @property
    def empty(self) -> bool:
        return self == FamilyOverride()

    def apply(self, detected: Family | None) -> Family:
        """``detected`` changed as the artist said; raises ValueError when nothing was detected and no
        family is given."""
        family = BASES[self.base] if self.base else detected
        if family is None:
            raise ValueError("no family")
        if self.base and detected is not None:
            # The SD 2.x choices name their prediction; the others keep what the file says (an SDXL
            # v-prediction file stays v-prediction when only its family is corrected).
            prediction = family.prediction if self.base.startswith("sd2") else detected.prediction
            family = replace(family, inpaint=detected.inpaint, zero_snr=detected.zero_snr, prediction=prediction)
        if self.prediction:
            family = replace(family, prediction=self.prediction)
        if family.prediction != "v_prediction":
            family = replace(family, zero_snr=False)  # zero terminal SNR only with v-prediction
        if self.distilled == "none":
            family = replace(
                family, distilled="", default_steps=20, default_guidance=7.0, default_scheduler="DPM++ 2M Karras"
            )
        elif self.distilled:
            family = with_distillation(family, self.distilled)
        elif self.base and detected is not None and detected.distilled:
            family = with_distillation(family, detected.distilled)
        if self.native_size:
            family = replace(family, native_size=self.native_size)
        return replace(family, label=family.label + " (set by you)")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_mapping(cls, raw: object) -> FamilyOverride | None:
        """None for anything that is not a valid stored override."""
        if not isinstance(raw, dict):
            return None
        try:
            return cls(
                base=str(raw.get("base", "")),
                prediction=str(raw.get("prediction", "")),
                distilled=str(raw.get("distilled", "")),
                native_size=int(raw.get("native_size", 0)),
            )
        except (TypeError, ValueError):
            return None


_keys: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> fingerprint: every request asks


def model_key(source: str) -> str:
    """A fingerprint of a model's content: a file's size and three 1 MB samples (start, middle, end); a
    folder's config files and weight-file sizes; a Hub id as it is. Kept per path, size and time of the
    file (a folder's model_index.json), so live mode's requests read nothing once it is known."""
    path = Path(source)
    marker = path / "model_index.json" if path.is_dir() else path
    try:
        stat = marker.stat()
    except OSError:
        return _fingerprint(path, source)
    cache_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if cache_key not in _keys:
        _keys[cache_key] = _fingerprint(path, source)
    return _keys[cache_key]


def _fingerprint(path: Path, source: str) -> str:
    digest = hashlib.sha256()
    if path.is_file():
        size = path.stat().st_size
        digest.update(str(size).encode())
        with path.open("rb") as handle:
            for offset in (0, max(0, size // 2 - SAMPLE // 2), max(0, size - SAMPLE)):
                handle.seek(offset)
                digest.update(handle.read(SAMPLE))
    elif path.is_dir():
        for item in sorted(path.rglob("*")):
            if item.suffix == ".json":
                digest.update(item.relative_to(path).as_posix().encode() + item.read_bytes())
            elif item.suffix in (".safetensors", ".bin"):
                digest.update(f"{item.relative_to(path).as_posix()}:{item.stat().st_size}".encode())
    else:
        digest.update(source.encode())
    return digest.hexdigest()[:16]
