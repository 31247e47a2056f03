"""Layers with a control role: left out of the drawing, their lines sent as controls (cut to a selection's
area), switched off by hiding, undoable, and kept in the .ora where other programs see normal layers."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.document import Document, History, Layer, Rect
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document import selection as sel
from sketchdiffuse.document.control_role import ControlRole
from sketchdiffuse.document.errors import DocumentError
from sketchdiffuse.generation.controls import ControlKind
from sketchdiffuse.io.ora import read_ora, write_ora
from sketchdiffuse.session.requests import document_request
from sketchdiffuse.session.settings import PanelValues, RunSettings

ROLE = ControlRole("scribble", "lllyasviel/control_v11p_sd15_scribble", 0.8, 0.0, 0.9)
PANEL = PanelValues(prompt="a house", model="some/model", seed=1, seed_locked=True)


def doc_with_lines() -> Document:
    doc = Document(64, 48)
    doc.layers[0].pixels[:] = (200, 220, 240, 255)  # a pale blue background
    lines = np.zeros((48, 64, 4), np.uint8)
    lines[10:40, 30:33] = (0, 0, 0, 255)  # a black stroke
    doc.layers.append(Layer("Lines", lines, control=ROLE))
    return doc


def test_a_control_layer_steers_and_is_not_painted_into_the_drawing():
    doc = doc_with_lines()
    request = document_request(PANEL, RunSettings(), doc)
    assert request.init_image is not None and (request.init_image == (200, 220, 240)).all()  # no black stroke
    assert len(request.controls) == 1
    control = request.controls[0]
    assert (control.kind, control.model, control.strength, control.end) == (ControlKind.SCRIBBLE, ROLE.model, 0.8, 0.9)
    assert control.image[20, 31].min() == 255 and control.image[20, 10].max() == 0  # white line on black
    assert doc.composite()[20, 31, :3].tolist() == [0, 0, 0]  # the canvas still shows it


def test_hiding_a_control_layer_switches_it_off():
    doc = doc_with_lines()
    History(doc).push(cmd.set_layer_property(doc, 1, "visible", False))
    assert document_request(PANEL, RunSettings(), doc).controls == ()


def test_in_a_selection_the_control_is_cut_to_the_same_area():
    doc = doc_with_lines()
    History(doc).push(cmd.select(doc, sel.rectangle(64, 48, 20, 5, 50, 45), "select"))
    request = document_request(PANEL, RunSettings(), doc)
    assert request.region is not None and request.init_image is not None
    x, y, w, h = request.region
    assert request.controls[0].image.shape[:2] == request.init_image.shape[:2] == (h, w)
    assert request.controls[0].image[20 - y, 31 - x].min() == 255


def test_the_role_is_undoable_and_checked():
    doc = doc_with_lines()
    history = History(doc)
    history.push(cmd.set_layer_property(doc, 1, "control", None))
    assert doc.layers[1].control is None and document_request(PANEL, RunSettings(), doc).controls == ()
    history.undo()
    assert doc.layers[1].control == ROLE
    with pytest.raises(DocumentError):
        ControlRole("depth", "x")
    with pytest.raises(DocumentError):
        ControlRole("canny", "x", start=0.5, end=0.5)


def test_live_mode_sees_a_stroke_on_a_control_layer():
    doc = doc_with_lines()
    before = document_request(PANEL, RunSettings(), doc)
    doc.layers[1].pixels[5:8, 5:20] = (0, 0, 0, 255)
    doc.notify_dirty(Rect(5, 5, 15, 3), doc.layers[1])  # as every stroke reports itself
    after = document_request(PANEL, RunSettings(), doc)
    assert before == after and before.drawing_digest == after.drawing_digest  # the drawing is the same
    assert before.controls_digest != after.controls_digest


def test_the_role_is_saved_in_the_ora_and_others_see_a_normal_layer(tmp_path: Path):
    doc = doc_with_lines()
    write_ora(doc, tmp_path / "lines.ora")
    assert read_ora(tmp_path / "lines.ora").document.layers[1].control == ROLE
    with zipfile.ZipFile(tmp_path / "lines.ora") as src, zipfile.ZipFile(tmp_path / "bad.ora", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "stack.xml":
                assert b'name="Lines"' in data and b"svg:src-over" in data
                data = data.replace(b'sketchdiffuse-control-strength="0.8"', b'sketchdiffuse-control-strength="lots"')
            dst.writestr(info, data)
    damaged = read_ora(tmp_path / "bad.ora")
    assert damaged.document.layers[1].control is None
    assert any("damaged control role" in w for w in damaged.warnings)


def test_merging_down_keeps_the_lower_layers_role():
    doc = doc_with_lines()
    doc.layers.append(Layer("More lines", np.zeros((48, 64, 4), np.uint8)))
    history = History(doc)
    history.push(cmd.merge_down(doc, 2))
    assert doc.layers[1].control == ROLE and len(doc.layers) == 2
    history.push(cmd.merge_down(doc, 1))  # lines merged onto a colour layer become colour
    assert doc.layers[0].control is None


def test_the_drawing_and_control_images_are_made_once_while_nothing_changes():
    doc = doc_with_lines()
    first = document_request(PANEL, RunSettings(), doc)
    again = document_request(PANEL, RunSettings(), doc)
    assert again.controls[0].image is first.controls[0].image  # not made again for live mode's next look
    doc.layers[0].pixels[0:4, 0:4] = (10, 10, 10, 255)
    doc.notify_dirty(Rect(0, 0, 4, 4), doc.layers[0])
    changed = document_request(PANEL, RunSettings(), doc)
    assert changed.init_image is not None and changed.init_image[1, 1].tolist() == [10, 10, 10]
    assert changed.controls[0].image is first.controls[0].image  # the control layer did not change


def test_a_pictures_controlnet_settings_go_to_the_control_layers_of_their_kind():
    from sketchdiffuse.generation import GenerationResult
    from sketchdiffuse.generation.controls import Control
    from sketchdiffuse.generation.metadata import parameters_text
    from sketchdiffuse.generation.request import ModelIdentity
    from sketchdiffuse.io.png_meta import parse_parameters
    from sketchdiffuse.session.control_parameters import parsed_controls, restore_controls

    lines = np.zeros((8, 8, 3), np.uint8)
    made = replace_controls(
        document_request(PANEL, RunSettings(), Document(8, 8)),
        (
            Control(ControlKind.SCRIBBLE, "/nets/control_v11p_sd15_scribble.safetensors", lines, 0.55, 0.1, 0.7),
            Control(ControlKind.CANNY, "/nets/canny", lines, 1.2),
        ),
    )
    text = parameters_text(GenerationResult(lines, made, 1, 1, 1, {}, ModelIdentity("m", "", ""), 8, 8))
    units = parsed_controls(parse_parameters(text)[2])
    assert [u["kind"] for u in units] == ["scribble", "canny"] and units[0][
        "model"
    ] == "control_v11p_sd15_scribble.safetensors"
    doc = doc_with_lines()  # one scribble layer, no canny layer
    history = History(doc)
    changes, missing = restore_controls(doc, units)
    for change in changes:
        history.push(change)
    role = doc.layers[1].control
    assert role is not None and (role.strength, role.start, role.end, role.model) == (0.55, 0.1, 0.7, ROLE.model)
    assert missing == 1
    history.undo()
    assert doc.layers[1].control == ROLE


def replace_controls(request, controls):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(request, controls=controls)
