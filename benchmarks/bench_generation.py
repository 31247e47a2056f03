"""Generation speed on full-size architectures with random weights (a step costs the same whatever the weights).

Times a plain diffusers StableDiffusionImg2ImgPipeline call, written the way a user would
(fp32, the pipeline's own loading), against sketchdiffuse's engine in one run, for 512 x 512
img2img: the engine in fp32, with the precision it picks for this machine (bf16 on CPUs with
AVX512-BF16 or AMX), with an unchanged drawing (cached latents), with the tiny autoencoder and at
live mode's reduced size. Prints per-stage times, the ratio to the plain call and the image's
relative error against fp32.

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


def bench_cache() -> Path:
    """Where the random-weight models are written once and reused by every benchmark."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sketchdiffuse" / "bench"


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


def build_random_tiny_autoencoder(folder: Path) -> Path:
    """The TAESD architecture (diffusers' AutoencoderTiny defaults) with random weights."""
    if not (folder / "config.json").is_file():
        import torch
        from diffusers import AutoencoderTiny

        torch.manual_seed(0)
        AutoencoderTiny().save_pretrained(folder)
    return folder


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64) / 255, b.astype(np.float64) / 255
    return float(np.linalg.norm(a64 - b64) / np.linalg.norm(b64))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", default="sd-turbo", choices=sorted(FAMILIES))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", default="1", help="effective steps to time, comma separated")
    parser.add_argument("--live-side", type=int, default=384, help="live mode's reduced working size")
    args = parser.parse_args()

    import torch
    from diffusers import StableDiffusionImg2ImgPipeline
    from PIL import Image

    from sketchdiffuse.generation import Engine, GenerationRequest, GenerationResult, ModelRef
    from sketchdiffuse.generation.models import pick_dtype

    spec = FAMILIES[args.family]
    cache = bench_cache()
    t = time.perf_counter()
    folder = build_random_model(args.family, cache / f"{args.family}-random")
    tiny = build_random_tiny_autoencoder(cache / "taesd-random")
    print(f"model folder: {folder} (ready in {time.perf_counter() - t:.0f} s)")
    rng = np.random.default_rng(0)
    sketches = [rng.integers(0, 256, (512, 512, 3), dtype=np.uint8) for _ in range(4)]
    device = (
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    fast_dtype = str(pick_dtype(device, "auto")).replace("torch.", "")
    prompt = "a watercolour lighthouse at dusk"

    t = time.perf_counter()
    plain = StableDiffusionImg2ImgPipeline.from_pretrained(folder, safety_checker=None, requires_safety_checker=False)
    plain.to(device)
    plain.set_progress_bar_config(disable=True)
    loads = {"plain": time.perf_counter() - t}

    def plain_call(sketch: np.ndarray, steps: int) -> np.ndarray:
        out = plain(
            prompt=prompt,
            image=Image.fromarray(sketch),
            strength=0.5,
            num_inference_steps=steps,
            guidance_scale=spec["guidance"],
            generator=torch.Generator().manual_seed(0),
        ).images[0]
        return np.asarray(out)

    # The plain calls are timed before any engine loads a model: loading on the CPU keeps freed
    # buffers in the heap process-wide (generation/heap_tuning.py), which a user's own script lacks.
    step_counts = [int(s) for s in args.steps.split(",")]
    plain_call(sketches[3], 2)
    plain_runs: dict[int, tuple[dict[str, list[float]], float, np.ndarray]] = {}
    for effective in step_counts:
        timer = StageTimer(plain)
        t = time.perf_counter()
        plain_image = plain_call(sketches[0], 2 * effective)
        plain_runs[effective] = (timer.times, time.perf_counter() - t, plain_image)
        timer.remove()

    reference = Engine()  # fp32, as the plain call
    fast = Engine()  # the precision sketchdiffuse picks for this machine
    ref32 = ModelRef.parse(str(folder), device=device, precision="fp32")
    ref_auto = ModelRef.parse(str(folder), device=device, precision="auto")
    for name, engine, ref in (("engine fp32", reference, ref32), ("engine auto", fast, ref_auto)):
        t = time.perf_counter()
        engine.ensure_model(ref)
        loads[name] = time.perf_counter() - t

    def req(ref: ModelRef, sketch: np.ndarray, steps: int, **kw: Any) -> GenerationRequest:
        base: dict[str, Any] = {
            "prompt": prompt,
            "model": ref,
            "init_image": sketch,
            "strength": 0.5,
            "steps": steps,
            "guidance_scale": spec["guidance"],
            "seed": 0,
            "scheduler": "Euler",
        }
        return GenerationRequest(**(base | kw))

    # One untimed call each first: the first call in a process pays for kernel selection and
    # allocator growth, which would otherwise count against whichever side runs first (the plain
    # call's is above).
    reference.generate(req(ref32, sketches[3], 2, prompt="warm-up"))
    fast.generate(req(ref_auto, sketches[3], 2, prompt="warm-up", tiny_autoencoder=str(tiny)))
    fast.generate(req(ref_auto, sketches[3], 2, prompt="warm-up", work_side=args.live_side))

    header = ("steps", "configuration", "text", "VAE enc", "UNet", "VAE dec", "total (s)", "/ plain", "rel. error")
    rows: list[tuple[str, ...]] = []
    for effective in step_counts:
        steps = 2 * effective
        p, plain_total, plain_image = plain_runs[effective]
        rows.append(
            (
                str(effective),
                "plain diffusers fp32",
                f"{sum(p['text_encode']):.2f}",
                f"{sum(p['vae_encode']):.2f}",
                f"{sum(p['unet_step']):.2f}",
                f"{sum(p['vae_decode']):.2f}",
                f"{plain_total:.2f}",
                "1.00",
                "-",
            )
        )
        fp32_image: np.ndarray | None = None  # the first case's, against which errors are measured
        cases: list[tuple[str, Engine, GenerationRequest, bool]] = [
            ("engine fp32", reference, req(ref32, sketches[0], steps), True),
            (f"engine {fast_dtype}, new drawing", fast, req(ref_auto, sketches[0], steps), True),
            (f"engine {fast_dtype}, same drawing", fast, req(ref_auto, sketches[0], steps, seed=1), False),
            (
                f"engine {fast_dtype} + tiny AE, new drawing",
                fast,
                req(ref_auto, sketches[1], steps, tiny_autoencoder=str(tiny)),
                False,
            ),
            (
                f"engine {fast_dtype} + tiny AE, {args.live_side} px",
                fast,
                req(ref_auto, sketches[2], steps, tiny_autoencoder=str(tiny), work_side=args.live_side),
                False,
            ),
            (
                f"engine {fast_dtype}, {args.live_side} px",
                fast,
                req(ref_auto, sketches[1], steps, work_side=args.live_side),
                False,
            ),
        ]
        for label, engine, request, comparable in cases:
            result = engine.generate(request)
            assert isinstance(result, GenerationResult) and result.steps_run == effective
            tm = result.timings
            total = tm["total"] - tm.get("load", 0.0)
            fp32_image = result.image if fp32_image is None else fp32_image
            error = f"{relative_error(result.image, fp32_image):.4f}" if comparable else "-"
            rows.append(
                (
                    str(effective),
                    label + (f" ({', '.join(result.shortcuts)})" if result.shortcuts else ""),
                    f"{tm['text_encode']:.2f}",
                    f"{tm.get('vae_encode', 0):.2f}",
                    f"{tm['denoise']:.2f}",
                    f"{tm['vae_decode']:.2f}",
                    f"{total:.2f}",
                    f"{total / plain_total:.2f}",
                    error,
                )
            )
        rows.append(
            (
                str(effective),
                "(plain vs engine fp32 image)",
                "",
                "",
                "",
                "",
                "",
                "",
                f"{relative_error(plain_image, fp32_image):.4f}" if fp32_image is not None else "-",
            )
        )

    print(
        f"\n{args.family} architecture, random weights, 512 x 512 img2img, strength 0.5, device {device}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print("loads (s): " + ", ".join(f"{k} {v:.1f}" for k, v in loads.items()))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print("UNet column: the whole denoising loop (engine) or the UNet calls (plain).")
    print("rel. error: ||image - engine fp32 image|| / ||engine fp32 image||, pixels in [0, 1].")
    print(f"peak resident memory of the process: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
