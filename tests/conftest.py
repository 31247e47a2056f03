"""Shared test setup: headless Qt before anything imports it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never reach the network; the loaders must work offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# Autosaves, results and logs go to a throw-away application-data folder, never the user's.
if "SKETCHDIFFUSE_KEEP_DATA_HOME" not in os.environ:
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="sketchdiffuse-test-data-")

from pathlib import Path

import pytest

from tests.gen.tiny import build_tiny_sd, build_tiny_sdxl, build_tiny_sdxl_refiner


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-sd")
    return build_tiny_sd(root / "tiny-sd", root / "scratch")


@pytest.fixture(scope="session")
def tiny_sd_inpaint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-sd-inpaint")
    return build_tiny_sd(root / "tiny-sd-inpaint", root / "scratch", in_channels=9)


@pytest.fixture(scope="session")
def tiny_sdxl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-sdxl")
    return build_tiny_sdxl(root / "tiny-sdxl", root / "scratch")


@pytest.fixture(scope="session")
def tiny_refiner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-refiner")
    return build_tiny_sdxl_refiner(root / "tiny-refiner", root / "scratch")


@pytest.fixture(scope="session")
def tiny_controlnet(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.gen.tiny import build_tiny_controlnet

    return build_tiny_controlnet(tiny_sd, tmp_path_factory.mktemp("tiny-controlnet") / "scribble")


@pytest.fixture(scope="session")
def tiny_lora(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.gen.tiny import build_tiny_lora

    return build_tiny_lora(tiny_sd, tmp_path_factory.mktemp("tiny-lora") / "tiny-style.safetensors")


@pytest.fixture(scope="session")
def tiny_ip_adapter(tiny_sd: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.gen.tiny import build_tiny_ip_adapter

    return build_tiny_ip_adapter(tiny_sd, tmp_path_factory.mktemp("tiny-ip-adapter"))
