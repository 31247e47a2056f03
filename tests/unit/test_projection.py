"""Layer changes through the cached projections give the composite every layer would give."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sketchdiffuse.document import BlendMode, Document, History, Rect
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.compose import composite
from tests.unit.layer_edits import KINDS, apply_edit, painted


def matches(doc: Document) -> bool:
    cached = doc.composite_view().astype(int)
    return int(np.abs(cached - composite(doc.layers, doc.rect).astype(int)).max()) <= 1


operation = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 4),  # the layer
    st.integers(0, 1000),  # a value
)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 1000), operations=st.lists(operation, min_size=1, max_size=25))
def test_random_layer_edits_keep_the_cached_composite_equal_to_composing_every_layer(seed, operations):
    doc = painted(seed)
    history = History(doc)
    assert matches(doc)
    for kind, index, value in operations:
        apply_edit(doc, history, kind, index, value)
        assert matches(doc), (kind, index, value)


def test_a_slider_drag_builds_the_projection_once_and_then_blends_one_layer():
    doc = painted(3, layers=8)
    history = History(doc)
    doc.composite_view()
    for opacity in np.linspace(0.1, 0.9, 12):
        history.push(cmd.set_layer_property(doc, 4, "opacity", float(opacity)))
        assert matches(doc)
    assert doc.projection.builds == 2 and doc.projection.served == 12  # below and above, once
    assert doc.projection.nbytes == 2 * 48 * 40 * 4 * 4  # below and the folded normal layers above
    history.push(cmd.set_layer_property(doc, 6, "blend_mode", BlendMode.MULTIPLY))  # above: not foldable now
    history.push(cmd.set_layer_property(doc, 4, "opacity", 0.5))
    assert matches(doc)
    history.undo()
    history.undo()
    assert matches(doc)


def test_a_canvas_past_the_budget_composes_every_layer():
    doc = painted(4)
    doc.projection.budget_bytes = 1000
    doc.composite_view()
    History(doc).push(cmd.set_layer_property(doc, 2, "opacity", 0.3))
    assert matches(doc) and doc.projection.served == 0


def test_a_large_canvas_is_projected_in_bands_with_the_same_pixels(monkeypatch):  # type: ignore[no-untyped-def]
    import sketchdiffuse.document.compose as compose

    monkeypatch.setattr(compose, "workers", lambda: 4)  # bands even on a machine with fewer cores
    doc = painted(9, layers=6, w=640, h=600)
    history = History(doc)
    doc.composite_view()
    history.push(cmd.set_layer_property(doc, 5, "blend_mode", BlendMode.SCREEN))  # the top one: not foldable
    assert matches(doc)
    for index, opacity in ((2, 0.4), (2, 0.8), (3, 0.5)):
        history.push(cmd.set_layer_property(doc, index, "opacity", opacity))
        assert matches(doc)
    assert doc.projection.served == 4 and doc.projection.builds == 6  # three focus layers, two parts each


def test_a_long_stroke_on_another_layer_leaves_one_stale_rectangle():
    from sketchdiffuse.document.projection import MAX_STALE

    doc = painted(5, layers=4)
    history = History(doc)
    doc.composite_view()
    history.push(cmd.set_layer_property(doc, 2, "opacity", 0.5))
    doc.composite_view()  # the projection for layer 2 exists now
    below = doc.layers[1]
    for i in range(500):  # dabs of a stroke on the layer below, each reported on its own
        rect = Rect(i % 40, (i * 7) % 32, 4, 4)
        below.pixels[rect.slices()] = (0, 0, 200, 255)
        doc.notify_dirty(rect, below)
        assert max(len(v) for v in doc.projection._stale.values()) <= MAX_STALE
    doc.composite_view()
    history.push(cmd.set_layer_property(doc, 2, "opacity", 0.7))
    assert matches(doc) and doc.projection.builds == 2  # refreshed where the stroke went, not rebuilt


def test_moving_adding_and_deleting_a_layer_reuse_what_lies_below_and_above():
    doc = painted(6, layers=8)
    history = History(doc)
    doc.composite_view()
    history.push(cmd.set_layer_property(doc, 4, "opacity", 0.6))
    assert matches(doc) and doc.projection.builds == 2
    history.push(cmd.move_layer(doc, 4, 5))  # below unchanged: only the layers above are folded again
    assert matches(doc) and doc.projection.builds == 3
    history.undo()  # the same two layers between the same parts: nothing composed again
    assert matches(doc) and doc.projection.builds == 3
    for change, composed in (
        (history.redo, 1),
        (lambda: history.push(cmd.add_layer(doc)), 0),  # an empty layer changes no pixel: nothing to compose
        (lambda: history.push(cmd.delete_layer(doc, 2)), 1),
    ):
        served = doc.projection.served
        change()
        assert matches(doc) and doc.projection.served == served + composed  # through the projection
