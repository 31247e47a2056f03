"""Brush parameters a tool options bar edits."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class BrushSettings:
    size: float = 12.0  # diameter in pixels at full pressure
    hardness: float = 0.8  # 1 = hard edge, 0 = falloff from the centre
    opacity: float = 1.0  # cap for the whole stroke: overlapping dabs never build above it
    flow: float = 1.0  # how much each dab adds towards the cap
    spacing: float = 0.1  # distance between dabs as a fraction of the diameter
    color: tuple[int, int, int] = (0, 0, 0)
    eraser: bool = False
    pressure_size: bool = True
    pressure_opacity: bool = False
    min_size: float = 0.1  # fraction of size at zero pressure
    smoothing: float = 0.0  # 0 = follow the pen, towards 1 = heavier lag and smoother lines

    def __post_init__(self) -> None:
        if not 0.5 <= self.size <= 2000:
            raise ValueError(f"Brush size must be between 0.5 and 2000 pixels, not {self.size}.")
        for name in ("hardness", "opacity", "flow", "min_size"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Brush {name} must be between 0 and 1, not {value}.")
        if not 0.01 <= self.spacing <= 5.0:
            raise ValueError(f"Brush spacing must be between 0.01 and 5, not {self.spacing}.")
        if not 0.0 <= self.smoothing < 1.0:
            raise ValueError(f"Smoothing must be at least 0 and below 1, not {self.smoothing}.")

    def with_(self, **changes: object) -> BrushSettings:
        return replace(self, **changes)  # type: ignore[arg-type]
