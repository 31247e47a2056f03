from __future__ import annotations

from pathlib import Path

import pytest

from sketchdiffuse.generation import Engine

TOY = Path(__file__).resolve().parents[1] / "data" / "toy-shapes"


@pytest.fixture(scope="session")
def toy() -> Path:
    if not (TOY / "model_index.json").is_file():
        pytest.fail(f"the toy model is missing at {TOY}; train it with tools/train_toy_model.py")
    return TOY


@pytest.fixture(scope="module")
def toy_engine() -> Engine:
    return Engine()
