"""A result made in a selection applied later: at the top of the stack, and in the same part of the picture
after the canvas was expanded, cropped or scaled (the document's frame), also after saving and reopening."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.document import Document, Rect
from sketchdiffuse.document import canvas_commands as canvas
from sketchdiffuse.document import selection as sel
from sketchdiffuse.document.blend import BlendMode
from sketchdiffuse.document.frame import Frame
from sketchdiffuse.document.history import History
from sketchdiffuse.document.layer import Layer
from sketchdiffuse.generation import GenerationRequest, GenerationResult, ModelRef
from sketchdiffuse.generation.family_override import FamilyOverride
from sketchdiffuse.generation.request import ModelIdentity
from sketchdiffuse.io.ora import read_ora, write_ora
from sketchdiffuse.session.image_layers import apply_result
from sketchdiffuse.session.requests import native_size

AREA = Rect(20, 10, 24, 16)


def region_result(frame: Frame | None = None) -> GenerationResult:
    """A red picture made for AREA with a hard-edged mask over its middle."""
    mask = np.zeros((AREA.h, AREA.w), np.uint8)
    mask[4:12, 6:18] = 255
    request = GenerationRequest(
        "a red box",
        ModelRef.parse("some/model"),
        init_image=np.full((AREA.h, AREA.w, 3), 128, np.uint8),
        mask=mask,
        region=(AREA.x, AREA.y, AREA.w, AREA.h),
        region_frame=frame,
    )
    image = np.zeros((AREA.h, AREA.w, 3), np.uint8)
    image[...] = (250, 10, 10)
    return GenerationResult(image, request, 1, 2, 2, {}, ModelIdentity("m", "", "SD 1.x"), 64, 64)


def painted_box(doc: Document) -> Rect:
    """Where the top layer is at least half covered (a scaled mask's edge is soft)."""
    return Rect.of_nonzero(doc.layers[-1].pixels[..., 3] >= 128)


def test_a_region_result_goes_on_top_so_layers_above_the_active_one_apply_once():
    doc = Document(64, 48)
    doc.layers[0].pixels[:] = (200, 200, 200, 255)
    multiply = Layer("shade", np.full((48, 64, 4), (100, 100, 100, 255), np.uint8), blend_mode=BlendMode.MULTIPLY)
    doc.layers.append(multiply)
    doc.active_index = 0  # painting on the background, the multiply layer above it
    history = History(doc)
    before = doc.composite()
    history.push(apply_result(doc, region_result()))
    assert doc.layers[-1].name.startswith("a red box")
    after = doc.composite()
    inside = (slice(AREA.y + 4, AREA.y + 12), slice(AREA.x + 6, AREA.x + 18))
    assert (after[inside][..., :3] == (250, 10, 10)).all()  # exactly the result, not multiplied again
    outside = np.ones((48, 64), bool)
    outside[inside] = False
    assert np.array_equal(after[outside], before[outside])


def test_a_whole_canvas_result_still_goes_above_the_active_layer():
    doc = Document(8, 8)
    doc.layers.append(Layer("top", np.zeros((8, 8, 4), np.uint8)))
    doc.active_index = 0
    request = GenerationRequest("x", ModelRef.parse("some/model"))
    image = np.zeros((8, 8, 3), np.uint8)
    result = GenerationResult(image, request, 1, 2, 2, {}, ModelIdentity("m", "", "SD 1.x"), 8, 8)
    History(doc).push(apply_result(doc, result))
    assert [layer.name for layer in doc.layers][-1] == "top" and len(doc.layers) == 3


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda doc: canvas.expand_canvas(doc, 10, 6, 0, 3), Rect(AREA.x + 6 + 10, AREA.y + 4 + 6, 12, 8)),
        (lambda doc: canvas.resize_canvas(doc, 40, 30, (0.0, 0.0)), Rect(AREA.x + 6, AREA.y + 4, 12, 8)),
        (lambda doc: canvas.scale_image(doc, 128, 96), Rect(2 * (AREA.x + 6), 2 * (AREA.y + 4), 24, 16)),
    ],
)
def test_a_result_applied_after_a_canvas_change_lands_on_the_same_part_of_the_picture(change, expected: Rect):
    doc = Document(64, 48)
    history = History(doc)
    result = region_result(doc.frame)  # made before the change
    history.push(change(doc))
    history.push(apply_result(doc, result))
    assert painted_box(doc) == expected


def test_crop_and_undo_move_the_frame_back_and_forth():
    doc = Document(64, 48)
    history = History(doc)
    history.push(sel_command(doc, sel.rectangle(64, 48, 16, 8, 56, 40)))
    history.push(canvas.crop_to_selection(doc))
    assert doc.frame == Frame(1.0, 1.0, -16.0, -8.0)
    history.push(apply_result(doc, region_result()))
    assert painted_box(doc) == Rect(AREA.x + 6 - 16, AREA.y + 4 - 8, 12, 8)
    history.undo()
    history.undo()
    assert doc.frame == Frame() and (doc.width, doc.height) == (64, 48)


