"""What the artist says about a model: applied over detection, kept by the model's content."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.generation.family import Family, with_distillation
from sketchdiffuse.generation.family_override import BASES, FamilyOverride, model_key
from sketchdiffuse.generation.model_ref import ModelRef
from sketchdiffuse.session.model_overrides import ModelOverrides
from sketchdiffuse.session.settings import MemoryStorage

SD2 = Family("sd", "SD 2.x", 512, config="sd2-512")


def test_an_override_changes_only_what_it_names():
    assert FamilyOverride().empty
    v = FamilyOverride(prediction="v_prediction").apply(SD2)
    assert (v.kind, v.native_size, v.prediction, v.config) == ("sd", 512, "v_prediction", "sd2-512")
    assert v.label == "SD 2.x (set by you)"
    turbo = FamilyOverride(distilled="turbo", native_size=640).apply(SD2)
    assert (turbo.distilled, turbo.default_steps, turbo.native_size) == ("turbo", 2, 640)
    undistilled = FamilyOverride(distilled="none").apply(with_distillation(SD2, "lcm"))
    assert (undistilled.distilled, undistilled.default_steps) == ("", 20)
    xl = FamilyOverride(base="sdxl").apply(None)  # detection could not tell: the artist's family alone
    assert (xl.kind, xl.config, xl.native_size) == ("sdxl", "sdxl", 1024)
    kept = FamilyOverride(base="sd1").apply(with_distillation(SD2, "turbo"))
    assert kept.config == "sd1" and kept.distilled == "turbo"  # a name-detected distillation survives
    with pytest.raises(ValueError):
        FamilyOverride().apply(None)
    for bad in ({"base": "sd3"}, {"prediction": "flow"}, {"distilled": "x"}, {"native_size": 10}):
        with pytest.raises(ValueError):
            FamilyOverride(**bad)  # type: ignore[arg-type]
    assert set(BASES) == {"sd1", "sd2-512", "sd2-768-v", "sdxl", "sdxl-refiner"}


def test_overrides_follow_the_content_not_the_name(tmp_path: Path):
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"weights" * 400_000)  # 2.8 MB: three distinct samples
    storage = MemoryStorage()
    overrides = ModelOverrides(storage)
    override = FamilyOverride(base="sd2-768-v", native_size=704)
    overrides.set(ModelRef.parse(str(model)), override)
    moved = tmp_path / "moved" / "renamed.safetensors"
    moved.parent.mkdir()
    shutil.move(model, moved)
    ref = overrides.applied(ModelRef.parse(str(moved)))
    assert ref.override == override
    other = tmp_path / "other.safetensors"
    other.write_bytes(b"weights" * 399_999 + b"changed")
    assert overrides.get(ModelRef.parse(str(other))) is None
    overrides.set(ModelRef.parse(str(moved)), FamilyOverride())  # empty: forgotten
    assert overrides.get(ModelRef.parse(str(moved))) is None
    storage.values[next(iter(storage.values))] = "{not json"  # damaged by hand: detection decides
    assert overrides.get(ModelRef.parse(str(moved))) is None
    assert model_key("stabilityai/sd-turbo") == model_key("stabilityai/sd-turbo") != model_key("other/model")


def test_correcting_the_family_keeps_what_the_file_says_about_prediction():
    vpred = Family("sdxl", "SDXL", 1024, "v_prediction", config="sdxl", zero_snr=True)
    kept = FamilyOverride(base="sdxl-refiner").apply(vpred)
    assert (kept.prediction, kept.zero_snr) == ("v_prediction", True)
    sd2 = FamilyOverride(base="sd2-512").apply(vpred)  # an SD 2.x choice names its prediction
    assert (sd2.prediction, sd2.zero_snr) == ("epsilon", False)
    eps = FamilyOverride(prediction="epsilon").apply(vpred)
    assert (eps.prediction, eps.zero_snr) == ("epsilon", False)  # zero terminal SNR only with v


def test_the_refiner_runs_as_the_base_does_and_a_refined_picture_uses_the_full_vae(tmp_path: Path):
    from sketchdiffuse.session.requests import build_request, refine_request
    from sketchdiffuse.session.settings import PanelValues, RunSettings

    for name in ("base", "refiner"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model_index.json").write_text("{}")
    run = RunSettings(refiner=str(tmp_path / "refiner"), cpu_offload=True, vae_tiling=True, tiny_autoencoder="taesd")
    request = build_request(PanelValues(model=str(tmp_path / "base")), run, None)
    assert request.refiner is not None
    assert (request.refiner.cpu_offload, request.refiner.vae_tiling) == (True, True)
    refined = refine_request(request.with_(tiny_autoencoder="taesd"), np.zeros((8, 8, 3), np.uint8), request.refiner, 5)
    assert refined.tiny_autoencoder is None and refined.refiner is None and refined.strength == 0.3
