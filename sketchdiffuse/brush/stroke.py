"""A stroke as recorded input: points with pressure and time, replayable and serialisable."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from sketchdiffuse.brush.settings import BrushSettings


@dataclass(frozen=True)
class StrokePoint:
    x: float
    y: float
    pressure: float = 1.0
    time: float = 0.0  # seconds since the stroke began


@dataclass
class StrokeRecord:
    settings: BrushSettings
    points: list[StrokePoint] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"settings": asdict(self.settings), "points": [asdict(p) for p in self.points]})

    @staticmethod
    def from_json(text: str) -> StrokeRecord:
        data = json.loads(text)
        settings = dict(data["settings"])
        settings["color"] = tuple(settings["color"])
        return StrokeRecord(BrushSettings(**settings), [StrokePoint(**p) for p in data["points"]])
