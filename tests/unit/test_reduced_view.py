"""The reduced view a zoomed-out canvas shows: previews of layer changes, exact once settled, never read
by saving or generation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sketchdiffuse.document import BlendMode, Document, History, Rect
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.compose import composite
from sketchdiffuse.document.reduced_view import factor_for, reduce_pixels
from tests.unit.layer_edits import KINDS, apply_edit, painted


def settle(doc: Document) -> None:
    while not doc.settle(4096):  # small steps, as the canvas takes them
        pass


def exact_reduction(doc: Document, factor: int) -> np.ndarray:
    return reduce_pixels(composite(doc.layers, doc.rect), factor)


def reduced_stack_composite(doc: Document, factor: int) -> np.ndarray:
    """Every layer reduced first, then composed at the reduced size: what a preview shows."""
    small = [replace(layer, pixels=reduce_pixels(layer.pixels, factor)) for layer in doc.layers]
    h, w = small[0].pixels.shape[:2]
    return composite(small, Rect(0, 0, w, h))


@pytest.mark.parametrize(("zoom", "factor"), [(2.0, 1), (1.0, 1), (0.6, 1), (0.5, 2), (0.3, 2), (0.22, 4), (0.01, 16)])
def test_the_reduction_keeps_at_least_one_pixel_per_screen_pixel(zoom, factor):
    assert factor_for(zoom) == factor


def test_reducing_averages_each_box_and_the_partial_boxes_at_the_edges():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (10, 7, 4), dtype=np.uint8)
    reduced = reduce_pixels(pixels, 4).astype(float)
    assert reduced.shape == (3, 2, 4)
    for ry in range(3):
        for rx in range(2):
            box = pixels[ry * 4 : ry * 4 + 4, rx * 4 : rx * 4 + 4].astype(float)
            assert np.abs(reduced[ry, rx] - box.mean(axis=(0, 1))).max() <= 0.5 + 1e-9


@pytest.mark.parametrize("factor", [2, 4])
def test_layer_changes_are_previewed_then_made_exact(factor):
    doc = painted(5, layers=6, w=64, h=48)
    history = History(doc)
    assert np.array_equal(doc.reduced_view(factor), exact_reduction(doc, factor))
    steps = [
        cmd.set_layer_property(doc, 3, "opacity", 0.4),
        cmd.set_layer_property(doc, 3, "opacity", 0.7),  # the affine path: one normal layer under normal ones
        cmd.set_layer_property(doc, 3, "visible", False),
        cmd.set_layer_property(doc, 2, "blend_mode", BlendMode.MULTIPLY),  # the general path
        cmd.move_layer(doc, 1, 4),
    ]
    for step in steps:
        history.push(step)
        shown = doc.reduced_view(factor).astype(int)
        # A preview is the reduced layers composed: close to, not the same as, the exact composite reduced.
        assert np.abs(shown - reduced_stack_composite(doc, factor).astype(int)).max() <= 1
        assert not doc.settled
        assert np.array_equal(doc.composite(), composite(doc.layers, doc.rect))  # never the preview
    assert doc._reduced.previews == len(steps)
    settle(doc)
    assert doc.settled
    assert np.array_equal(doc.reduced_view(factor), exact_reduction(doc, factor))


def test_strokes_are_reduced_from_their_exact_composite_at_once():
    doc = painted(2, layers=4, w=64, h=48)
    doc.reduced_view(4)
    layer = doc.layers[2]
    layer.pixels[10:20, 12:30] = (0, 0, 200, 255)
    doc.notify_dirty(Rect(12, 10, 18, 10), layer)
    assert np.array_equal(doc.reduced_view(4), exact_reduction(doc, 4))
    assert doc._reduced.previews == 0


def previewed(doc: Document) -> bool:
    return np.abs(doc.reduced_view(2).astype(int) - reduced_stack_composite(doc, 2).astype(int)).max() <= 1


def test_a_stroke_on_the_dragged_layer_and_released_caches_renew_the_preview():
    doc = painted(7, layers=5, w=64, h=48)
    history = History(doc)
    doc.reduced_view(2)
    history.push(cmd.set_layer_property(doc, 2, "opacity", 0.5))
    assert previewed(doc) and doc.cache_bytes > 0
    doc.layers[2].pixels[:, :] = (120, 0, 0, 255)
    doc.notify_dirty(doc.rect, doc.layers[2])  # a fill of the whole layer
    history.push(cmd.set_layer_property(doc, 2, "opacity", 0.6))
    assert previewed(doc)
    doc.release_caches()
    assert doc.cache_bytes == 0
    history.push(cmd.set_layer_property(doc, 2, "opacity", 0.3))
    assert previewed(doc)


operation = st.tuples(
    st.sampled_from([*KINDS, "read", "settle"]),
    st.integers(0, 4),
    st.integers(0, 1000),
)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 1000),
    factor=st.sampled_from([2, 4, 8]),
    operations=st.lists(operation, min_size=1, max_size=20),
)
def test_random_edits_end_in_the_exact_reduced_composite(seed, factor, operations):
    doc = painted(seed)
    history = History(doc)
    doc.reduced_view(factor)
    for kind, index, value in operations:
        if kind == "read":
            doc.reduced_view(factor)
            assert np.array_equal(doc.composite(), composite(doc.layers, doc.rect))  # never the preview
        elif kind == "settle":
            doc.settle(value * 8)
        else:
            apply_edit(doc, history, kind, index, value)
    doc.reduced_view(factor)
    settle(doc)
    assert np.array_equal(doc.reduced_view(factor), exact_reduction(doc, factor))


def test_a_change_read_after_the_document_settled_is_shown_exactly():
    doc = painted(8, layers=5, w=64, h=48)
    history = History(doc)
    doc.reduced_view(2)
    history.push(cmd.set_layer_property(doc, 2, "opacity", 0.4))
    settle(doc)  # the window settled before it painted the change
    assert np.array_equal(doc.reduced_view(2), exact_reduction(doc, 2))
    assert doc.settled


def test_a_long_drag_leaves_one_rough_region_and_strokes_one_stale_rectangle():
    doc = painted(9, layers=5, w=64, h=48)
    history = History(doc)
    doc.reduced_view(2)
    for opacity in np.linspace(0.2, 0.9, 50):
        history.push(cmd.set_layer_property(doc, 2, "opacity", float(opacity)))
        doc.reduced_view(2)
    assert len(doc._reduced.rough) == 1
    layer = doc.layers[2]
    for i in range(200):  # dabs on a layer with a reduced copy
        doc.notify_dirty(Rect(i % 60, i % 44, 3, 3), layer)
    assert max(len(v) for v in doc._reduced._layer_stale.values()) <= 33


def test_a_stack_too_big_for_the_budget_is_composed_exactly_not_previewed():
    doc = painted(10, layers=6, w=64, h=48)
    history = History(doc)
    doc.set_cache_budget(5 * 32 * 24 * 4)  # room for five reduced layers, the stack has six
    doc.reduced_view(2)
    history.push(cmd.set_layer_property(doc, 2, "opacity", 0.4))
    assert np.array_equal(doc.reduced_view(2), exact_reduction(doc, 2))
    assert doc._reduced.previews == 0 and len(doc._reduced._layers) == 0
