"""Canvas size, expanding (outpainting), crop, scale, moving, flipping, the fill bucket and copy for paste:
each undoable, exact where pixels only move."""

from __future__ import annotations

import numpy as np
import pytest

from sketchdiffuse.document import Document, History, Rect
from sketchdiffuse.document import canvas_commands as cc
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document import selection as sel
from sketchdiffuse.document.compose import composite
from sketchdiffuse.document.errors import DocumentError


def drawn(w: int = 40, h: int = 30) -> tuple[Document, History]:
    doc = Document(w, h)
    doc.layers[0].pixels[:] = (250, 250, 250, 255)
    ink = doc.new_layer("Ink")
    ink.pixels[5:15, 10:20] = (200, 0, 0, 255)
    doc.layers.append(ink)
    doc.active_index = 1
    return doc, History(doc)


def test_canvas_size_keeps_the_picture_at_the_anchor_and_undo_restores_it():
    doc, history = drawn()
    before = [layer.pixels.copy() for layer in doc.layers]
    history.push(cc.resize_canvas(doc, 60, 50, (0.0, 1.0)))  # the picture stays bottom-left
    assert (doc.width, doc.height) == (60, 50) and doc.composite().shape == (50, 60, 4)
    assert np.array_equal(doc.layers[1].pixels[25:35, 10:20], before[1][5:15, 10:20])
    assert doc.layers[0].pixels[0, 0, 3] == 0  # new canvas is transparent
    history.undo()
    assert (doc.width, doc.height) == (40, 30)
    assert all(np.array_equal(a.pixels, b) for a, b in zip(doc.layers, before, strict=True))
    assert np.array_equal(doc.composite(), composite(doc.layers, doc.rect))


def test_expanding_selects_the_new_area_with_a_soft_overlap():
    doc, history = drawn()
    history.push(cc.expand_canvas(doc, 0, 0, 24, 0))
    assert (doc.width, doc.height) == (64, 30)
    mask = doc.selection
    assert mask is not None and (mask[:, 40:] == 255).all()  # all of the new area
    assert mask[15, 5] == 0 and 0 < mask[15, 37] < 255  # the old picture, but its edge partly
    with pytest.raises(DocumentError):
        cc.expand_canvas(doc, 0, 0, 0, 0)


def test_crop_to_the_selection_and_scale_the_image():
    doc, history = drawn()
    history.push(cmd.select(doc, sel.rectangle(40, 30, 8, 4, 22, 16), "select"))
    history.push(cc.crop_to_selection(doc))
    assert (doc.width, doc.height) == (14, 12)
    assert tuple(doc.layers[1].pixels[1, 2]) == (200, 0, 0, 255)
    assert doc.selection is not None and doc.selection.min() == 255
    history.push(cc.scale_image(doc, 28, 24))
    assert doc.layers[1].pixels.shape == (24, 28, 4) and doc.selection.shape == (24, 28)
    history.undo()
    history.undo()
    assert (doc.width, doc.height) == (40, 30)


def test_moving_the_selection_contents_moves_them_exactly():
    doc, history = drawn()
    ink = doc.layers[1]
    history.push(cmd.select(doc, sel.rectangle(40, 30, 10, 5, 15, 15), "select"))  # the square's left half
    move = cc.PixelMove(doc, 1)
    for dx in range(1, 9):
        move.to(dx, 3)  # a drag
    patch, moved = move.finish()  # type: ignore[misc]
    history.begin_macro("move")
    history.push(patch)
    history.push(cmd.select(doc, moved, "move selection"))
    history.end_macro()
    assert tuple(ink.pixels[8, 20]) == (200, 0, 0, 255)  # the left half, 8 right and 3 down
    assert ink.pixels[6, 11, 3] == 0  # lifted from where it was
    assert tuple(ink.pixels[6, 17]) == (200, 0, 0, 255)  # the right half stayed
    assert moved is not None and sel.bounds(moved) == Rect(18, 8, 5, 10)
    history.undo()
    assert tuple(ink.pixels[6, 11]) == (200, 0, 0, 255) and ink.pixels[8, 22, 3] == 0
    assert np.array_equal(doc.composite(), composite(doc.layers, doc.rect))


def test_move_of_a_whole_layer_and_flip():
    doc, history = drawn()
    history.push(cc.move_pixels(doc, 1, -5, 2))
    assert tuple(doc.layers[1].pixels[7, 5]) == (200, 0, 0, 255) and doc.layers[1].pixels[7, 18, 3] == 0
    history.push(cc.flip(doc, 1, horizontal=True))
    assert tuple(doc.layers[1].pixels[7, 34]) == (200, 0, 0, 255)


def test_the_fill_bucket_fills_the_touching_similar_colour_inside_the_selection():
    doc, history = drawn()
    history.push(cc.fill(doc, 1, 15, 10, (0, 0, 255)))  # inside the red square
    assert tuple(doc.layers[1].pixels[10, 15]) == (0, 0, 255, 255) and doc.layers[1].pixels[0, 0, 3] == 0
    history.push(cmd.select(doc, sel.rectangle(40, 30, 0, 0, 5, 30), "select"))
    history.push(cc.fill(doc, 1, 2, 2, (0, 255, 0), contiguous=False))  # the white around, left strip only
    assert tuple(doc.layers[1].pixels[20, 2]) == (0, 255, 0, 255) and doc.layers[1].pixels[20, 30, 3] == 0


def test_copied_pixels_paste_back_in_place():
    doc, history = drawn()
    history.push(cmd.select(doc, sel.rectangle(40, 30, 12, 6, 18, 12), "select"))
    box, pixels = cc.selected_pixels(doc, 1)
    assert box == Rect(12, 6, 6, 6)
    layer = cc.pasted_layer(doc, box, pixels)
    assert np.array_equal(layer.pixels[box.slices()], doc.layers[1].pixels[box.slices()])
    assert layer.pixels[0:5].sum() == 0
