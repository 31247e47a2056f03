"""Chunked snapshots equal the document at the moment they finish, whatever is painted meanwhile."""

from __future__ import annotations

import numpy as np

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.document import Document
from sketchdiffuse.document.rect import Rect
from sketchdiffuse.document.snapshot import Snapshot


def make_doc() -> Document:
    rng = np.random.default_rng(1)
    doc = Document(64, 48)
    for i in range(2):
        layer = doc.new_layer(f"L{i}")
        layer.pixels[:] = rng.integers(0, 256, layer.pixels.shape, dtype=np.uint8)
        doc.layers.append(layer)
    return doc


def same(a: Document, b: Document) -> bool:
    return len(a.layers) == len(b.layers) and all(
        np.array_equal(x.pixels, y.pixels) and (x.name, x.opacity, x.visible) == (y.name, y.opacity, y.visible)
        for x, y in zip(a.layers, b.layers, strict=True)
    )


def test_a_snapshot_is_an_independent_copy():
    doc = make_doc()
    copy = Snapshot(doc).finish()
    assert same(copy, doc) and copy.active_index == doc.active_index
    assert all(x.pixels is not y.pixels for x, y in zip(copy.layers, doc.layers, strict=True))
    doc.layers[1].pixels[:] = 0
    assert not np.array_equal(copy.layers[1].pixels, doc.layers[1].pixels)


def test_paint_during_a_chunked_copy_is_caught():
    doc = make_doc()
    snap = Snapshot(doc, chunk_bytes=64 * 4 * 8)  # 8 rows per step
    for _ in range(10):  # part of the way: layers 0 and part of 1 copied
        snap.step()
    # Paint into rows already copied, as a stroke does: pixels, then a dirty notification.
    doc.layers[0].pixels[2:6, 3:9] = 7
    doc.notify_dirty(Rect(3, 2, 6, 4))
    doc.layers[2].pixels[40:44, 50:60] = 9  # not copied yet: picked up by the rows still to come
    doc.notify_dirty(Rect(50, 40, 10, 4))
    doc.layers[1].opacity = 0.25  # properties are read at the end
    copy = snap.finish()
    assert same(copy, doc)
    doc.layers[0].pixels[:] = 1  # after finishing, the copy no longer follows
    assert not np.array_equal(copy.layers[0].pixels, doc.layers[0].pixels)


def test_a_changed_layer_stack_restarts_the_copy():
    doc = make_doc()
    snap = Snapshot(doc, chunk_bytes=64 * 4 * 8)
    for _ in range(4):
        snap.step()
    cmd.add_layer(doc).do(doc)  # a new layer object: what was copied may no longer match
    copy = snap.finish()
    assert snap.restarts == 1 and same(copy, doc)
    assert not doc._dirty_listeners or all(getattr(cb, "__self__", None) is not snap for cb in doc._dirty_listeners)
