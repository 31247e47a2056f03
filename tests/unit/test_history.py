"""The one undo history: macros, merging, the memory budget and the clean (saved) state."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sketchdiffuse.document import Document, History
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document.layer import Layer

PROPERTY_SIZE = 128  # SetLayerProperty.size_bytes()


def rename(h: History, name: str) -> None:
    h.push(cmd.set_layer_property(h.doc, 0, "name", name))


def test_a_macro_then_a_trim_keeps_the_history_whole():
    """rename a; macro {rename b}; rename c; undo; rename d; save; rename e (room for three commands)."""
    doc = Document(8, 8)
    h = History(doc, limit_bytes=3 * PROPERTY_SIZE + 64)
    rename(h, "a")
    with h.macro("Properties"):
        rename(h, "b")
    rename(h, "c")
    h.undo()
    rename(h, "d")
    h.set_clean()
    rename(h, "e")
    assert "c" not in "".join(h.texts()) and len(h) == 3
    assert not h.is_clean() and doc.modified
    seen = []
    while h.can_undo():
        h.undo()
        seen.append(doc.layers[0].name)
        if doc.layers[0].name == "d":
            assert h.is_clean() and not doc.modified
    assert seen == ["d", "b", "a"]
    while h.can_redo():
        h.redo()
    assert doc.layers[0].name == "e" and not h.is_clean()


def test_a_macro_is_one_step_with_its_own_name():
    doc = Document(8, 8)
    h = History(doc)
    with h.macro("Properties of 'Background'"):
        rename(h, "Paper")
        h.push(cmd.set_layer_property(doc, 0, "opacity", 0.5))
    assert len(h) == 1 and h.undo_text() == "Properties of 'Background'"
    h.undo()
    assert (doc.layers[0].name, doc.layers[0].opacity) == ("Background", 1.0)
    h.redo()
    assert (doc.layers[0].name, doc.layers[0].opacity) == ("Paper", 0.5)


def test_nothing_is_undone_while_a_macro_is_open_and_an_empty_macro_is_no_step():
    doc = Document(8, 8)
    h = History(doc)
    rename(h, "a")
    h.begin_macro("Import")
    assert not h.can_undo() and not h.is_clean()
    h.end_macro()
    assert len(h) == 1 and h.can_undo()


def test_nested_macros_undo_as_the_outer_one():
    doc = Document(8, 8)
    h = History(doc)
    with h.macro("outer"):
        rename(h, "x")
        with h.macro("inner"):
            rename(h, "y")
    assert len(h) == 1
    h.undo()
    assert doc.layers[0].name == "Background"


def test_slider_drags_merge_but_not_across_the_saved_point():
    doc = Document(8, 8)
    h = History(doc)
    for value in (0.9, 0.8, 0.7):
        h.push(cmd.set_layer_property(doc, 0, "opacity", value))
    assert len(h) == 1
    h.set_clean()
    h.push(cmd.set_layer_property(doc, 0, "opacity", 0.6))
    assert len(h) == 2
    h.undo()
    assert h.is_clean() and doc.layers[0].opacity == 0.7


# -- property-based: random sequences of do / undo / redo / macro / trim / save ---------------

Op = tuple[str, int]
ops = st.lists(
    st.tuples(st.sampled_from(["rename", "add", "macro", "undo", "redo", "save"]), st.integers(1, 3)),
    max_size=40,
)


def state(doc: Document) -> tuple:
    return (doc.active_index, tuple((ly.name, ly.pixels.tobytes()) for ly in doc.layers))


@settings(max_examples=150, deadline=None)
@given(ops, st.integers(2, 12))
def test_random_histories_keep_their_invariants(sequence: list[Op], room: int):
    """Each command makes a state never seen before, so states identify points of the history."""
    doc = Document(4, 4)
    h = History(doc, limit_bytes=room * PROPERTY_SIZE)
    unique = itertools.count()
    line = [state(doc)]  # the states of the current branch, as they were produced
    at = 0  # where on the line the document is
    saved = state(doc)

    def one_command() -> None:
        n = next(unique)
        if n % 2:
            rename(h, f"n{n}")
        else:
            pixels = np.full((4, 4, 4), n % 256, np.uint8)
            h.push(cmd.add_layer(doc, Layer(f"L{n}", pixels), index=0))

    for op, count in sequence:
        if op in ("rename", "add"):
            one_command()
        elif op == "macro":
            with h.macro("several"):
                for _ in range(count):
                    one_command()
        elif op == "undo":
            h.undo()
            at = max(0, at - 1) if state(doc) != line[at] else at
        elif op == "redo":
            h.redo()
            at = min(len(line) - 1, at + 1) if state(doc) != line[at] else at
        elif op == "save":
            h.set_clean()
            saved = state(doc)
        if op in ("rename", "add", "macro"):
            del line[at + 1 :]
            line.append(state(doc))
            at += 1
        assert state(doc) == line[at]
        assert h.is_clean() == (state(doc) == saved) == (not doc.modified)
        assert h.memory_bytes() <= h.limit_bytes or len(h) == 1

    # Undo as far as possible, then redo everything: the branch's states, less the trimmed oldest.
    trimmed = len(line) - 1 - len(h)
    assert trimmed >= 0
    backwards = [state(doc)]
    while h.can_undo():
        h.undo()
        backwards.append(state(doc))
        assert h.is_clean() == (state(doc) == saved)
    assert backwards == line[trimmed : at + 1][::-1]
    forwards = [state(doc)]
    while h.can_redo():
        h.redo()
        forwards.append(state(doc))
    assert forwards == line[trimmed:]
