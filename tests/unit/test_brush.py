"""Brush engine: exact dirty rectangles, the stroke opacity cap, eraser, spacing, pressure, replay."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketchdiffuse.brush import BrushSettings, StrokePainter, StrokePoint, StrokeRecord, replay_stroke
from sketchdiffuse.brush.dab import dab_mask
from sketchdiffuse.document import Document, History, LayerLockedError, Rect
from tests.images import read_image

DATA = Path(__file__).parent.parent / "data"


def paint(doc: Document, points: list[tuple[float, float, float]], **settings: object):
    painter = StrokePainter(doc, doc.active_layer, BrushSettings(**settings))  # type: ignore[arg-type]
    for x, y, p in points:
        painter.add_point(StrokePoint(x, y, p))
    return painter.finish()


def test_a_dab_touches_only_its_box_and_reports_exactly_it():
    doc = Document(100, 100)
    dirty: list[Rect] = []
    doc.add_dirty_listener(dirty.append)
    paint(doc, [(50.0, 40.0, 1.0)], size=10, hardness=1.0)
    rect, _ = dab_mask(50.0, 40.0, 5.0, 1.0)
    assert dirty == [rect]
    changed = np.argwhere(doc.active_layer.pixels[..., 3] > 0)
    assert changed[:, 0].min() >= rect.y and changed[:, 0].max() < rect.bottom
    assert changed[:, 1].min() >= rect.x and changed[:, 1].max() < rect.right
    assert doc.active_layer.pixels[40, 50, 3] == 255


def test_dirty_rectangles_are_clipped_to_the_canvas():
    doc = Document(20, 20)
    dirty: list[Rect] = []
    doc.add_dirty_listener(dirty.append)
    paint(doc, [(0.0, 0.0, 1.0), (-30.0, -30.0, 1.0)], size=8)
    assert all(r.x >= 0 and r.y >= 0 and not r.is_empty() for r in dirty)


def test_overlapping_dabs_never_exceed_the_stroke_opacity():
    doc = Document(60, 60)
    # Back and forth many times over the same line.
    pts = [(10.0 + 40 * (i % 2), 30.0, 1.0) for i in range(12)]
    paint(doc, pts, size=10, hardness=1.0, opacity=0.5, flow=0.3)
    alpha = doc.active_layer.pixels[..., 3]
    assert alpha.max() == 128  # 0.5 of 255, reached but not passed
    assert alpha[30, 30] == 128


def test_flow_builds_up_within_one_stroke():
    doc = Document(60, 60)
    paint(doc, [(30.0, 30.0, 1.0)], size=10, hardness=1.0, flow=0.25)
    single = int(doc.active_layer.pixels[30, 30, 3])
    doc2 = Document(60, 60)
    paint(
        doc2, [(30.0, 30.0, 1.0), (30.5, 30.0, 1.0), (31.0, 30.0, 1.0)], size=10, hardness=1.0, flow=0.25, spacing=0.05
    )
    assert single == 64 and doc2.active_layer.pixels[30, 30, 3] > single


def test_fast_moves_leave_no_gaps():
    doc = Document(300, 40)
    paint(doc, [(5.0, 20.0, 1.0), (295.0, 20.0, 1.0)], size=6, hardness=1.0)
    assert (doc.active_layer.pixels[20, 5:295, 3] == 255).all()


def test_pressure_changes_size():
    doc = Document(300, 100)
    paint(doc, [(20.0, 50.0, 0.1), (280.0, 50.0, 1.0)], size=40, hardness=1.0)
    alpha = doc.active_layer.pixels[..., 3]
    thin = int((alpha[:, 30] > 0).sum())
    thick = int((alpha[:, 270] > 0).sum())
    assert thin < 15 < 30 < thick


def test_pressure_changes_opacity_when_configured():
    doc = Document(100, 40)
    paint(doc, [(20.0, 20.0, 0.5)], size=10, hardness=1.0, pressure_size=False, pressure_opacity=True)
    assert doc.active_layer.pixels[20, 20, 3] == 128


def test_eraser_removes_and_undo_restores():
    doc = Document(50, 50)
    doc.active_layer.pixels[:] = (0, 0, 255, 255)
    h = History(doc)
    h.push(paint(doc, [(25.0, 25.0, 1.0)], size=10, hardness=1.0, eraser=True))
    assert doc.active_layer.pixels[25, 25, 3] == 0
    assert doc.active_layer.pixels[0, 0].tolist() == [0, 0, 255, 255]
    h.undo()
    assert (doc.active_layer.pixels == (0, 0, 255, 255)).all()
    h.redo()
    assert doc.active_layer.pixels[25, 25, 3] == 0


def test_a_stroke_is_one_command_storing_only_touched_tiles():
    doc = Document(2048, 2048)
    h = History(doc)
    command = paint(doc, [(10.0, 10.0, 1.0), (200.0, 10.0, 1.0)], size=20)
    h.push(command)
    assert len(h) == 1
    assert command.size_bytes() < 2 * 256 * 256 * 4 * 2 + 1024  # one tile before + after, not the canvas


def test_colour_is_painted_premultiplied():
    doc = Document(20, 20)
    paint(doc, [(10.0, 10.0, 1.0)], size=6, hardness=1.0, opacity=0.5, color=(200, 100, 0))
    assert doc.active_layer.pixels[10, 10].tolist() == [100, 50, 0, 128]


def test_locked_layers_refuse_paint():
    doc = Document(20, 20)
    doc.active_layer.locked = True
    with pytest.raises(LayerLockedError, match="locked"):
        StrokePainter(doc, doc.active_layer, BrushSettings())


def test_smoothing_ends_at_the_pen():
    doc = Document(200, 40)
    paint(doc, [(10.0, 20.0, 1.0), (100.0, 20.0, 1.0), (190.0, 20.0, 1.0)], size=6, hardness=1.0, smoothing=0.8)
    assert doc.active_layer.pixels[20, 189, 3] == 255


def test_recorded_stroke_round_trips_through_json():
    record = StrokeRecord(BrushSettings(size=7, color=(1, 2, 3)), [StrokePoint(1, 2, 0.5, 0.01)])
    assert StrokeRecord.from_json(record.to_json()) == record


def test_replay_matches_the_golden_image():
    record = StrokeRecord.from_json((DATA / "stroke.json").read_text())
    doc = Document(256, 160)
    replay_stroke(doc, doc.active_layer, record.points, record.settings)
    golden_path = DATA / "stroke_golden.png"
    if os.environ.get("SKETCHDIFFUSE_REGEN_GOLDEN"):
        Image.fromarray(doc.active_layer.pixels, "RGBA").save(golden_path)
    golden = np.asarray(read_image(golden_path).convert("RGBA"))
    diff = np.abs(doc.active_layer.pixels.astype(int) - golden.astype(int))
    assert diff.max() <= 1, f"{(diff > 1).sum()} channels differ by more than 1/255"
    # And the golden image is not trivially empty.
    assert (golden[..., 3] > 0).sum() > 2000
