"""ControlNet settings read back from a picture's AUTOMATIC1111 ``parameters`` (``ControlNet 0: "Module: scribble,
Model: control_v11p_sd15_scribble, Weight: 0.8, Guidance Start: 0, Guidance End: 1"``): they are given to the
document's control layers of the same kind, in order, since a control's picture is a layer."""

from __future__ import annotations

import re
from dataclasses import replace

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.control_role import CONTROL_KINDS
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.errors import DocumentError

_UNIT = re.compile(r"ControlNet \d+")
_FIELDS = {"Module": "kind", "Model": "model", "Weight": "strength", "Guidance Start": "start", "Guidance End": "end"}


def parsed_controls(settings: dict[str, str]) -> list[dict[str, str]]:
    """The ControlNet units of a parameters text, in their order; units of kinds sketchdiffuse has not are left."""
    units = []
    for key in sorted((k for k in settings if _UNIT.fullmatch(k)), key=lambda k: int(k.split()[1])):
        fields = {}
        for part in settings[key].split(","):
            name, _, value = part.partition(":")
            if name.strip() in _FIELDS:
                fields[_FIELDS[name.strip()]] = value.strip()
        if fields.get("kind") in CONTROL_KINDS:
            units.append(fields)
    return units


def restore_controls(doc: Document, units: list[dict[str, str]]) -> tuple[list[cmd.SetLayerProperty], int]:
    """Commands giving each unit's strength and schedule to the next control layer of its kind (the layer keeps
    its ControlNet: the text names only a file, the layer knows where it is); and how many units found none."""
    changes, missing = [], 0
    taken: set[int] = set()
    for unit in units:
        index = next(
            (
                i
                for i, layer in enumerate(doc.layers)
                if i not in taken and layer.control is not None and layer.control.kind == unit["kind"]
            ),
            None,
        )
        if index is None:
            missing += 1
            continue
        taken.add(index)
        role = doc.layers[index].control
        assert role is not None
        try:
            restored = replace(
                role,
                strength=float(unit.get("strength", role.strength)),
                start=float(unit.get("start", role.start)),
                end=float(unit.get("end", role.end)),
            )
        except (ValueError, DocumentError):
            missing += 1  # numbers that are no control settings: the layer keeps its own
            continue
        if restored != role:
            changes.append(cmd.set_layer_property(doc, index, "control", restored))
    return changes, missing
