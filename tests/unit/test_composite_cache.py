"""The document keeps its composite: every change the document reports reaches it, and only the
changed rectangles are composed again."""

from __future__ import annotations

import numpy as np
import pytest

import sketchdiffuse.document.document as document_module
from sketchdiffuse.brush.engine import StrokePainter
from sketchdiffuse.brush.settings import BrushSettings
from sketchdiffuse.brush.stroke import StrokePoint
from sketchdiffuse.document import BlendMode, Document, History, Rect
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.compose import composite


def _fresh(doc: Document) -> np.ndarray:
    return composite(doc.layers, doc.rect)


def _stroke(doc: Document, history: History, points: list[tuple[float, float]], colour: tuple[int, ...]) -> None:
    painter = StrokePainter(doc, doc.active_layer, BrushSettings(size=9, color=colour))
    for i, (x, y) in enumerate(points):
        painter.add_point(StrokePoint(x, y, 1.0, i * 0.01))
    patches = painter.finish()
    assert patches is not None
    history.push(patches)


def test_the_cached_composite_follows_every_kind_of_change():
    rng = np.random.default_rng(7)
    doc = Document(96, 64)
    doc.layers[0].pixels[:] = 255
    history = History(doc)
    assert np.array_equal(doc.composite_view(), _fresh(doc))
    history.push(cmd.add_layer(doc))
    for step in range(40):
        kind = step % 5
        if kind == 0:
            points = [tuple(rng.uniform(0, 96, 2)) for _ in range(4)]
            _stroke(doc, history, points, tuple(int(v) for v in rng.integers(0, 255, 3)))
        elif kind == 1:
            history.push(cmd.set_layer_property(doc, doc.active_index, "opacity", float(rng.uniform(0.1, 1))))
        elif kind == 2:
            mode = [BlendMode.NORMAL, BlendMode.MULTIPLY, BlendMode.SCREEN][step % 3]
            history.push(cmd.set_layer_property(doc, doc.active_index, "blend_mode", mode))
        elif kind == 3:
            history.undo()
        else:
            history.push(cmd.duplicate_layer(doc, doc.active_index) if step % 2 else cmd.move_layer(doc, 1, 0))
        assert np.array_equal(doc.composite_view(), _fresh(doc)), f"step {step}"
    while history.can_undo():
        history.undo()
        assert np.array_equal(doc.composite_view(), _fresh(doc))


def test_only_changed_rectangles_are_composed_again(monkeypatch: pytest.MonkeyPatch):
    doc = Document(200, 100)
    doc.composite_view()
    composed: list[Rect] = []

    def counting(layers: list, rect: Rect) -> np.ndarray:
        composed.append(rect)
        return composite(layers, rect)

    monkeypatch.setattr(document_module, "composite", counting)
    doc.composite_view()
    assert composed == []  # nothing changed: nothing composed
    doc.notify_dirty(Rect(0, 0, 10, 10))
    doc.notify_dirty(Rect(5, 5, 10, 10))  # overlaps the first: merged, each pixel composed once
    doc.notify_dirty(Rect(150, 50, 20, 20))
    assert composed == []  # composed when read, not when reported
    doc.composite_view()
    assert sorted(composed, key=lambda r: r.x) == [Rect(0, 0, 15, 15), Rect(150, 50, 20, 20)]


def test_the_view_is_read_only_and_composite_is_a_copy():
    doc = Document(8, 8)
    with pytest.raises(ValueError):
        doc.composite_view()[0, 0] = 1
    copy = doc.composite()
    copy[:] = 9
    assert not doc.composite_view().any()


def test_a_read_within_a_rectangle_composes_only_that_and_settling_does_the_rest():
    from tests.unit.layer_edits import painted

    doc = painted(4, layers=5, w=64, h=48)
    history = History(doc)
    doc.composite_view()
    history.push(cmd.set_layer_property(doc, 2, "opacity", 0.3))
    shown = Rect(10, 8, 20, 16)
    view = doc.composite_view(shown)
    exact = composite(doc.layers, doc.rect)
    assert np.abs(view[shown.slices()].astype(int) - exact[shown.slices()].astype(int)).max() <= 1
    assert not doc.settled  # the rest waits
    while not doc.settle(2000):
        pass
    assert np.abs(doc.composite_view().astype(int) - exact.astype(int)).max() <= 1


def test_the_parts_outside_a_rectangle_cover_the_rest_exactly():
    whole, cut = Rect(0, 0, 10, 8), Rect(3, 2, 4, 9)
    parts = whole.minus(cut)
    covered = np.zeros((8, 10), int)
    for part in [*parts, whole.intersected(cut)]:
        covered[part.slices()] += 1
    assert (covered == 1).all()
    assert Rect(0, 0, 4, 4).minus(Rect(10, 10, 2, 2)) == [Rect(0, 0, 4, 4)]


def test_adding_a_layer_recomposes_only_where_it_shows_anything():
    from tests.unit.layer_edits import painted

    doc = painted(3, layers=4, w=64, h=48)
    history = History(doc)
    doc.composite_view()
    patch = doc.new_layer("patch")
    patch.pixels[10:20, 30:44] = (0, 90, 0, 255)
    history.push(cmd.add_layer(doc, patch))
    assert doc._composite.pending == [Rect(30, 10, 14, 10)]  # not the whole canvas
    assert np.array_equal(doc.composite_view(), composite(doc.layers, doc.rect))
    history.undo()
    assert doc._composite.pending == [Rect(30, 10, 14, 10)]
    assert np.array_equal(doc.composite_view(), composite(doc.layers, doc.rect))
