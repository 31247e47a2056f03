"""The selection: anti-aliased shapes, combining, feather/grow/shrink, undo, and painting clipped to it."""

from __future__ import annotations

import numpy as np
import pytest

from sketchdiffuse.brush import BrushSettings, StrokePoint, replay_stroke
from sketchdiffuse.document import Document, History, Rect
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document import selection as sel


def test_a_rectangle_covers_partial_pixels_by_their_share():
    mask = sel.rectangle(10, 8, 2.5, 1.0, 6.0, 4.25)
    assert mask[2, 3] == 255 and mask[2, 2] == 128  # half of column 2
    assert mask[4, 4] == 64  # a quarter of row 4
    assert mask[0].sum() == 0 and mask[:, 7].sum() == 0
    assert sel.bounds(mask) == Rect(2, 1, 4, 4)
    assert np.array_equal(sel.rectangle(10, 8, 6.0, 4.25, 2.5, 1.0), mask)  # corners in any order


def test_an_ellipse_is_round_and_soft_only_at_its_edge():
    mask = sel.ellipse(64, 64, 8, 8, 56, 56)
    assert mask[32, 32] == 255 and mask[0, 0] == 0 and mask[8, 8] == 0
    edge = mask[32, 6:11]
    assert edge[0] == 0 and edge[-1] == 255 and 0 < edge[2] < 255  # anti-aliased across about a pixel
    area = mask.sum() / 255
    assert abs(area - np.pi * 24 * 24) < 0.01 * np.pi * 24 * 24


def test_a_lasso_is_anti_aliased_and_its_area_right():
    triangle = [(4.0, 4.0), (60.0, 4.0), (4.0, 60.0)]
    mask = sel.polygon(64, 64, triangle)
    assert abs(mask.sum() / 255 - 56 * 56 / 2) < 40
    assert ((mask > 0) & (mask < 255)).any()
    assert sel.polygon(64, 64, [(1, 1), (2, 2)]).sum() == 0  # fewer than three points select nothing


def test_combining_adds_subtracts_and_intersects():
    a = sel.rectangle(20, 10, 0, 0, 12, 10)
    b = sel.rectangle(20, 10, 8, 0, 20, 10)
    added = sel.combine(a, b, sel.Combine.ADD)
    assert added is not None and added.min() == 255
    sub = sel.combine(a, b, sel.Combine.SUBTRACT)
    assert sub is not None and sel.bounds(sub) == Rect(0, 0, 8, 10)
    both = sel.combine(a, b, sel.Combine.INTERSECT)
    assert both is not None and sel.bounds(both) == Rect(8, 0, 4, 10)
    assert sel.combine(a, a, sel.Combine.SUBTRACT) is None  # nothing left: no selection
    assert sel.combine(None, b, sel.Combine.SUBTRACT) is None
    assert np.array_equal(sel.invert(None, 20, 10), np.full((10, 20), 255, np.uint8))


def test_feather_grow_and_shrink_move_the_edge():
    mask = sel.rectangle(40, 40, 10, 10, 30, 30)
    soft = sel.feather(mask, 3)
    assert soft[20, 20] == 255 and 60 < soft[20, 10] < 200 and soft[20, 5] < 40
    grown = sel.grow(mask, 4)
    assert sel.bounds(grown) == Rect(6, 6, 28, 28) and grown[20, 6] > 0
    shrunk = sel.grow(mask, -4)
    assert shrunk[20, 13] == 0 and shrunk[20, 15] == 255
    assert sel.bounds(shrunk).w in (12, 13)


def test_selections_are_undoable_and_clip_painting_and_delete():
    doc = Document(64, 48)
    doc.layers[0].pixels[:] = (10, 20, 30, 255)
    history = History(doc)
    mask = sel.rectangle(64, 48, 16, 8, 40, 32)
    history.push(cmd.select(doc, mask, "Rectangle selection"))
    assert np.array_equal(doc.selection, mask)
    brush = BrushSettings(size=30.0, hardness=1.0, color=(250, 0, 0))
    patch = replay_stroke(doc, doc.layers[0], [StrokePoint(x, 20, 1.0) for x in range(0, 64, 2)], brush)
    assert patch is not None
    history.push(patch)
    painted = doc.layers[0].pixels
    assert painted[20, 20, 0] == 250 and painted[20, 4, 0] == 10 and painted[20, 50, 0] == 10  # only inside
    history.push(cmd.clear_selected(doc, 0))
    assert painted[20, 20, 3] == 0 and painted[20, 4, 3] == 255
    history.undo()
    history.undo()
    history.undo()
    assert doc.selection is None and painted[20, 20, 0] == 10
    history.redo()
    assert np.array_equal(doc.selection, mask)


def test_a_selection_of_the_wrong_size_is_refused():
    doc = Document(8, 8)
    with pytest.raises(Exception, match="8 x 8"):
        cmd.select(doc, np.zeros((4, 4), np.uint8), "bad")
