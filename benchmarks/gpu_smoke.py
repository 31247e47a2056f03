"""The engine's real-checkpoint behaviour on a real GPU, offline, with random weights, in one script.

Checks what the CPU tests check (precision kept across img2img -> txt2img -> img2img, a sampler
not inheriting the previous job's options, SDXL base + refiner) plus what only a GPU shows:
memory does not grow from one text-to-image job to the next, it returns to the baseline after
unloading, an out-of-memory ladder under a capped memory fraction ends in a picture or a clear
error, and a cancel stops within one step. Prints a table and exits non-zero if a check fails.

    .venv/bin/python benchmarks/gpu_smoke.py            # CUDA, full-size SD-Turbo and SDXL architectures (< 8 min)
    .venv/bin/python benchmarks/gpu_smoke.py --quick    # CPU, the tests' tiny models (tests/gen/test_gpu_smoke.py)

Full-size random models are written once to ~/.cache/sketchdiffuse/bench/.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from sketchdiffuse.generation import Cancelled, CancelToken, Engine, GenerationRequest, GenerationResult, ModelRef
from sketchdiffuse.generation.request import SizePolicy

MiB = 1024 * 1024


class Checks:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, float]] = []

    def run(self, name: str, check: Callable[[], str]) -> None:
        started = time.perf_counter()
        try:
            detail, status = check(), "pass"
        except Skip as skip:
            detail, status = str(skip), "skip"
        except Exception as exc:  # a failed check is reported, the others still run
            detail, status = f"{type(exc).__name__}: {exc}"[:160], "FAIL"
        self.rows.append((name, status, detail, time.perf_counter() - started))
        print(f"{status:>4}  {name}: {detail}", flush=True)

    def report(self) -> int:
        print(f"\n{'check':<44} | {'result':<6} | {'seconds':>7}")
        for name, status, _, seconds in self.rows:
            print(f"{name:<44} | {status:<6} | {seconds:7.1f}")
        failed = [row for row in self.rows if row[1] == "FAIL"]
        print("all checks passed" if not failed else f"{len(failed)} check(s) failed")
        return 1 if failed else 0


class Skip(Exception):
    pass


def models(quick: bool) -> tuple[Path, Path, Path]:
    """SD, SDXL and SDXL-refiner folders: the tests' tiny ones, or full-size random architectures."""
    if quick:
        from tests.gen.tiny import build_tiny_sd, build_tiny_sdxl, build_tiny_sdxl_refiner

        root = Path(tempfile.mkdtemp(prefix="sketchdiffuse-smoke-"))
        return (
            build_tiny_sd(root / "sd", root / "s1"),
            build_tiny_sdxl(root / "sdxl", root / "s2"),
            build_tiny_sdxl_refiner(root / "refiner", root / "s3"),
        )
    from bench_generation import bench_cache, build_random_model

    cache = bench_cache()
    sd = build_random_model("sd-turbo", cache / "sd-turbo-random")
    sdxl, refiner = cache / "sdxl-random", cache / "sdxl-refiner-random"
    for config, folder in (("sdxl", sdxl), ("sdxl-refiner", refiner)):
        if not (folder / "model_index.json").is_file():
            build_random_sdxl(config, folder)
    return sd, sdxl, refiner


