"""Typed settings: ranges shared with the request, forgiving reads of what older releases stored."""

from __future__ import annotations

import pytest

from sketchdiffuse.generation.request import SizePolicy
from sketchdiffuse.session.settings import (
    MemoryStorage,
    PanelValues,
    RunSettings,
    read_panel,
    read_run,
    write_panel,
    write_run,
)


def test_values_round_trip_with_their_own_types():
    storage = MemoryStorage()
    panel = PanelValues(prompt="a castle", strength=0.35, steps=9, seed=4_000_000_000, seed_locked=True)
    run = RunSettings(device="cpu", cpu_offload=True, live_side=0, autosave_minutes=5.0)
    write_panel(storage, panel)
    write_run(storage, run)
    assert read_panel(storage) == panel and read_run(storage) == run
    assert storage.values["prompt/seed_locked"] is True and storage.values["generation/cpu_offload"] is True


def test_what_the_previous_release_stored_still_reads():
    """It stored booleans as "true"/"false" text and (through QSettings' INI files) numbers as text."""
    stored = {
        "prompt/seed": "3000000000",
        "prompt/seed_locked": "true",
        "prompt/strength": "0.45",
        "prompt/steps": "12",
        "prompt/scheduler": "DPM++ 2M Karras",
        "generation/cpu_offload": "false",
        "generation/vae_tiling": "true",
        "generation/live_side": "256",
        "generation/size_policy": "canvas",
        "generation/autosave_minutes": "1",
    }
    panel, run = read_panel(MemoryStorage(stored)), read_run(MemoryStorage(stored))
    assert (panel.seed, panel.seed_locked, panel.strength, panel.steps) == (3_000_000_000, True, 0.45, 12)
    assert panel.scheduler == "DPM++ 2M Karras"
    assert (run.cpu_offload, run.vae_tiling, run.live_side, run.autosave_minutes) == (False, True, 256, 1.0)
    assert run.size_policy is SizePolicy.CANVAS


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("prompt/steps", "0"),
        ("prompt/steps", "501"),
        ("prompt/strength", "1.5"),
        ("prompt/seed", str(2**32)),
        ("prompt/guidance_scale", "nan"),
        ("prompt/scheduler", "Heun"),
        ("generation/device", "tpu"),
        ("generation/live_side", "3"),
        ("generation/autosave_minutes", "soon"),
        ("generation/layer_cache_mb", "-5"),
        ("generation/refiner_switch", "1.5"),
    ],
)
def test_a_damaged_or_out_of_range_value_falls_back_to_its_default(key: str, raw: str):
    storage = MemoryStorage({key: raw})
    assert read_panel(storage) == PanelValues() and read_run(storage) == RunSettings()


def test_partial_values_keep_the_rest():
    base = PanelValues(prompt="kept", steps=30)
    changed = PanelValues.from_mapping({"steps": 4, "seed": 4_000_000_000}, base)
    assert (changed.prompt, changed.steps, changed.seed) == ("kept", 4, 4_000_000_000)
