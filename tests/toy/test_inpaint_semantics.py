"""Generating in a selection with the toy-shapes inpainting model (tests/data/toy-shapes-inpaint): the shape
asked for appears inside the selection, and the picture outside it stays as it was."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.document import Document
from sketchdiffuse.document import commands as cmd
from sketchdiffuse.document import selection as sel
from sketchdiffuse.generation import Engine, GenerationResult
from sketchdiffuse.session.document_session import DocumentSession
from tests.toy.judge import PALETTE, judge

TOY_INPAINT = Path(__file__).resolve().parents[1] / "data" / "toy-shapes-inpaint"
SEEDS = range(6)
BOX = (64, 24, 120, 104)  # the selection: x0, y0, x1, y1 on a 128 x 128 canvas


@pytest.fixture(scope="module")
def inpaint_engine() -> Engine:
    if not (TOY_INPAINT / "model_index.json").is_file():
        pytest.fail(
            f"the toy inpainting model is missing at {TOY_INPAINT}; train it with tools/train_toy_model.py --inpaint"
        )
    return Engine()


def generate_in_selection(engine: Engine, prompt: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A blue square on the left of the canvas, a selection on the right; the composite before and after."""
    doc = Document(128, 128)
    doc.layers[0].pixels[:] = 255
    doc.layers[0].pixels[40:80, 10:50, :3] = PALETTE["blue"]
    session = DocumentSession(doc)
    session.panel = replace(
        session.panel, model=str(TOY_INPAINT), prompt=prompt, steps=20, guidance_scale=4.0, strength=1.0
    )
    session.panel = replace(session.panel, scheduler="Euler", seed=seed, seed_locked=True)
    session.run = session.run.with_(device="cpu", precision="fp32")
    session.history.push(cmd.select(doc, sel.rectangle(128, 128, *BOX), "Rectangle selection"))
    before = doc.composite()
    result = engine.generate(session.request())
    assert isinstance(result, GenerationResult)
    session.apply(result)
    return before, doc.composite()


def test_a_red_circle_appears_inside_the_selection_and_nowhere_else(inpaint_engine: Engine):
    right = 0
    for seed in SEEDS:
        before, after = generate_in_selection(inpaint_engine, "a red circle", seed)
        x0, y0, x1, y1 = BOX
        verdict = judge(np.ascontiguousarray(after[y0:y1, x0:x1, :3]))
        outside = np.ones((128, 128), bool)
        outside[y0:y1, x0:x1] = False
        assert np.array_equal(after[outside], before[outside])  # exactly as it was
        right += verdict is not None and (verdict.colour, verdict.shape) == ("red", "circle")
    print(f"inpainting 'a red circle' in the selection: {right}/{len(SEEDS)}")
    assert right >= len(SEEDS) - 1


def test_outpainting_draws_the_shape_in_the_new_area(inpaint_engine: Engine):
    from sketchdiffuse.document import canvas_commands as cc

    right = 0
    for seed in range(4):
        doc = Document(128, 128)
        doc.layers[0].pixels[:] = 255
        doc.layers[0].pixels[40:80, 20:60, :3] = PALETTE["blue"]
        session = DocumentSession(doc)
        session.panel = replace(
            session.panel, model=str(TOY_INPAINT), prompt="a red circle", steps=20, guidance_scale=4.0, strength=1.0
        )
        session.panel = replace(session.panel, scheduler="Euler", seed=seed, seed_locked=True)
        session.run = session.run.with_(device="cpu", precision="fp32")
        session.history.push(cc.expand_canvas(doc, 0, 0, 96, 0))  # the new area comes selected
        before = doc.composite()
        result = inpaint_engine.generate(session.request())
        assert isinstance(result, GenerationResult)
        session.apply(result)
        after = doc.composite()
        kept = 128 - cc.OUTPAINT_OVERLAP
        assert np.array_equal(after[:, :kept], before[:, :kept])  # the old picture, away from the seam
        verdict = judge(np.ascontiguousarray(after[:, 128:, :3]))
        right += verdict is not None and verdict.colour == "red"
    print(f"outpainting 'a red circle': red in the new area {right}/4")
    assert right >= 3
