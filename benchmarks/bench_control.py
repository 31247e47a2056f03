"""Control costs on the full-size SD 1.5 architecture with random weights (a step costs the same whatever the
weights): the per-step overhead of one ControlNet, plain diffusers against the engine in the same run, and the
time to add, re-weight and remove a LoRA in the engine (target: a re-weight under 1 s).

Run: .venv/bin/python benchmarks/bench_control.py [--size 256] [--steps 4] [--device cpu|cuda]
The random-weight model, ControlNet and LoRA are written once to ~/.cache/sketchdiffuse/bench/.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_generation import bench_cache, build_random_model


def build_controlnet(model: Path, folder: Path) -> Path:
    from diffusers import ControlNetModel, UNet2DConditionModel

    if not (folder / "config.json").is_file():
        ControlNetModel.from_unet(UNet2DConditionModel.from_pretrained(model / "unet")).save_pretrained(folder)
    return folder


def build_lora(model: Path, file: Path, rank: int = 16) -> Path:
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    if not file.is_file():
        unet = UNet2DConditionModel.from_pretrained(model / "unet")
        torch.manual_seed(0)
        unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
        StableDiffusionPipeline.save_lora_weights(
            file.parent, unet_lora_layers=get_peft_model_state_dict(unet), weight_name=file.name
        )
    return file


def plain_step_seconds(model: Path, controlnet: Path | None, size: int, steps: int, lines: np.ndarray) -> float:
    """Median seconds per step of diffusers' own text-to-image pipeline, with or without the ControlNet."""
    import torch
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, StableDiffusionPipeline
    from PIL import Image

    if controlnet is None:
        pipe = StableDiffusionPipeline.from_pretrained(model, safety_checker=None, requires_safety_checker=False)
        extra = {}
    else:
        net = ControlNetModel.from_pretrained(controlnet)
        pipe = StableDiffusionControlNetPipeline.from_pretrained(
            model, controlnet=net, safety_checker=None, requires_safety_checker=False
        )
        extra = {"image": Image.fromarray(lines)}
    pipe.set_progress_bar_config(disable=True)
    marks: list[float] = []

    def on_step(p: object, i: int, t: object, kw: dict) -> dict:
        marks.append(time.perf_counter())
        return kw

    started = time.perf_counter()
    pipe(
        prompt="a lighthouse",
        height=size,
        width=size,
        num_inference_steps=steps,
        output_type="latent",
        generator=torch.Generator().manual_seed(1),
        callback_on_step_end=on_step,
        **extra,
    )
    gaps = np.diff([started, *marks])[1:]  # the first step includes the text encoder
    return float(statistics.median(gaps))


def lora_timings(engine: Any, lora: Path) -> list[tuple[str, float]]:
    """Seconds to add, re-weight and remove ``lora`` in the engine's loaded model (no base model reload)."""
    from sketchdiffuse.generation.controls import Lora
    from sketchdiffuse.generation.steering import apply_loras

    loaded = engine.model
    assert loaded is not None
    timings = []
    for name, loras in (
        ("add a LoRA (rank 16)", (Lora(str(lora), 1.0),)),
        ("re-weight it", (Lora(str(lora), 0.5),)),
        ("remove it", ()),
    ):
        started = time.perf_counter()
        apply_loras(loaded, loras)
        timings.append((name, time.perf_counter() - started))
    return timings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from sketchdiffuse.generation import Engine, GenerationRequest, GenerationResult, ModelRef, SizePolicy
    from sketchdiffuse.generation.controls import Control, ControlKind

    cache = bench_cache()
    model = build_random_model("sd15", cache / "sd15-random")
    controlnet = build_controlnet(model, cache / "sd15-controlnet-random")
    lora = build_lora(model, cache / "sd15-lora-random" / "lora.safetensors")
    lines = np.zeros((args.size, args.size, 3), np.uint8)
    lines[args.size // 4 : -args.size // 4, args.size // 2] = 255

    engine = Engine()
    ref = ModelRef.parse(str(model), device=args.device, precision="fp32")
    control = Control(ControlKind.SCRIBBLE, str(controlnet), lines, 1.0)

    def engine_step(controls: tuple[Control, ...]) -> float:
        request = GenerationRequest(
            "a lighthouse",
            ref,
            steps=args.steps,
            width=args.size,
            height=args.size,
            seed=1,
            controls=controls,
            size_policy=SizePolicy.CANVAS,  # the size asked for, as the plain call (native would be 512)
        )
        result = engine.generate(request)
        assert isinstance(result, GenerationResult)
        steps = [result.timings[f"step_{i}"] for i in range(2, result.steps_run + 1)]
        return float(statistics.median(steps))

    # One full-size model in memory at a time (three fp32 copies would swap on a 24 GB machine, and the
    # engine's memory-mapped weights would be read from disk again): the engine first, then the plain calls.
    engine_step(())  # loads the model
    rows = [("engine, no control", engine_step(())), ("engine, one ControlNet", engine_step((control,)))]
    lora_rows = lora_timings(engine, lora)
    engine.unload()
    gc.collect()
    rows = [
        ("plain diffusers, no control", plain_step_seconds(model, None, args.size, args.steps, lines)),
        ("plain diffusers, one ControlNet", plain_step_seconds(model, controlnet, args.size, args.steps, lines)),
        *rows,
    ]
    print(f"SD 1.5 architecture, random weights, {args.size} x {args.size}, fp32, {args.device}: s per step")
    for name, seconds in rows:
        print(f"{name:<36}| {seconds:7.3f}")
    print(f"ControlNet overhead: plain {rows[1][1] / rows[0][1] - 1:+.0%}, engine {rows[3][1] / rows[2][1] - 1:+.0%}")

    print("\nLoRA in the engine (the base model stays loaded): s")
    for name, seconds in lora_rows:
        print(f"{name:<36}| {seconds:7.3f}" + ("   (target < 1)" if name.startswith("re-weight") else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
