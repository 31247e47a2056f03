"""The compositor's bands on several cores give exactly the one-pass result, in every blend mode."""

from __future__ import annotations

import numpy as np
import pytest

import sketchdiffuse.document.compose as compose
from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.rect import Rect


def _layers(rng: np.random.Generator, mode: BlendMode, h: int = 700, w: int = 600) -> list[Layer]:
    """A backdrop and three partly transparent layers in ``mode``, premultiplied, with empty regions."""
    layers = []
    for i in range(4):
        alpha = rng.integers(0, 256, (h, w, 1)).astype(np.uint16)
        alpha[rng.random((h, w, 1)) < 0.2] = 0
        rgb = rng.integers(0, 256, (h, w, 3)).astype(np.uint16) * alpha // 255
        pixels = np.concatenate([rgb, alpha], axis=2).astype(np.uint8)
        if i:
            pixels[:, : w // 3] = 0  # a third of each upper layer is empty
        layers.append(Layer(f"L{i}", pixels, opacity=1.0 if i % 2 else 0.7, blend_mode=mode if i else BlendMode.NORMAL))
    return layers


@pytest.mark.parametrize("mode", list(BlendMode))
def test_bands_equal_one_pass(mode: BlendMode, monkeypatch: pytest.MonkeyPatch):
    rng = np.random.default_rng(list(BlendMode).index(mode))
    layers = _layers(rng, mode)
    monkeypatch.setattr(compose, "workers", lambda: 4)  # bands even on a machine with fewer cores
    for rect in (Rect(0, 0, 600, 700), Rect(13, 7, 577, 613)):
        assert rect.w * rect.h >= compose.PARALLEL_MIN_PIXELS
        one_pass = compose.to_uint8(compose.composite_float(layers, rect))
        assert np.array_equal(compose.composite(layers, rect), one_pass)


def test_bands_cover_the_rectangle_once():
    rect = Rect(5, 3, 40, 101)
    parts = compose.bands(rect, 4)
    assert [p.y for p in parts] == [3, 28, 53, 78] and sum(p.h for p in parts) == 101
    assert all((p.x, p.w) == (5, 40) for p in parts) and parts[-1].bottom == rect.bottom


def test_an_error_in_a_band_reaches_the_caller(monkeypatch: pytest.MonkeyPatch):
    layers = _layers(np.random.default_rng(0), BlendMode.MULTIPLY)  # numpy's path, not the compiled one
    monkeypatch.setattr(compose, "workers", lambda: 4)

    def broken(stack: list[Layer], rect: Rect) -> np.ndarray:
        raise MemoryError("no room for this band")

    monkeypatch.setattr(compose, "composite_float", broken)
    with pytest.raises(MemoryError, match="no room"):
        compose.composite(layers, Rect(0, 0, 600, 700))
