"""Every result is written to disk as soon as it arrives, so a crash before saving loses no picture.

Files go to ``<results folder>/<date>/<time>-<seed>.png`` with the AUTOMATIC1111 ``parameters``
text and sketchdiffuse's own record, from which the history strip can be rebuilt.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from sketchdiffuse.generation.history_store import StoredEntry, entry_png
from sketchdiffuse.generation.request import GenerationResult
from sketchdiffuse.io.atomic import atomic_writer


def result_path(folder: Path, result: GenerationResult, now: float) -> Path:
    stamp = time.localtime(now)
    name = f"{time.strftime('%H%M%S', stamp)}-{int(now * 1000) % 1000:03d}-{result.seed}.png"
    return folder / time.strftime("%Y-%m-%d", stamp) / name


def save_result(result: GenerationResult, folder: Path) -> GenerationResult:
    """Write ``result`` under ``folder``; the returned result knows its file and bytes. OSError on failure."""
    now = time.time()
    data = entry_png(StoredEntry(result, pinned=False, created=now))
    path = result_path(folder, result, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as handle:
        handle.write(data)
    return replace(result, saved_path=str(path), saved_png=data)
