"""Generation speed on full-size architectures with random weights (a step costs the same whatever the weights).

Times a plain diffusers StableDiffusionImg2ImgPipeline call, written the way a user would
(fp32, the pipeline's own loading), against sketchdiffuse's engine, in one run, for
512 x 512 img2img with 1 and with 4 effective steps, and prints a table with the ratio.

Run: .venv/bin/python benchmarks/bench_generation.py [--family sd-turbo|sd15] [--device cpu|cuda]
The random-weight model is written once to ~/.cache/sketchdiffuse/bench/<family>-random.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

FAMILIES = {
    # SD-Turbo is the SD 2.1 architecture (1024-wide OpenCLIP text encoder) at 512 px.
    "sd-turbo": {"config": "sd2-512", "pad": "!", "spacing": "trailing", "guidance": 0.0},
    "sd15": {"config": "sd1", "pad": "<|endoftext|>", "spacing": "leading", "guidance": 7.0},
}


def build_random_model(family: str, folder: Path) -> Path:
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from sketchdiffuse.resources import resource

    spec = FAMILIES[family]
    tok_dir = resource("tokenizers", "clip")
    tokenizer = CLIPTokenizer(
        str(tok_dir / "vocab.json"), str(tok_dir / "merges.txt"), pad_token=spec["pad"], model_max_length=77
    )
    if (folder / "model_index.json").is_file():
        tokenizer.save_pretrained(folder / "tokenizer")
        return folder
    configs = resource("model_configs", spec["config"])
    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(configs / "unet"))
    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(configs / "vae"))
    text = CLIPTextModel(CLIPTextConfig(**json.loads((configs / "text_encoder" / "config.json").read_text())))
    scheduler = EulerDiscreteScheduler.from_config(
        json.loads((configs / "scheduler" / "scheduler_config.json").read_text()), timestep_spacing=spec["spacing"]
    )
    pipe = StableDiffusionPipeline(vae, text, tokenizer, unet, scheduler, None, None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


class StageTimer:
    """Forward hooks that time the text encoder, VAE encoder/decoder and each UNet call of a pipeline."""

    def __init__(self, pipe: Any) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self._start: dict[str, float] = {}
        self.handles = []
        for name, module in (
            ("text_encode", pipe.text_encoder),
            ("vae_encode", pipe.vae.encoder),
            ("unet_step", pipe.unet),
            ("vae_decode", pipe.vae.decoder),
        ):
            self.handles.append(module.register_forward_pre_hook(lambda *_, n=name: self._begin(n)))
            self.handles.append(module.register_forward_hook(lambda *_, n=name: self._end(n)))

    def _begin(self, name: str) -> None:
        self._start[name] = time.perf_counter()

    def _end(self, name: str) -> None:
        self.times[name].append(time.perf_counter() - self._start[name])

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def peak_rss_mb() -> float:
    import resource as res

    return res.getrusage(res.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", default="sd-turbo", choices=sorted(FAMILIES))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", default="1,4", help="effective steps to time, comma separated")
    args = parser.parse_args()

    import torch
    from diffusers import StableDiffusionImg2ImgPipeline
    from PIL import Image

    from sketchdiffuse.generation import Engine, GenerationRequest, GenerationResult, ModelRef

    spec = FAMILIES[args.family]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sketchdiffuse" / "bench"
    t = time.perf_counter()
    folder = build_random_model(args.family, cache / f"{args.family}-random")
    print(f"model folder: {folder} (ready in {time.perf_counter() - t:.0f} s)")
    sketch = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    device = (
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    rows: list[tuple[str, ...]] = []

    t = time.perf_counter()
    plain = StableDiffusionImg2ImgPipeline.from_pretrained(folder, safety_checker=None, requires_safety_checker=False)
    plain.to(device)
    plain.set_progress_bar_config(disable=True)
    plain_load = time.perf_counter() - t

    engine = Engine()
    ref = ModelRef.parse(str(folder), device=device, precision="fp32")
    t = time.perf_counter()
    model = engine.ensure_model(ref)
    engine_load = time.perf_counter() - t

    # One untimed call each first: the first call in a process pays for kernel selection and
    # allocator growth, which would otherwise count against whichever side runs first.
    warm = GenerationRequest(
        "warm-up",
        ref,
        init_image=sketch,
        strength=0.5,
        steps=2,
        guidance_scale=spec["guidance"],
        seed=0,
        scheduler="Euler",
    )
    plain(
        prompt="warm-up",
        image=Image.fromarray(sketch),
        strength=0.5,
        num_inference_steps=2,
        guidance_scale=spec["guidance"],
        generator=torch.Generator().manual_seed(0),
    )
    engine.generate(warm)

    for effective in [int(s) for s in args.steps.split(",")]:
        steps, strength = 2 * effective, 0.5
        timer = StageTimer(plain)
        t = time.perf_counter()
        plain(
            prompt="a watercolour lighthouse at dusk",
            image=Image.fromarray(sketch),
            strength=strength,
            num_inference_steps=steps,
            guidance_scale=spec["guidance"],
            generator=torch.Generator().manual_seed(0),
        )
        plain_total = time.perf_counter() - t
        timer.remove()
        p = timer.times

        timer = StageTimer(model.pipe)
        request = GenerationRequest(
            "a watercolour lighthouse at dusk",
            ref,
            init_image=sketch,
            strength=strength,
            steps=steps,
            guidance_scale=spec["guidance"],
            seed=0,
            scheduler="Euler",
        )
        result = engine.generate(request)
        timer.remove()
        assert isinstance(result, GenerationResult)
        e = timer.times
        assert result.steps_run == effective

        def cell(times: dict[str, list[float]], key: str) -> str:
            values = times.get(key, [])
            if not values:
                return "-"
            return f"{np.mean(values):.2f}" if key == "unet_step" else f"{sum(values):.2f}"

        for label, key in (
            ("text encode", "text_encode"),
            ("VAE encode", "vae_encode"),
            ("UNet step (mean)", "unet_step"),
            ("VAE decode", "vae_decode"),
        ):
            rows.append((f"{effective} step", label, cell(p, key), cell(e, key), ""))
        ratio = result.timings["total"] / plain_total
        rows.append(
            (f"{effective} step", "total", f"{plain_total:.2f}", f"{result.timings['total']:.2f}", f"{ratio:.2f}x")
        )

    rows.insert(0, ("-", "load", f"{plain_load:.1f}", f"{engine_load:.1f}", ""))
    print(
        f"\n{args.family} architecture, random weights, 512 x 512 img2img, device {device}, fp32, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"{'steps':<8} | {'stage':<17} | {'plain (s)':>9} | {'engine (s)':>10} | engine/plain")
    print(f"{'-' * 8}-|-{'-' * 17}-|-{'-' * 9}-|-{'-' * 10}-|-------------")
    for r in rows:
        print(f"{r[0]:<8} | {r[1]:<17} | {r[2]:>9} | {r[3]:>10} | {r[4]}")
    print(f"peak resident memory: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
