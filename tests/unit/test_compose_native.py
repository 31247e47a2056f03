"""The compiled source-over loop gives the numpy compositor's pixels, and numpy takes over without it."""

from __future__ import annotations

import numpy as np
import pytest

import sketchdiffuse.document.compose as compose
from sketchdiffuse.document import compose_native
from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.document.rect import Rect


def _stack(seed: int, count: int = 5, h: int = 90, w: int = 130) -> list[Layer]:
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(count):
        alpha = rng.integers(0, 256, (h, w, 1)).astype(np.uint16)
        alpha[rng.random((h, w, 1)) < 0.3] = 0
        rgb = rng.integers(0, 256, (h, w, 3)).astype(np.uint16) * alpha // 255
        pixels = np.concatenate([rgb, alpha], axis=2).astype(np.uint8)
        layers.append(Layer(f"L{i}", pixels, opacity=float(rng.choice([1.0, 0.35, 0.8, 0.0])), visible=i != 2))
    return layers


def test_numba_is_there_and_composes_normal_stacks():
    assert compose_native.kernels() is not None
    assert compose.native_stack(_stack(0)) is not None
    with_overlay = _stack(0)
    with_overlay[3].blend_mode = BlendMode.OVERLAY
    assert compose.native_stack(with_overlay) is None  # other modes: numpy


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_loop_equals_numpy(seed: int):
    layers = _stack(seed)
    for rect in (Rect(0, 0, 130, 90), Rect(17, 5, 60, 71), Rect(129, 89, 1, 1)):
        reference = compose.composite_float(layers, rect)
        assert np.array_equal(compose.composite(layers, rect), compose.to_uint8(reference.copy()))
        floats = compose.composite_float_banded(layers, rect)
        assert np.abs(floats - reference).max() < 1e-3


def test_without_numba_numpy_composes(monkeypatch: pytest.MonkeyPatch):
    layers = _stack(3)
    expected = compose.composite(layers, Rect(0, 0, 130, 90))
    monkeypatch.setattr(compose_native, "kernels", lambda: None)
    assert compose.native_stack(layers) is None
    assert np.array_equal(compose.composite(layers, Rect(0, 0, 130, 90)), expected)


def test_premultiplying_compiled_equals_numpy_and_exact_rounding(monkeypatch: pytest.MonkeyPatch):
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    compiled = np.zeros((37, 53, 4), np.uint8)
    compose.premultiplied_into(rgb, alpha, compiled)
    expected = np.round(rgb.astype(np.float64) * alpha[..., None] / 255.0).astype(np.uint8)
    assert np.array_equal(compiled[..., :3], expected) and np.array_equal(compiled[..., 3], alpha)
    monkeypatch.setattr(compose_native, "kernels", lambda: None)
    plain = np.zeros((37, 53, 4), np.uint8)
    compose.premultiplied_into(rgb, alpha, plain)
    assert np.array_equal(plain, compiled)


def test_premultiplying_refuses_arrays_of_other_sizes():
    with pytest.raises(ValueError, match="differ"):
        compose.premultiplied_into(
            np.zeros((4, 5, 3), np.uint8), np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8)
        )
