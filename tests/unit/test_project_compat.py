"""Files written by earlier releases still open: projects (layers, history, panel settings) and stored settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.generation.history_store import decode_history
from sketchdiffuse.io.ora import read_ora
from sketchdiffuse.session.settings import PanelValues, read_panel, read_run

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("name", ["release-0.1"])
def test_a_project_saved_by_an_earlier_release_opens_whole(name: str):
    contents = read_ora(DATA / "projects" / f"{name}.ora")
    doc = contents.document
    assert [ly.name for ly in doc.layers] == ["Background", "Ink"] and doc.active_index == 1
    ink = doc.layers[1]
    assert (ink.opacity, ink.blend_mode) == (0.75, BlendMode.MULTIPLY)
    assert tuple(ink.pixels[5, 10]) == (0, 0, 128, 128) and ink.pixels[20, 40, 3] == 0
    entries, settings, warnings = decode_history(contents.extras)
    assert warnings == []
    (entry,) = entries
    assert entry.pinned and entry.result.seed == 4_000_000_000
    assert entry.result.request.prompt == "a lighthouse, (dusk:1.2)" and entry.result.request.steps == 4
    assert np.array_equal(entry.result.image[0, :, 0], np.arange(48, dtype=np.uint8) * 5)
    panel = PanelValues.from_mapping(settings)
    assert (panel.prompt, panel.steps, panel.seed, panel.seed_locked) == ("a lighthouse", 4, 3_000_000_000, True)


def test_settings_stored_by_an_earlier_release_still_read():
    from PySide6.QtCore import QSettings

    from sketchdiffuse.qt.settings_storage import QSettingsStorage

    storage = QSettingsStorage(QSettings(str(DATA / "settings" / "release-0.1.ini"), QSettings.Format.IniFormat))
    panel, run = read_panel(storage), read_run(storage)
    assert (panel.prompt, panel.strength, panel.steps, panel.guidance_scale) == ("a castle", 0.35, 9, 1.5)
    assert (panel.seed, panel.seed_locked, panel.scheduler) == (3_000_000_000, True, "DPM++ 2M Karras")
    assert (run.device, run.precision, run.size_policy.value) == ("cpu", "bf16", "canvas")
    assert (run.cpu_offload, run.vae_tiling, run.live_side, run.autosave_minutes) == (False, True, 256, 5.0)
    assert run.tiny_autoencoder == "madebyollin/taesd"


def test_the_current_extras_carry_versions_and_read_back(tmp_path: Path):
    import json

    from sketchdiffuse.generation.history_store import SETTINGS_VERSION, VERSION, encode_history

    extras = encode_history([], {"prompt": "a cat", "steps": 3})
    assert json.loads(extras["settings.json"])["version"] == SETTINGS_VERSION
    assert json.loads(extras["history/index.json"])["version"] == VERSION
    _, settings, warnings = decode_history(extras)
    assert settings == {"prompt": "a cat", "steps": 3} and warnings == []


def test_extras_from_a_newer_release_are_read_with_a_warning():
    import json

    newer = {"settings.json": json.dumps({"version": 99, "panel": {"prompt": "x"}}).encode()}
    _, settings, warnings = decode_history(newer)
    assert settings == {"prompt": "x"} and "newer sketchdiffuse" in warnings[0]
