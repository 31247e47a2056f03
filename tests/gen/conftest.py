from __future__ import annotations

import pytest

from sketchdiffuse.generation import Engine


@pytest.fixture(scope="module")
def engine() -> Engine:
    """One engine per test module: the tiny model loads once, and modules do not share caches."""
    return Engine()