def build_random_sdxl(config: str, folder: Path) -> None:
    """An SDXL base or refiner from the shipped configs with random weights, fp16 files."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLImg2ImgPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from sketchdiffuse.generation.models import _clip_tokenizer
    from sketchdiffuse.resources import resource

    configs = resource("model_configs", config)
    torch.manual_seed(0)
    parts: dict[str, Any] = {
        "unet": UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(configs / "unet")),
        "vae": AutoencoderKL.from_config(AutoencoderKL.load_config(configs / "vae")),
        "text_encoder_2": CLIPTextModelWithProjection(CLIPTextConfig.from_pretrained(configs / "text_encoder_2")),
        "tokenizer_2": _clip_tokenizer("!"),
        "scheduler": EulerDiscreteScheduler.from_pretrained(configs / "scheduler"),
    }
    if config == "sdxl":
        parts["text_encoder"] = CLIPTextModel(CLIPTextConfig.from_pretrained(configs / "text_encoder"))
        parts["tokenizer"] = _clip_tokenizer("<|endoftext|>")
        pipe = StableDiffusionXLPipeline(**parts)
    else:
        pipe = StableDiffusionXLImg2ImgPipeline(
            text_encoder=None, tokenizer=None, requires_aesthetics_score=True, **parts
        )
    pipe.to(torch.float16).save_pretrained(folder, safe_serialization=True, variant="fp16")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="CPU and the tests' tiny models")
    args = parser.parse_args()
    import torch

    device = "cpu" if args.quick else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device; run with --quick for the CPU version", file=sys.stderr)
        return 2
    precision = "bf16" if args.quick else "fp16"
    side = 64 if args.quick else 512
    sd, sdxl, refiner_folder = models(args.quick)
    drawing = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    engine = Engine()
    checks = Checks()

    def request(folder: Path, **kw: Any) -> GenerationRequest:
        values: dict[str, Any] = {
            "prompt": "a lighthouse",
            "model": ModelRef.parse(str(folder), device, precision),
            "init_image": drawing,
            "strength": 0.5,
            "steps": 4,
            "guidance_scale": 0.0,
            "seed": 1,
            "scheduler": "Euler",
        }
        return GenerationRequest(**(values | kw))

    def result(req: GenerationRequest, **kw: Any) -> GenerationResult:
        out = engine.generate(req, **kw)
        assert isinstance(out, GenerationResult), "cancelled"
        return out

    def precision_kept() -> str:
        dtypes = []
        for strength in (0.5, 1.0, 0.5):
            result(request(sd, strength=strength))
            assert engine.model is not None
            dtypes.append(str(next(engine.model.pipe.unet.parameters()).dtype))
        assert len(set(dtypes)) == 1, dtypes
        return f"UNet stays {dtypes[0]}"

    def sampler_fresh() -> str:
        euler = result(request(sd, steps=6)).image
        result(request(sd, steps=6, scheduler="DPM++ 2M Karras"))
        again = result(request(sd, steps=6)).image
        diff = int(np.abs(euler.astype(int) - again.astype(int)).max())
        assert diff == 0, f"Euler after DPM++ 2M Karras differs by {diff}/255"
        return "Euler after DPM++ 2M Karras equals a fresh Euler"

    def memory_steady() -> str:
        if device != "cuda":
            raise Skip("GPU memory: CUDA only")
        result(request(sd, strength=1.0))
        torch.cuda.synchronize()
        first = torch.cuda.memory_allocated()
        for _ in range(3):
            result(request(sd, strength=1.0))
        torch.cuda.synchronize()
        growth = (torch.cuda.memory_allocated() - first) / MiB
        assert growth < 64, f"grew {growth:.0f} MiB over 3 text-to-image jobs"
        return f"{growth:+.0f} MiB over 3 jobs"

    def memory_released() -> str:
        if device != "cuda":
            raise Skip("GPU memory: CUDA only")
        engine.unload()
        baseline = torch.cuda.memory_allocated()
        result(request(sdxl))
        loaded = torch.cuda.memory_allocated()
        engine.unload()
        left = (torch.cuda.memory_allocated() - baseline) / MiB
        assert left < 64, f"{left:.0f} MiB still allocated after unload"
        return f"{(loaded - baseline) / MiB:.0f} MiB loaded, {left:+.0f} MiB after unload"

    def oom_ladder() -> str:
        if device == "cuda":
            total = torch.cuda.get_device_properties(0).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, 6 * 1024 * MiB / total))
            try:
                big = request(
                    sdxl, strength=1.0, init_image=None, width=2048, height=2048, size_policy=SizePolicy.CANVAS
                )
                out = engine.generate(big)
            except Exception as exc:  # a clear OutOfMemoryError is an acceptable end of the ladder
                from sketchdiffuse.generation.errors import OutOfMemoryError

                assert isinstance(exc, OutOfMemoryError), repr(exc)
                return f"clear error: {exc}"
            finally:
                torch.cuda.set_per_process_memory_fraction(1.0)
                engine.unload()
            assert isinstance(out, GenerationResult)
            return f"picture with {', '.join(out.memory_fallbacks) or 'no fallback'}"
        # CPU: out-of-memory is simulated once inside the UNet; the retry must give the same picture.
        reference = result(request(sd)).image
        assert engine.model is not None
        failed: list[bool] = []

        def fail_once(module: Any, inputs: Any) -> None:
            if not failed:
                failed.append(True)
                raise torch.OutOfMemoryError("simulated: out of memory")

        hook = engine.model.pipe.unet.register_forward_pre_hook(fail_once)
        try:
            out = result(request(sd))
        finally:
            hook.remove()
        assert out.memory_fallbacks == ("VAE tiling",) and np.array_equal(out.image, reference)
        return "simulated out-of-memory: retried with VAE tiling, same picture"

    def cancel_fast() -> str:
        token = CancelToken()
        steps: list[int] = []

        def on_progress(p: Any) -> None:
            steps.append(p.step)
            token.cancel()

        out = engine.generate(request(sd, strength=1.0, steps=20), on_progress=on_progress, cancel=token)
        assert isinstance(out, Cancelled) and out.steps_run <= 2, (type(out).__name__, steps)
        return f"stopped after {out.steps_run} of 20 steps"

    def refiner() -> str:
        ref = ModelRef.parse(str(refiner_folder), device, precision)
        out = result(request(sdxl, strength=1.0, steps=10, refiner=ref))
        assert out.refiner is not None and out.steps_run == 10, (out.refiner, out.steps_run)
        return f"base + refiner, {out.steps_run} steps, {out.timings['total']:.1f} s"

    for name, check in (
        ("precision kept: img2img -> txt2img -> img2img", precision_kept),
        ("sampler options do not leak", sampler_fresh),
        ("memory steady across text-to-image jobs", memory_steady),
        ("memory released after unload", memory_released),
        ("out-of-memory ladder", oom_ladder),
        ("cancel within one step", cancel_fast),
        ("SDXL base + refiner", refiner),
    ):
        checks.run(name, check)
    return checks.report()


if __name__ == "__main__":
    sys.exit(main())
