"""Control with the toy model's variants (docs/toy-model.md): an outline drawn on a layer makes the shape
follow it (the scribble ControlNet), and the toy LoRA turns every shape purple."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.generation import Engine
from sketchdiffuse.generation.controls import Control, ControlKind, Lora, control_image
from tests.toy.judge import PALETTE, Verdict, judge, shape_mask
from tests.toy.test_semantics import make, run

SCRIBBLE = Path(__file__).resolve().parents[1] / "data" / "toy-shapes-scribble"
LORA = Path(__file__).resolve().parents[1] / "data" / "toy-shapes-lora" / "pytorch_lora_weights.safetensors"
SEEDS = range(10)


def outline_layer(shape: str, box: tuple[int, int, int, int]) -> np.ndarray:
    """A transparent layer with a dark outline drawn on it (premultiplied RGBA), as an artist's pen would."""
    layer = np.zeros((64, 64, 4), np.uint8)
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[0:64, 0:64]
    if shape == "square":
        inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        core = (xs >= x0 + 2) & (xs < x1 - 2) & (ys >= y0 + 2) & (ys < y1 - 2)
    else:
        cx, cy, r = (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2, (x1 - x0) / 2
        d = np.hypot(xs - cx, ys - cy)
        inside, core = d <= r, d <= r - 2
    layer[inside & ~core] = (20, 20, 20, 255)
    return layer


@pytest.mark.parametrize(("shape", "box"), [("square", (8, 28, 36, 56)), ("circle", (30, 6, 58, 34))])
def test_an_outline_control_puts_the_shape_where_it_is_drawn(toy: Path, toy_engine: Engine, shape: str, box):
    lines = control_image(ControlKind.SCRIBBLE, outline_layer(shape, box))
    assert lines[box[1], (box[0] + box[2]) // 2].min() > 200 and lines[0, 0].max() == 0  # white lines on black
    controls = (Control(ControlKind.SCRIBBLE, str(SCRIBBLE), lines, 1.0),)
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)

    def centred(verdict: Verdict | None) -> bool:
        return (
            verdict is not None
            and float(np.hypot(verdict.centroid[0] - centre[0], verdict.centroid[1] - centre[1])) <= 6
        )

    followed, shapes, by_chance = 0, 0, 0
    for seed in SEEDS:
        verdict = judge(
            run(toy_engine, make(toy, f"a red {shape}", seed, width=64, height=64, controls=controls)).image
        )
        followed += centred(verdict)
        shapes += verdict is not None and verdict.shape == shape
        by_chance += centred(judge(run(toy_engine, make(toy, f"a red {shape}", seed, width=64, height=64)).image))
    print(f"{shape} outline at {box}: centred on it {followed}/10 ({by_chance}/10 without it), right shape {shapes}/10")
    assert followed >= 7 and shapes >= 7 and by_chance <= 3


def mean_colour(rgb: np.ndarray) -> np.ndarray | None:
    verdict = judge(rgb)
    return None if verdict is None else rgb[shape_mask(rgb)].astype(float).mean(axis=0)


def test_the_toy_lora_shifts_the_colour_towards_purple_and_weight_zero_does_not(toy: Path, toy_engine: Engine):
    """The toy LoRA was trained to paint every shape purple; at weight 1 it moves a red square's colour most of
    the way (to a blue violet), at weight 0 the square stays red."""
    purple = np.array(PALETTE["purple"], float)
    shifted, red = 0, 0
    for seed in SEEDS:
        styled = run(toy_engine, make(toy, "a red square", seed, loras=(Lora(str(LORA), 1.0),))).image
        plain = run(toy_engine, make(toy, "a red square", seed, loras=(Lora(str(LORA), 0.0),))).image
        a, b = mean_colour(styled), mean_colour(plain)
        if a is None or b is None:
            continue
        shifted += judge(styled).colour != "red" and np.linalg.norm(a - purple) < 0.6 * np.linalg.norm(b - purple)
        red += judge(plain).colour == "red"
    print(f"toy LoRA: shifted towards purple {shifted}/10 at weight 1, red {red}/10 at weight 0")
    assert shifted >= 8 and red >= 9
