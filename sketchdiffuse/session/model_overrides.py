"""What the artist said about each model (family, prediction, distillation, native size), kept in the
settings under the model's content fingerprint and applied to every request for that model."""

from __future__ import annotations

import json
from dataclasses import replace

from sketchdiffuse.generation.family_override import FamilyOverride, model_key
from sketchdiffuse.generation.model_ref import ModelRef
from sketchdiffuse.session.settings import Storage

PREFIX = "model_overrides/"


class ModelOverrides:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def get(self, ref: ModelRef) -> FamilyOverride | None:
        raw = self.storage.get(PREFIX + model_key(ref.source))
        try:
            return FamilyOverride.from_mapping(json.loads(str(raw))) if raw else None
        except ValueError:  # damaged by hand: detection decides again
            return None

    def set(self, ref: ModelRef, override: FamilyOverride | None) -> None:
        """Remember ``override`` for this model; None or an empty one forgets it."""
        value = "" if override is None or override.empty else json.dumps(override.as_dict())
        self.storage.set(PREFIX + model_key(ref.source), value)

    def applied(self, ref: ModelRef) -> ModelRef:
        """``ref`` with the override remembered for its model, if any."""
        override = self.get(ref)
        return replace(ref, override=override) if override is not None else ref
