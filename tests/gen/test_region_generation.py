"""Generate in a selection through the session, on the tiny model: only the selection changes, and the
result keeps its place through a save, a reopen and a later apply."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document import selection as sel
from sketchdiffuse.generation import Engine, GenerationResult
from sketchdiffuse.session.document_session import DocumentSession, default_document


def test_a_selection_repaints_only_itself_and_its_result_comes_back_in_place(
    engine: Engine, tiny_sd: Path, tmp_path: Path
):
    session = DocumentSession(default_document(150, 110))
    doc = session.doc
    doc.layers[1].pixels[30:80, 20:60] = (0, 0, 120, 255)
    session.panel = replace(session.panel, model=str(tiny_sd), prompt="a cat", steps=2, strength=1.0, seed=5)
    session.panel = replace(session.panel, seed_locked=True, scheduler="Euler")
    session.run = session.run.with_(device="cpu", precision="fp32")
    mask = sel.feather(sel.ellipse(150, 110, 70.5, 20.25, 131, 95), 1.5)
    session.history.push(cmd.select(doc, mask, "Ellipse selection"))
    before = doc.composite()
    request = session.request()
    assert request.mask is not None and request.region is not None
    x, y, w, h = request.region
    assert request.init_image is not None and request.init_image.shape == (h, w, 3)
    assert np.array_equal(request.mask, mask[y : y + h, x : x + w])
    result = engine.generate(request)
    assert isinstance(result, GenerationResult) and result.image.shape == (h, w, 3)
    session.keep(result)
    layer = session.apply(result)
    after = doc.composite()
    outside = mask == 0
    assert np.array_equal(after[outside], before[outside])  # bit-identical outside the selection
    assert (after[mask == 255] != before[mask == 255]).any()
    assert np.array_equal(layer.pixels[..., 3], mask)  # the selection is the new layer's alpha

    session.save(tmp_path / "region.ora")
    reopened = DocumentSession.open(tmp_path / "region.ora")
    entry = reopened.results.entries[0]
    assert entry.result.request.region == request.region
    assert np.array_equal(entry.result.request.mask, request.mask)
    again = reopened.apply(entry.result)  # applied later: the same place, the same edge
    assert np.abs(again.pixels.astype(int) - layer.pixels.astype(int)).max() <= 1


def test_refining_a_result_made_in_a_selection_keeps_its_place(engine: Engine, tiny_sdxl: Path, tiny_refiner: Path):
    from sketchdiffuse.generation import ModelRef
    from sketchdiffuse.session.requests import refine_request

    session = DocumentSession(default_document(96, 80))
    session.panel = replace(session.panel, model=str(tiny_sdxl), prompt="a cat", steps=2, strength=1.0, seed=4)
    session.panel = replace(session.panel, seed_locked=True, scheduler="Euler")
    session.run = session.run.with_(device="cpu", precision="fp32")
    session.history.push(cmd.select(session.doc, sel.rectangle(96, 80, 40, 20, 90, 70), "select"))
    result = engine.generate(session.request())
    assert isinstance(result, GenerationResult) and result.request.region is not None
    refiner = ModelRef.parse(str(tiny_refiner), device="cpu", precision="fp32")
    refined = engine.generate(refine_request(result.request, result.image, refiner, result.seed))
    assert isinstance(refined, GenerationResult)  # img2img over the area, not "cannot start a picture"
    assert refined.request.region == result.request.region and refined.image.shape == result.image.shape
    layer = session.apply(refined)
    assert np.array_equal(layer.pixels[..., 3], session.doc.selection)
