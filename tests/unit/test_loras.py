"""The LoRA list and prompt tags turned into the request's LoRAs, and LCM-LoRA's sampler."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sketchdiffuse.generation.controls import Lora
from sketchdiffuse.generation.errors import InvalidRequestError
from sketchdiffuse.session.loras import decode_loras, encode_loras, request_loras
from sketchdiffuse.session.requests import build_request
from sketchdiffuse.session.settings import PanelValues, RunSettings

PANEL = PanelValues(prompt="a house", model="some/model", steps=20, guidance_scale=7.0, scheduler="Euler a")


def test_the_list_round_trips_and_damage_is_dropped():
    text = encode_loras([("/l/ink.safetensors", 0.7), (r"C:\l\detail.safetensors", -0.5)])
    assert decode_loras(text) == [("/l/ink.safetensors", 0.7), (r"C:\l\detail.safetensors", -0.5)]
    assert decode_loras('[["/a.safetensors", 5], ["b", "x"], 3, "junk"]') == [("/a.safetensors", 2.0)]
    assert decode_loras("not json") == [] and decode_loras("") == []
    assert PanelValues.from_mapping({"loras": "[[1, 2]]"}).loras == ""


def test_prompt_tags_find_loras_in_the_list_then_the_folder(tmp_path: Path):
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles" / "watercolour.safetensors").write_bytes(b"")
    listed = encode_loras([("/mine/ink.safetensors", 0.6)])
    prompt, loras = request_loras("a boat <lora:ink:0.9>, <lora:watercolour>", listed, str(tmp_path))
    assert prompt == "a boat"
    assert loras == (  # the tag's weight for the listed LoRA it names: not applied twice
        Lora("/mine/ink.safetensors", 0.9),
        Lora(str(tmp_path / "styles" / "watercolour.safetensors"), 1.0),
    )
    with pytest.raises(InvalidRequestError, match="neither in the LoRA list nor in the LoRA folder"):
        request_loras("a boat <lora:nowhere:1>", listed, str(tmp_path))


def test_the_request_carries_the_loras_and_an_lcm_lora_brings_its_sampler():
    panel = replace(PANEL, loras=encode_loras([("/l/ink.safetensors", 0.5)]), prompt="a house <lora:ink:0.25>")
    request = build_request(panel, RunSettings(), None)
    assert request.prompt == "a house" and [x.weight for x in request.loras] == [0.25]
    assert (request.steps, request.guidance_scale, request.scheduler) == (20, 7.0, "Euler a")
    lcm = build_request(
        replace(PANEL, loras=encode_loras([("/l/lcm-lora-sdv1-5.safetensors", 1.0)])), RunSettings(), None
    )
    assert (lcm.steps, lcm.guidance_scale, lcm.scheduler) == (4, 1.0, "LCM")


def test_an_lcm_lora_at_weight_zero_leaves_the_sampler_alone():
    panel = replace(PANEL, loras=encode_loras([("/l/lcm-lora-sdv1-5.safetensors", 0.0)]))
    request = build_request(panel, RunSettings(), None)
    assert (request.steps, request.scheduler) == (20, "Euler a")


def test_refining_leaves_the_base_models_steering_behind():
    import numpy as np

    from sketchdiffuse.generation import ModelRef
    from sketchdiffuse.generation.controls import Control, ControlKind, Reference
    from sketchdiffuse.session.requests import refine_request

    picture = np.zeros((8, 8, 3), np.uint8)
    request = replace(
        build_request(replace(PANEL, loras=encode_loras([("/l/ink.safetensors", 0.5)])), RunSettings(), picture),
        controls=(Control(ControlKind.CANNY, "some/net", picture),),
        references=(Reference(picture),),
        ip_adapter="h94/IP-Adapter:models/x.safetensors",
    )
    refined = refine_request(request, picture, ModelRef.parse("some/refiner"), 3)
    assert (refined.controls, refined.loras, refined.references, refined.ip_adapter) == ((), (), (), None)
    assert refined.prompt == request.prompt and refined.model.source == "some/refiner"
