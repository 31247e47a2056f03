"""Generating in a selection, without a model: the context area, empty areas, and the result put back in
place without touching anything outside the selection."""

from __future__ import annotations

import numpy as np
import pytest

from sketchdiffuse.document import Document, Rect
from sketchdiffuse.document import selection as sel
from sketchdiffuse.document.compose import composite
from sketchdiffuse.generation.engine import work_size
from sketchdiffuse.generation.request import SizePolicy
from sketchdiffuse.session.region import context_area, fill_empty, region_layer, region_of

CANVAS = Rect(0, 0, 1000, 700)


@pytest.mark.parametrize(
    "box",
    [Rect(400, 300, 100, 60), Rect(0, 0, 37, 211), Rect(950, 650, 50, 50), Rect(1, 2, 997, 695), Rect(500, 10, 3, 3)],
)
@pytest.mark.parametrize("native", [512, 64])
def test_the_context_area_holds_the_box_with_padding_in_the_working_aspect(box: Rect, native: int):
    area = context_area(box, CANVAS, 0.25, native, SizePolicy.NATIVE)
    assert area.intersected(CANVAS) == area  # on the canvas
    assert area.intersected(box) == box  # the selection inside
    work_w, work_h = work_size(area.w, area.h, SizePolicy.NATIVE, native)
    # One scale for both sides: the mask lands where the model sees it (within a pixel of the area).
    if area.w < CANVAS.w and area.h < CANVAS.h:
        assert abs(area.w * work_h / work_w - area.h) <= 1.0


def test_padding_grows_the_area_around_the_selection():
    area = context_area(Rect(400, 300, 100, 100), CANVAS, 0.25, 512, SizePolicy.NATIVE)
    assert area.x <= 375 and area.y <= 275 and area.right >= 525 and area.bottom >= 425


def test_empty_areas_are_kept_filled_from_neighbours_or_noise():
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:, :4] = (200, 0, 0, 255)
    assert (fill_empty(pixels, "keep")[:, 6] == 255).all()  # white, as the whole drawing is flattened
    assert (fill_empty(pixels, "neighbours")[:, 6] == (200, 0, 0)).all()
    noise = fill_empty(pixels, "noise")
    assert (noise[:, :4] == (200, 0, 0)).all() and noise[:, 4:].std() > 30
    assert np.array_equal(noise, fill_empty(pixels, "noise"))  # the same drawing, the same request


def test_the_result_changes_only_the_selection_with_no_dark_fringe():
    doc = Document(40, 30)
    doc.layers[0].pixels[:] = (0, 0, 0, 255)  # black
    before = doc.composite()
    mask = sel.feather(sel.rectangle(40, 30, 10, 8, 30, 22), 2)
    region = region_of(before, mask, 0.25, 64, SizePolicy.NATIVE, "keep")
    white = np.full((region.area.h, region.area.w, 3), 255, np.uint8)
    layer = region_layer(40, 30, white, region.area, region.mask, "result")
    after = composite([doc.layers[0], layer], doc.rect)
    outside = mask == 0
    assert np.array_equal(after[outside], before[outside])  # bit-identical outside the selection
    # On the soft edge white over black mixes linearly with the coverage: no darker fringe.
    edge = (mask > 0) & (mask < 255)
    assert edge.any() and np.abs(after[..., 0][edge].astype(int) - mask[edge].astype(int)).max() <= 1
