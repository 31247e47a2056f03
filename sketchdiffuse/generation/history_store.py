"""The history strip inside a project file: one PNG per result (with its parameters) and a JSON index.

Stored under the .ora's ``sketchdiffuse/`` folder, which other programs ignore. The sketch a
result was made from is not stored; everything else needed to show, reuse and apply it is.
"""

from __future__ import annotations

import io
import json
import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from sketchdiffuse.generation.controls import Lora
from sketchdiffuse.generation.metadata import png_text
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
from sketchdiffuse.generation.request import GenerationRequest, GenerationResult, ModelIdentity
from sketchdiffuse.io.errors import ImageImportError
from sketchdiffuse.io.images import encode_png, open_image
from sketchdiffuse.io.pixels import flatten_on

log = logging.getLogger(__name__)

INDEX = "history/index.json"
SETTINGS = "settings.json"
VERSION = 1  # of history/index.json
SETTINGS_VERSION = 2  # of settings.json: 2 wraps the panel's values ({"version", "panel"}); 0.1 wrote them bare


@dataclass(eq=False)  # identity: results hold arrays, which have no single truth value
class StoredEntry:
    result: GenerationResult
    pinned: bool
    created: float
    png: bytes | None = field(default=None, repr=False)  # encoded once, reused by every save

    def encoded(self) -> bytes:
        if self.png is None:
            self.png = entry_png(self)
        return self.png


RECORD_KEY = "sketchdiffuse"  # PNG text chunk with the full record, next to the A1111 ``parameters``


def entry_png(entry: StoredEntry) -> bytes:
    """The result as a PNG that carries its A1111 parameters and the record the history is rebuilt from."""
    text = png_text(entry.result) | {RECORD_KEY: json.dumps(_record(entry, ""), ensure_ascii=False)}
    return encode_png(Image.fromarray(entry.result.image, "RGB"), text, compress_level=3)


