"""Writes tests/data/projects/*.ora with the current release's writer: projects an artist saved,
kept so that every later release is tested on opening them (tests/unit/test_project_compat.py).

Run once per file-format change, before the change: python tools/make_project_fixtures.py NAME
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.document import Document
from sketchdiffuse.generation.history_store import StoredEntry, encode_history
from sketchdiffuse.generation.model_ref import ModelRef
from sketchdiffuse.generation.request import GenerationRequest, GenerationResult, ModelIdentity
from sketchdiffuse.io.ora import write_ora

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "projects"


def project() -> tuple[Document, dict[str, bytes]]:
    doc = Document(48, 32)
    doc.layers[0].pixels[:] = 255
    ink = doc.new_layer("Ink")
    ink.pixels[4:12, 6:30] = (0, 0, 128, 128)  # premultiplied: half-transparent blue
    ink.opacity, ink.blend_mode = 0.75, BlendMode.MULTIPLY
    doc.layers.append(ink)
    doc.active_index = 1
    image = np.zeros((32, 48, 3), np.uint8)
    image[:, :, 0] = np.arange(48, dtype=np.uint8)[None, :] * 5
    request = GenerationRequest(
        "a lighthouse, (dusk:1.2)", ModelRef.parse("stabilityai/sd-turbo"), None, "blurry", 0.55, 4, 1.5, 4_000_000_000
    )
    result = GenerationResult(
        image, request, 4_000_000_000, 2, 4, {"total": 1.5}, ModelIdentity("sd-turbo", "0123456789", "SD 2.x"), 48, 32
    )
    entries = [StoredEntry(result, True, 1_790_000_000.0)]
    panel = {"prompt": "a lighthouse", "steps": 4, "seed": 3_000_000_000, "seed_locked": True, "strength": 0.55}
    return doc, encode_history(entries, panel)


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else "release-0.1"
    doc, extras = project()
    OUT.mkdir(parents=True, exist_ok=True)
    write_ora(doc, OUT / f"{name}.ora", extras)
    print(f"wrote {OUT / f'{name}.ora'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
