"""The ComfyUI workflow made from a request: core nodes wired as ComfyUI's API format expects, without a
server (the client's tests run against a real one)."""

from __future__ import annotations

import numpy as np
import pytest

from sketchdiffuse.generation import GenerationRequest, ModelRef
from sketchdiffuse.generation.comfy.backend import style_models
from sketchdiffuse.generation.comfy.client import ServerError
from sketchdiffuse.generation.comfy.workflow import OUTPUT_NODE, StyleModels, Uploads, build_workflow, sampler_for
from sketchdiffuse.generation.controls import Control, ControlKind, Lora, Reference
from sketchdiffuse.generation.errors import InvalidRequestError
from sketchdiffuse.generation.model_lists import ModelLists

DRAWING = np.zeros((64, 64, 3), np.uint8)


def request(**kw: object) -> GenerationRequest:
    base: dict[str, object] = {"prompt": "a boat", "model": ModelRef.on_server("m.safetensors"), "steps": 12}
    base.update(kw)
    return GenerationRequest(**base)  # type: ignore[arg-type]


def linked(graph: dict, node: str, field: str) -> str:
    """The id of the node whose output feeds ``node``'s ``field``."""
    return graph[node]["inputs"][field][0]


def test_text_to_image_starts_from_an_empty_latent_and_saves_to_the_socket():
    graph = build_workflow(request(negative_prompt="blur"), "sd15.safetensors", 7, 512, 384, Uploads())
    assert graph["checkpoint"]["inputs"] == {"ckpt_name": "sd15.safetensors"}
    assert graph["latent"]["inputs"] == {"width": 512, "height": 384, "batch_size": 1}
    sampler = graph["sampler"]["inputs"]
    assert (sampler["noise_seed"], sampler["steps"], sampler["start_at_step"], sampler["end_at_step"]) == (7, 12, 0, 12)
    assert linked(graph, "sampler", "latent_image") == "latent"
    assert graph["negative"]["inputs"]["text"] == "blur"
    assert graph[OUTPUT_NODE]["class_type"] == "SaveImageWebsocket" and linked(graph, OUTPUT_NODE, "images") == "decode"


def test_img2img_encodes_the_uploaded_drawing_and_denoises_by_the_strength():
    graph = build_workflow(request(init_image=DRAWING, strength=0.45), "m.safetensors", 1, 512, 512, Uploads("d.png"))
    assert graph["drawing"]["inputs"] == {"image": "d.png"}
    assert linked(graph, "encode", "pixels") == "scaled" and linked(graph, "sampler", "latent_image") == "encode"
    sampler = graph["sampler"]["inputs"]  # the local engine's schedule: 12 steps, the last 12 x 0.45 = 5 run
    assert (sampler["steps"], sampler["start_at_step"], sampler["end_at_step"]) == (12, 7, 12)
    assert sampler["add_noise"] == "enable" and sampler["return_with_leftover_noise"] == "disable"
    few = build_workflow(request(init_image=DRAWING, strength=0.45, steps=4), "m", 1, 512, 512, Uploads("d.png"))
    assert (few["sampler"]["inputs"]["steps"], few["sampler"]["inputs"]["start_at_step"]) == (4, 3)  # 25 % noise


@pytest.mark.parametrize("inpainting", [False, True])
def test_a_mask_keeps_the_rest_with_a_noise_mask_or_the_inpainting_encoder(inpainting: bool):
    mask = np.full((64, 64), 255, np.uint8)
    req = request(init_image=DRAWING, mask=mask, strength=0.8)
    graph = build_workflow(req, "m", 1, 512, 512, Uploads("d.png", "m.png"), inpainting_checkpoint=inpainting)
    assert (graph["sampler"]["inputs"]["steps"], graph["sampler"]["inputs"]["start_at_step"]) == (12, 3)  # 0.8
    if inpainting:
        assert graph["inpaint"]["class_type"] == "InpaintModelConditioning"
        assert graph["sampler"]["inputs"]["latent_image"] == ["inpaint", 2]
        assert graph["sampler"]["inputs"]["positive"] == ["inpaint", 0]
    else:
        assert graph["masked"]["class_type"] == "SetLatentNoiseMask"
        assert linked(graph, "sampler", "latent_image") == "masked"


def test_loras_chain_and_controls_apply_to_both_conditionings():
    lines = np.zeros((64, 64, 3), np.uint8)
    req = request(
        loras=(Lora("ink.safetensors", 0.7), Lora("detail.safetensors", -0.5)),
        controls=(Control(ControlKind.SCRIBBLE, "control_scribble.safetensors", lines, 0.8, 0.0, 0.6),),
    )
    graph = build_workflow(req, "m", 1, 512, 512, Uploads(controls=["lines.png"]))
    assert linked(graph, "lora1", "model") == "lora0" and graph["lora1"]["inputs"]["strength_model"] == -0.5
    assert linked(graph, "sampler", "model") == "lora1" and graph["positive"]["inputs"]["clip"] == ["lora1", 1]
    control = graph["control0"]["inputs"]
    assert (control["strength"], control["start_percent"], control["end_percent"]) == (0.8, 0.0, 0.6)
    assert graph["sampler"]["inputs"]["positive"] == ["control0", 0] and graph["sampler"]["inputs"]["negative"] == [
        "control0",
        1,
    ]


def test_samplers_map_to_comfyuis_names():
    assert sampler_for("Euler a") == ("euler_ancestral", "normal")
    assert sampler_for("DPM++ 2M Karras") == ("dpmpp_2m", "karras")
    with pytest.raises(InvalidRequestError, match="no ComfyUI equivalent"):
        sampler_for("Heun++")


def test_reference_pictures_are_read_by_the_style_models_and_steer_the_positive_prompt():
    looks = (Reference(DRAWING, 0.8), Reference(DRAWING, 0.0), Reference(DRAWING, 1.5))
    uploads = Uploads(references=["a.png", "", "c.png"])
    style = StyleModels("clip_vision_l.safetensors", "t2iadapter_style.safetensors")
    graph = build_workflow(request(references=looks), "m.safetensors", 1, 512, 512, uploads, style=style)
    assert graph["clip_vision"]["inputs"] == {"clip_name": "clip_vision_l.safetensors"}
    assert graph["style_model"]["inputs"] == {"style_model_name": "t2iadapter_style.safetensors"}
    assert "reference1" not in graph and "reference_image1" not in graph  # weight 0: left out
    assert graph["reference_image2"]["inputs"]["image"] == "c.png"
    assert graph["reference2"]["inputs"]["strength"] == 1.5 and linked(graph, "reference2", "conditioning") == (
        "reference0"
    )
    assert linked(graph, "reference0", "conditioning") == "positive"
    assert linked(graph, "sampler", "positive") == "reference2"
    with pytest.raises(InvalidRequestError, match="style models"):
        build_workflow(request(references=looks), "m.safetensors", 1, 512, 512, uploads)


def test_the_servers_style_models_are_chosen_by_name_and_missing_ones_named():
    models = ModelLists(
        ["m.safetensors"], [], [], ["flux1-redux-dev.safetensors", "t2iadapter_style_sd14v1.pth"],
        ["clip_g.safetensors", "CLIP-ViT-L-14.safetensors"],
    )  # fmt: skip
    assert style_models(models, "x") == StyleModels("CLIP-ViT-L-14.safetensors", "t2iadapter_style_sd14v1.pth")
    with pytest.raises(ServerError, match="need a T2I style adapter in its models/style_models folder"):
        style_models(ModelLists(["m"], [], [], ["flux1-redux-dev.safetensors"], ["clip_l.safetensors"]), "x")
