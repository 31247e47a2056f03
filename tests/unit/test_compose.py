"""Compositing against hand-computed pixels and a per-pixel reference written from the W3C formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sketchdiffuse.document import BlendMode, Layer, Rect
from sketchdiffuse.document.compose import composite


def layer_of(
    rgba_straight: tuple[int, int, int, int], mode: BlendMode = BlendMode.NORMAL, opacity: float = 1.0
) -> Layer:
    r, g, b, a = rgba_straight
    px = np.array([[[round(r * a / 255), round(g * a / 255), round(b * a / 255), a]]], dtype=np.uint8)
    return Layer("l", px, opacity=opacity, blend_mode=mode)


def one(*layers: Layer) -> tuple[int, ...]:
    return tuple(int(v) for v in composite(layers, Rect(0, 0, 1, 1))[0, 0])


def test_hand_computed_pixels():
    red = layer_of((255, 0, 0, 255))
    grey = layer_of((128, 128, 128, 255))
    assert one(red, layer_of((128, 128, 128, 255), BlendMode.MULTIPLY)) == (128, 0, 0, 255)
    assert one(grey, layer_of((255, 0, 0, 255), BlendMode.SCREEN)) == (255, 128, 128, 255)
    assert one(red, layer_of((0, 0, 255, 128))) == (127, 0, 128, 255)  # 50 % blue over red
    assert one(grey, layer_of((200, 100, 50, 255), BlendMode.DIFFERENCE)) == (72, 28, 78, 255)
    assert one(grey, layer_of((200, 100, 50, 255), BlendMode.PLUS)) == (255, 228, 178, 255)
    assert one(layer_of((0, 0, 0, 0)), layer_of((10, 20, 30, 255), BlendMode.MULTIPLY)) == (10, 20, 30, 255)
    # Half-transparent over half-transparent: alpha 0.5 + 0.5 - 0.25 = 0.75.
    assert one(layer_of((255, 255, 255, 128)), layer_of((0, 0, 0, 128)))[3] == 192
    # Layer opacity scales the source.
    assert one(red, layer_of((0, 0, 255, 255), opacity=0.5)) == (128, 0, 128, 255)
    # Invisible layers are skipped.
    hidden = layer_of((0, 255, 0, 255))
    hidden.visible = False
    assert one(red, hidden) == (255, 0, 0, 255)


def _b(mode: BlendMode, cb: float, cs: float) -> float:
    """Straight-colour blend functions as written in the W3C specification."""
    if mode is BlendMode.NORMAL:
        return cs
    if mode is BlendMode.MULTIPLY:
        return cb * cs
    if mode is BlendMode.SCREEN:
        return cb + cs - cb * cs
    if mode is BlendMode.HARD_LIGHT:
        return cb * 2 * cs if cs <= 0.5 else _b(BlendMode.SCREEN, cb, 2 * cs - 1)
    if mode is BlendMode.OVERLAY:
        return _b(BlendMode.HARD_LIGHT, cs, cb)
    if mode is BlendMode.DARKEN:
        return min(cb, cs)
    if mode is BlendMode.LIGHTEN:
        return max(cb, cs)
    if mode is BlendMode.COLOR_DODGE:
        return 0.0 if cb == 0 else 1.0 if cs == 1 else min(1.0, cb / (1 - cs))
    if mode is BlendMode.COLOR_BURN:
        return 1.0 if cb == 1 else 0.0 if cs == 0 else 1 - min(1.0, (1 - cb) / cs)
    if mode is BlendMode.SOFT_LIGHT:
        if cs <= 0.5:
            return cb - (1 - 2 * cs) * cb * (1 - cb)
        d = ((16 * cb - 12) * cb + 4) * cb if cb <= 0.25 else math.sqrt(cb)
        return cb + (2 * cs - 1) * (d - cb)
    if mode is BlendMode.DIFFERENCE:
        return abs(cb - cs)
    raise AssertionError(mode)


def reference(back: tuple[int, ...], src: tuple[int, ...], mode: BlendMode) -> list[float]:
    """Straight-alpha inputs -> premultiplied 0..255 output."""
    ab, as_ = back[3] / 255, src[3] / 255
    if mode is BlendMode.PLUS:
        return [min(255.0, (back[i] * ab + src[i] * as_)) for i in range(3)] + [min(255.0, (ab + as_) * 255)]
    ao = as_ + ab - as_ * ab
    out = []
    for i in range(3):
        cb, cs = back[i] / 255, src[i] / 255
        co = as_ * (1 - ab) * cs + ab * (1 - as_) * cb + as_ * ab * _b(mode, cb, cs)
        out.append(co * 255)
    return [*out, ao * 255]


@pytest.mark.parametrize("mode", list(BlendMode))
def test_every_mode_matches_the_w3c_formula(mode: BlendMode):
    rng = np.random.default_rng(7)
    for _ in range(200):
        back = tuple(int(v) for v in rng.integers(0, 256, 4))
        src = tuple(int(v) for v in rng.integers(0, 256, 4))
        bl, sl = layer_of(back), layer_of(src, mode)

        # The layers hold rounded premultiplied values; feed the reference what they hold.
        def straight(layer: Layer) -> tuple[int, ...]:
            p = layer.pixels[0, 0].astype(float)
            a = p[3]
            return tuple([*(p[:3] * 255 / a if a else [0, 0, 0]), a])

        expected = reference(straight(bl), straight(sl), mode)
        got = one(bl, sl)
        assert np.allclose(got, expected, atol=1.01), (mode, back, src, got, expected)


def test_composite_of_a_rectangle_equals_that_part_of_the_whole():
    rng = np.random.default_rng(3)
    layers = []
    for mode in (BlendMode.NORMAL, BlendMode.MULTIPLY, BlendMode.OVERLAY):
        px = rng.integers(0, 256, (40, 50, 4), dtype=np.uint8)
        px[..., :3] = np.minimum(px[..., :3], px[..., 3:4])  # valid premultiplied
        layers.append(Layer("x", px, blend_mode=mode, opacity=0.7))
    whole = composite(layers, Rect(0, 0, 50, 40))
    part = composite(layers, Rect(10, 5, 20, 30))
    assert np.array_equal(whole[5:35, 10:30], part)
