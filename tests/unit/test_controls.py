"""The parts of a request that steer a picture besides the prompt, without a model: control images made from
a layer, A1111's LoRA tags in a prompt, and the limits of each value."""

from __future__ import annotations

import numpy as np
import pytest

from sketchdiffuse.generation.controls import Control, ControlKind, Lora, control_image, prompt_loras
from sketchdiffuse.generation.errors import InvalidRequestError


def layer_with(colour: tuple[int, int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    pixels = np.zeros((40, 40, 4), np.uint8)
    x0, y0, x1, y1 = box
    pixels[y0:y1, x0:x1] = (*colour, 255)
    return pixels


@pytest.mark.parametrize("kind", [ControlKind.SCRIBBLE, ControlKind.LINEART])
def test_strokes_become_white_lines_on_black(kind: ControlKind):
    lines = control_image(kind, layer_with((10, 10, 10), (5, 5, 35, 8)))  # a dark stroke
    assert lines.shape == (40, 40, 3) and lines.dtype == np.uint8
    assert lines[6, 20].min() >= 240 and lines[20, 20].max() == 0
    light = control_image(kind, layer_with((250, 250, 250), (5, 5, 35, 8)))  # drawn in white: still a line
    assert light[6, 20].min() == 255 and light[20, 20].max() == 0


def test_canny_finds_the_edges_of_a_filled_shape():
    edges = control_image(ControlKind.CANNY, layer_with((200, 30, 30), (10, 10, 30, 30)))
    assert edges[20, 20].max() == 0  # inside the flat fill: no edge
    assert edges[9:12, 20].max() == 255 and edges[20, 9:12].max() == 255  # the borders
    assert (edges[..., 0] == edges[..., 1]).all()


def test_lora_tags_are_taken_out_of_a_pasted_prompt():
    prompt, loras = prompt_loras("a castle, <lora:ink-style:0.7> at dusk <lora:detail>, moody")
    assert prompt == "a castle, at dusk, moody"
    assert loras == [("ink-style", 0.7), ("detail", 1.0)]
    assert prompt_loras("no tags here") == ("no tags here", [])


def test_values_out_of_range_are_refused_with_a_sentence():
    lines = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(InvalidRequestError, match="strength"):
        Control(ControlKind.SCRIBBLE, "some/net", lines, strength=3.0)
    with pytest.raises(InvalidRequestError, match="start to a later end"):
        Control(ControlKind.SCRIBBLE, "some/net", lines, start=0.6, end=0.4)
    with pytest.raises(InvalidRequestError, match="no ControlNet model"):
        Control(ControlKind.SCRIBBLE, " ", lines)
    with pytest.raises(InvalidRequestError, match="between -2 and 2"):
        Lora("style.safetensors", 2.5)
    assert Lora(r"C:\loras\ink style.safetensors").name == "ink style"
    frozen = Control(ControlKind.CANNY, "some/net", lines)
    assert not frozen.image.flags.writeable


def test_parameters_and_history_keep_loras_and_controls(tmp_path):
    from sketchdiffuse.generation import GenerationRequest, GenerationResult, ModelRef
    from sketchdiffuse.generation.history_store import StoredEntry, decode_history, encode_history
    from sketchdiffuse.generation.metadata import parameters_text
    from sketchdiffuse.generation.request import ModelIdentity

    style = tmp_path / "ink.safetensors"
    style.write_bytes(b"not really weights, but hashed all the same")
    lines = np.zeros((8, 8, 3), np.uint8)
    request = GenerationRequest(
        "a castle",
        ModelRef.parse("some/model"),
        loras=(Lora(str(style), 0.6),),
        controls=(Control(ControlKind.CANNY, "lllyasviel/control_v11p_sd15_canny", lines, 0.9, 0.0, 0.8),),
    )
    result = GenerationResult(lines, request, 5, 2, 2, {}, ModelIdentity("m", "", "SD 1.x"), 8, 8)
    text = parameters_text(result)
    assert text.splitlines()[0] == "a castle <lora:ink:0.6>"
    assert 'ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny, Weight: 0.9' in text
    assert 'Lora hashes: "ink: ' in text
    entries, _, warnings = decode_history(encode_history([StoredEntry(result, False, 1.0)]))
    assert not warnings and entries[0].result.request.loras == (Lora(str(style), 0.6),)


def test_a_malformed_lora_weight_is_a_sentence_not_a_crash():
    with pytest.raises(InvalidRequestError, match="no usable weight"):
        prompt_loras("a boat <lora:ink:1..5>")


def test_a_job_keeps_every_controlnet_it_needs_even_over_the_budget():
    import torch

    from sketchdiffuse.generation.auxiliary import AuxiliaryModels, module_bytes

    loads: list[str] = []

    def make(name: str) -> torch.nn.Module:
        loads.append(name)
        return torch.nn.Linear(64, 64)

    cache = AuxiliaryModels(budget_bytes=module_bytes(torch.nn.Linear(64, 64)))  # room for one
    for _ in range(3):  # three jobs, each with the same two ControlNets
        cache.begin_job()
        for name in ("a", "b"):
            cache.get(("net", name), lambda n=name: make(n))
    assert loads == ["a", "b"]  # loaded once, not evicting each other every job
    cache.begin_job()
    cache.get(("net", "c"), lambda: make("c"))  # a later job without them: they go
    assert [k[1] for k in cache.kept()] == ["c"]
    cache.clear()
    assert cache.kept() == []