def sel_command(doc: Document, mask: np.ndarray):
    from sketchdiffuse.document import commands as cmd

    return cmd.select(doc, mask, "select")


def test_the_frame_survives_saving_and_reopening(tmp_path: Path):
    doc = Document(32, 24)
    History(doc).push(canvas.expand_canvas(doc, 8, 0, 0, 4))
    History(doc).push(canvas.scale_image(doc, 20, 14))
    write_ora(doc, tmp_path / "framed.ora")
    reopened = read_ora(tmp_path / "framed.ora").document
    assert reopened.frame == doc.frame and reopened.frame != Frame()


def test_a_damaged_frame_is_reported_and_read_as_the_first_canvas(tmp_path: Path):
    import zipfile

    doc = Document(8, 8)
    doc.frame = Frame(2.0, 2.0, 1.0, 1.0)
    write_ora(doc, tmp_path / "a.ora")
    with zipfile.ZipFile(tmp_path / "a.ora") as src, zipfile.ZipFile(tmp_path / "b.ora", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "stack.xml":
                data = data.replace(b'sketchdiffuse-frame="2 2 1 1"', b'sketchdiffuse-frame="2 nan"')
            dst.writestr(info, data)
    contents = read_ora(tmp_path / "b.ora")
    assert contents.document.frame == Frame() and any("frame" in w for w in contents.warnings)


def test_the_region_frame_is_kept_in_the_history_store():
    from sketchdiffuse.generation.history_store import StoredEntry, decode_history, encode_history

    made = region_result(Frame(1.0, 1.0, 10.0, 0.0))
    entries, _, warnings = decode_history(encode_history([StoredEntry(made, False, 1.0)]))
    assert not warnings and entries[0].result.request.region_frame == (1.0, 1.0, 10.0, 0.0)
    assert entries[0].result.request.region == made.request.region


def test_the_native_size_of_a_model_not_readable_yet_follows_the_override():
    plain = ModelRef.parse("nobody/not-downloaded-sd15")
    overridden = replace(plain, override=FamilyOverride(native_size=640))
    assert native_size(plain) == 512
    assert native_size(overridden) == 640


def test_a_known_painted_box_is_trusted_until_the_layer_is_painted():
    from sketchdiffuse.document import commands as cmd

    doc = Document(32, 32)
    history = History(doc)
    pixels = np.zeros((32, 32, 4), np.uint8)
    pixels[2:6, 2:6] = 255
    layer = Layer("placed", pixels, painted_within=Rect(1, 1, 6, 6))  # a box around them, not scanned
    history.push(cmd.add_layer(doc, layer))
    reports: list[Rect] = []
    doc.add_dirty_listener(reports.append)
    history.push(cmd.delete_layer(doc, 1))  # a stack change reports where the layer showed
    assert reports[-1] == Rect(1, 1, 6, 6)
    history.undo()
    layer.pixels[20:24, 20:24] = 255  # painted far from the known box
    doc.notify_dirty(Rect(20, 20, 4, 4), layer)
    history.push(cmd.delete_layer(doc, 1))
    assert reports[-1] == Rect(2, 2, 22, 22)  # the box is scanned again, not trusted any more


def test_a_region_result_goes_below_control_layers_and_a_cropped_away_one_is_refused():
    from sketchdiffuse.document.control_role import ControlRole
    from sketchdiffuse.document.errors import DocumentError

    doc = Document(64, 48)
    doc.layers.append(Layer("lines", np.zeros((48, 64, 4), np.uint8), control=ControlRole("scribble", "net")))
    history = History(doc)
    history.push(apply_result(doc, region_result()))
    assert [layer.name for layer in doc.layers][1].startswith("a red box") and doc.layers[2].name == "lines"
    history.push(canvas.resize_canvas(doc, 10, 10, (0.0, 0.0)))  # keeps only the top-left corner
    with pytest.raises(DocumentError, match="cropped away"):
        apply_result(doc, region_result())


def test_unscaled_frames_keep_the_size_and_damaged_stored_frames_are_ignored():
    from sketchdiffuse.generation.history_store import _frame_of

    odd = Frame(1.0, 1.0, 0.5, 0.5)
    assert Frame().carried(Rect(3, 4, 7, 9), odd).w == 7 and Frame().carried(Rect(3, 4, 7, 9), odd).h == 9
    assert _frame_of([1, 1, 2]) is None and _frame_of([0, 1, 0, 0]) is None and _frame_of([1, 1, "nan", 0]) is None
    assert _frame_of([2, 2, 5, -1]) == (2.0, 2.0, 5.0, -1.0)