def entry_from_png(data: bytes) -> StoredEntry:
    """A history entry from a PNG written by ``entry_png`` (the results folder, a project's history).

    Raises ValueError when the PNG carries no sketchdiffuse record.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            text = dict(getattr(image, "text", {}))
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"not a readable PNG ({exc})") from exc
    if RECORD_KEY not in text:
        raise ValueError("the image carries no sketchdiffuse generation record")
    try:
        return _entry(json.loads(text[RECORD_KEY]), data)
    except (KeyError, TypeError, AttributeError, ImageImportError) as exc:
        raise ValueError(f"its sketchdiffuse record is damaged ({exc})") from exc


def _record(entry: StoredEntry, name: str) -> dict[str, Any]:
    r, res = entry.result.request, entry.result
    return (
        {
            "file": name,
            "prompt": r.prompt,
            "negative_prompt": r.negative_prompt,
            "strength": r.strength,
            "steps": r.steps,
            "guidance_scale": r.guidance_scale,
            "scheduler": r.scheduler,
            "size_policy": r.size_policy.value,
            "seed": res.seed,
            "steps_run": res.steps_run,
            "total_steps": res.total_steps,
            "seconds": res.timings.get("total", 0.0),
            "model": {
                "source": r.model.source,
                "kind": r.model.kind.value,
                "device": r.model.device,
                "precision": r.model.precision,
                "name": res.model.name,
                "hash": res.model.short_hash,
                "family": res.model.family,
            },
            "work_size": [res.width, res.height],
            "server": res.server,
            "pinned": entry.pinned,
            "created": entry.created,
        }
        | _refiner_record(entry.result)
        | _region_record(entry.result, name)
        | _steering_record(entry.result)
    )


def _steering_record(result: GenerationResult) -> dict[str, Any]:
    """LoRAs (restored with the entry) and controls (kept as a record: their images are not stored)."""
    r = result.request
    out: dict[str, Any] = {}
    if r.loras:
        out["loras"] = [{"path": lora.path, "weight": lora.weight} for lora in r.loras]
    if r.controls:
        out["controls"] = [
            {"kind": c.kind.value, "model": c.model, "strength": c.strength, "start": c.start, "end": c.end}
            for c in r.controls
        ]
    return out


def _mask_name(name: str) -> str:
    return name.removesuffix(".png") + "-mask.png"


def _region_record(result: GenerationResult, name: str) -> dict[str, Any]:
    """Where a result made in a selection goes, and its mask (a grey PNG beside the picture)."""
    r = result.request
    if r.region is None or r.mask is None:
        return {}
    frame = {"region_frame": list(r.region_frame)} if r.region_frame is not None else {}
    return {"region": list(r.region), "mask": _mask_name(name)} | frame


def _mask_png(mask: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(mask, "L").save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _refiner_record(result: GenerationResult) -> dict[str, Any]:
    r = result.request
    if r.refiner is None:
        return {}
    identity = result.refiner or ModelIdentity(r.refiner.name, "", "")
    return {
        "refiner": {
            "source": r.refiner.source,
            "kind": r.refiner.kind.value,
            "name": identity.name,
            "hash": identity.short_hash,
            "family": identity.family,
        },
        "refiner_switch": r.refiner_switch,
    }


def encode_history(entries: list[StoredEntry], settings: dict[str, Any] | None = None) -> dict[str, bytes]:
    """Extras for io.ora.write_ora (names relative to its ``sketchdiffuse/`` folder); newest first."""
    out: dict[str, bytes] = {}
    records = []
    for i, entry in enumerate(entries):
        name = f"history/{i:04d}.png"
        out[name] = entry.encoded()
        records.append(_record(entry, name))
        if "mask" in records[-1]:
            out[records[-1]["mask"]] = _mask_png(entry.result.request.mask)  # type: ignore[arg-type]
    out[INDEX] = json.dumps({"version": VERSION, "entries": records}, ensure_ascii=False, indent=1).encode()
    if settings is not None:
        out[SETTINGS] = json.dumps({"version": SETTINGS_VERSION, "panel": settings}, ensure_ascii=False).encode()
    return out


def decode_history(extras: dict[str, bytes]) -> tuple[list[StoredEntry], dict[str, Any], list[str]]:
    """Entries, saved panel settings and warnings; a damaged entry is skipped, never fatal."""
    warnings: list[str] = []
    settings: dict[str, Any] = {}
    if SETTINGS in extras:
        try:
            loaded = json.loads(extras[SETTINGS])
            if isinstance(loaded, dict) and isinstance(loaded.get("version"), int):
                if loaded["version"] > SETTINGS_VERSION:
                    warnings.append(
                        "The project was saved by a newer sketchdiffuse; some panel settings may be ignored."
                    )
                panel = loaded.get("panel")
                settings = panel if isinstance(panel, dict) else {}
            else:  # release 0.1 stored the panel's values as they were, without a version
                settings = loaded if isinstance(loaded, dict) else {}
        except (ValueError, UnicodeDecodeError):
            warnings.append("The saved generation settings are damaged and were ignored.")
    if INDEX not in extras:
        return [], settings, warnings
    try:
        index = json.loads(extras[INDEX])
        records = index["entries"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return [], settings, [*warnings, "The saved history is damaged and was not loaded."]
    if isinstance(index.get("version"), int) and index["version"] > VERSION:
        warnings.append("The history was saved by a newer sketchdiffuse; entries it cannot read are skipped.")
    entries = []
    for record in records:
        try:
            entries.append(_entry(record, extras[record["file"]], extras.get(str(record.get("mask")))))
        except (KeyError, IndexError, TypeError, ValueError, ImageImportError) as exc:
            log.warning("skipping a damaged history entry: %s", exc)
            warnings.append("A damaged history entry was skipped.")
    return entries, settings, warnings


def _frame_of(raw: object) -> tuple[float, float, float, float] | None:
    """A stored region frame: four finite numbers with positive scales, else none (the entry then applies
    at the coordinates it was made at)."""
    if not isinstance(raw, list) or len(raw) != 4:
        return None
    try:
        sx, sy, tx, ty = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (sx, sy, tx, ty)) or sx <= 0 or sy <= 0:
        return None
    return sx, sy, tx, ty


def _entry(record: dict[str, Any], data: bytes, mask_png: bytes | None = None) -> StoredEntry:
    image = flatten_on(open_image(data).pixels)
    area = record.get("region")
    mask, region = None, None
    if area is not None and mask_png is not None:
        with Image.open(io.BytesIO(mask_png)) as grey:
            mask = np.asarray(grey.convert("L")).copy()
        region = (int(area[0]), int(area[1]), int(area[2]), int(area[3]))
    region_frame = _frame_of(record.get("region_frame"))
    m = record["model"]
    ref = ModelRef(m["source"], SourceKind(m["kind"]), m.get("device", "auto"), m.get("precision", "auto"))
    if ref.kind is SourceKind.SERVER:  # Reuse on this entry asks the same server again
        ref = replace(ref, server=str(record.get("server") or ""))
    refiner = record.get("refiner")
    refiner_ref = (
        ModelRef(refiner["source"], SourceKind(refiner["kind"]), ref.device, ref.precision) if refiner else None
    )
    request = GenerationRequest(
        refiner=refiner_ref,
        refiner_switch=float(record.get("refiner_switch", 0.8)),
        prompt=record["prompt"],
        negative_prompt=record["negative_prompt"],
        model=ref,
        strength=float(record["strength"]),
        steps=int(record["steps"]),
        guidance_scale=float(record["guidance_scale"]),
        seed=int(record["seed"]),
        scheduler=record["scheduler"],
        region=region,
        region_frame=region_frame if region is not None else None,
        loras=tuple(Lora(str(x["path"]), float(x["weight"])) for x in record.get("loras", [])),
        mask=mask,
    )
    w, h = record.get("work_size", [image.shape[1], image.shape[0]])
    result = GenerationResult(
        image,
        request,
        int(record["seed"]),
        int(record["steps_run"]),
        int(record["total_steps"]),
        {"total": float(record.get("seconds", 0.0))},
        ModelIdentity(m["name"], m["hash"], m["family"]),
        int(w),
        int(h),
        refiner=ModelIdentity(refiner["name"], refiner["hash"], refiner["family"]) if refiner else None,
        server=str(record["server"]) if record.get("server") else None,
    )
    return StoredEntry(result, bool(record.get("pinned")), float(record.get("created", 0.0)), data)
