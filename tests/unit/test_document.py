"""Layer operations are undoable commands; the document reports what changed."""

from __future__ import annotations

import numpy as np
import pytest

from sketchdiffuse.document import BlendMode, Document, DocumentError, History, LayerLockedError, Rect
from sketchdiffuse.document import commands as cmd


@pytest.fixture
def doc() -> Document:
    d = Document(32, 24)
    d.layers[0].pixels[:] = (10, 20, 30, 255)
    return d


def test_sizes_are_checked():
    for w, h in ((0, 10), (10, 0), (8193, 10), (10, 8193)):
        with pytest.raises(DocumentError, match="between 1 and 8192"):
            Document(w, h)
    assert Document(1, 1).composite().shape == (1, 1, 4)


def test_add_delete_duplicate_move_undo_redo(doc: Document):
    h = History(doc)
    h.push(cmd.add_layer(doc))
    assert [ly.name for ly in doc.layers] == ["Background", "Layer 1"]
    assert doc.active_index == 1
    h.push(cmd.duplicate_layer(doc, 0))
    assert [ly.name for ly in doc.layers] == ["Background", "Background copy", "Layer 1"]
    assert doc.layers[1].pixels is not doc.layers[0].pixels
    h.push(cmd.move_layer(doc, 0, 2))
    assert [ly.name for ly in doc.layers] == ["Background copy", "Layer 1", "Background"]
    h.push(cmd.delete_layer(doc, 1))
    assert [ly.name for ly in doc.layers] == ["Background copy", "Background"]
    for expected in (
        ["Background copy", "Layer 1", "Background"],
        ["Background", "Background copy", "Layer 1"],
        ["Background", "Layer 1"],
        ["Background"],
    ):
        h.undo()
        assert [ly.name for ly in doc.layers] == expected
    assert not doc.modified
    h.redo()
    h.redo()
    assert [ly.name for ly in doc.layers] == ["Background", "Background copy", "Layer 1"]
    assert doc.modified


def test_deleting_the_last_layer_is_refused(doc: Document):
    with pytest.raises(DocumentError, match="last layer"):
        cmd.delete_layer(doc, 0)


def test_properties_undo_and_slider_drags_merge(doc: Document):
    h = History(doc)
    dirty: list[Rect] = []
    doc.add_dirty_listener(dirty.append)
    for value in (0.9, 0.5, 0.2):
        h.push(cmd.set_layer_property(doc, 0, "opacity", value))
    assert len(h) == 1 and doc.layers[0].opacity == 0.2
    assert dirty and dirty[-1] == doc.rect
    h.push(cmd.set_layer_property(doc, 0, "name", "Sky"))
    h.push(cmd.set_layer_property(doc, 0, "blend_mode", "multiply"))
    h.push(cmd.set_layer_property(doc, 0, "visible", False))
    h.push(cmd.set_layer_property(doc, 0, "locked", True))
    layer = doc.layers[0]
    assert (layer.name, layer.blend_mode, layer.visible, layer.locked) == ("Sky", BlendMode.MULTIPLY, False, True)
    for _ in range(5):
        h.undo()
    assert (layer.name, layer.opacity, layer.blend_mode, layer.visible, layer.locked) == (
        "Background",
        1.0,
        BlendMode.NORMAL,
        True,
        False,
    )
    with pytest.raises(DocumentError):
        cmd.set_layer_property(doc, 0, "opacity", 1.5)
    with pytest.raises(DocumentError):
        cmd.set_layer_property(doc, 0, "name", "  ")
    with pytest.raises(ValueError):
        cmd.set_layer_property(doc, 0, "blend_mode", "no-such-mode")


def test_merge_down_keeps_the_picture(doc: Document):
    h = History(doc)
    top = doc.new_layer("Top")
    top.pixels[4:10, 4:10] = (0, 0, 128, 128)
    top.opacity = 0.5
    top.blend_mode = BlendMode.SCREEN
    h.push(cmd.add_layer(doc, top))
    before = doc.composite()
    h.push(cmd.merge_down(doc, 1))
    assert len(doc.layers) == 1 and doc.layers[0].name == "Background"
    assert np.abs(doc.composite().astype(int) - before.astype(int)).max() <= 1
    h.undo()
    assert [ly.name for ly in doc.layers] == ["Background", "Top"]
    with pytest.raises(DocumentError, match="nothing below"):
        cmd.merge_down(doc, 0)


def test_flatten_and_clear(doc: Document):
    h = History(doc)
    layer = doc.new_layer("Ink")
    layer.pixels[0:5, 0:5] = (255, 0, 0, 255)
    h.push(cmd.add_layer(doc, layer))
    picture = doc.composite()
    h.push(cmd.flatten(doc))
    assert len(doc.layers) == 1 and np.array_equal(doc.layers[0].pixels, picture)
    h.undo()
    h.push(cmd.clear_layer(doc, 1))
    assert not doc.layers[1].pixels.any()
    h.undo()
    assert doc.layers[1].pixels[0, 0, 0] == 255
    doc.layers[1].locked = True
    with pytest.raises(LayerLockedError):
        cmd.clear_layer(doc, 1)


def test_history_is_bounded_by_memory():
    doc = Document(64, 64)  # one layer = 16 KiB
    h = History(doc, limit_bytes=5 * 64 * 64 * 4)
    for _ in range(20):
        h.push(cmd.add_layer(doc))
    assert h.memory_bytes() <= h.limit_bytes
    assert 3 <= len(h) < 20
    while h.can_undo():
        h.undo()
    # The oldest commands were dropped, so the oldest layers stay.
    assert len(doc.layers) == 21 - len(h)
    assert doc.modified  # the saved state is no longer reachable


def test_a_new_command_after_undo_drops_the_redo_branch(doc: Document):
    h = History(doc)
    h.push(cmd.add_layer(doc))
    h.undo()
    h.push(cmd.set_layer_property(doc, 0, "name", "Paper"))
    assert not h.can_redo() and len(h) == 1
