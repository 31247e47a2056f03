"""What a backend can use: the names to give as a model, a LoRA or a ControlNet (Backend.available_models)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelLists:
    checkpoints: list[str]
    loras: list[str]
    controlnets: list[str]
    style_models: list[str] = field(default_factory=list)  # T2I style adapters (references on a server)
    clip_vision: list[str] = field(default_factory=list)  # image encoders for them
