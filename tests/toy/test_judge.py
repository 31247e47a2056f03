"""The judge on the training data's own pictures: it must be right before it judges the model."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from tests.toy.judge import judge

ROOT = Path(__file__).resolve().parents[2]


def training_module():
    spec = importlib.util.spec_from_file_location("train_toy_model", ROOT / "tools" / "train_toy_model.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_the_judge_reads_the_rendered_training_pictures():
    train = training_module()
    rng = np.random.default_rng(5)
    pictures, captions = train.render(rng, 300)
    rgb = ((pictures.numpy().transpose(0, 2, 3, 1) + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
    right_colour = right_shape = 0
    for image, caption in zip(rgb, captions, strict=True):
        _, colour, shape = caption.split()
        verdict = judge(image)
        assert verdict is not None
        right_colour += verdict.colour == colour
        right_shape += verdict.shape == shape
    assert right_colour == 300
    assert right_shape == 300, right_shape


def test_an_empty_picture_has_no_shape():
    assert judge(np.full((64, 64, 3), 255, np.uint8)) is None
