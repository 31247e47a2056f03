import numpy as np
import pytest

from sketchdiffuse.document import compose_native
from sketchdiffuse.io.pixels import flatten_on, premultiply, unpremultiply


def test_premultiplied_round_trip_is_exact_for_every_value():
    c, a = np.meshgrid(np.arange(256), np.arange(256))
    straight = np.stack([c, c, c, a], axis=-1).astype(np.uint8)
    pre = premultiply(straight)
    assert np.array_equal(premultiply(unpremultiply(pre)), pre)
    opaque = straight[255]
    assert np.array_equal(unpremultiply(premultiply(opaque)), opaque)
    assert not pre[0, :, :3].any()  # alpha 0 -> colour 0


def test_flatten_on_white():
    px = np.array([[[0, 0, 0, 0], [128, 0, 0, 128]]], dtype=np.uint8)
    assert flatten_on(px).tolist() == [[[255, 255, 255], [255, 127, 127]]]


@pytest.mark.parametrize("compiled", [True, False])
def test_flatten_on_white_is_exact_for_every_colour_and_alpha(compiled: bool, monkeypatch: pytest.MonkeyPatch):
    if not compiled:
        monkeypatch.setattr(compose_native, "kernels", lambda: None)
    c, a = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    px = np.stack([np.minimum(c, a)] * 3 + [a], axis=2).astype(np.uint8)
    expected = np.minimum(c, a) + 255 - a
    assert np.array_equal(flatten_on(px)[..., 0], expected)
    damaged = px.copy()
    damaged[..., 0] = 255  # colour above alpha: clamped to white as before, never wrapped
    assert (flatten_on(damaged)[..., 0] == 255).all()
