"""Mapped weight files are let go page-table first (generation/mapped_weights.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from sketchdiffuse.generation import mapped_weights
from sketchdiffuse.generation.mapped_weights import file_mappings, released_outside_gil

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")


def mapped_module(tmp_path: Path) -> tuple[torch.nn.Module, Path]:
    path = tmp_path / "weights.safetensors"
    save_file({"weight": torch.randn(256, 1024), "bias": torch.randn(256)}, path)
    module = torch.nn.Linear(1024, 256)
    module.load_state_dict(load_file(path), assign=True)  # the parameters are views of the mapped file
    return module, path


def mappings_of(path: Path) -> list[str]:
    return [line for line in Path("/proc/self/maps").read_text().splitlines() if line.endswith(str(path))]


def test_a_converted_models_mapping_is_dropped_then_unmapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    module, path = mapped_module(tmp_path)
    expected = module.weight.detach().to(torch.bfloat16)
    mapped = file_mappings([module.weight.data_ptr()], ".safetensors")
    assert len(mapped) == 1 and mappings_of(path)
    dropped: list[tuple[int, int]] = []
    original = mapped_weights._drop_pages
    monkeypatch.setattr(mapped_weights, "_drop_pages", lambda s, n: (dropped.append((s, s + n)), original(s, n)))
    with released_outside_gil([module]):
        module.to(torch.bfloat16)
        assert mappings_of(path)  # still held across the conversion
    assert dropped == mapped
    assert mappings_of(path) == []
    assert torch.equal(module.weight, expected)


def test_pages_still_in_use_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    module, path = mapped_module(tmp_path)
    before = module.weight.detach().clone()
    dropped: list[tuple[int, int]] = []
    monkeypatch.setattr(mapped_weights, "_drop_pages", lambda s, n: dropped.append((s, n)))
    with released_outside_gil([module]):
        module.to(torch.float32)  # already fp32: nothing is replaced
    assert dropped == []
    assert mappings_of(path) and torch.equal(module.weight, before)
