"""Model loading: time and peak resident memory, sketchdiffuse's loader against plain diffusers.

Both load the same fp16-variant folder (as a Hub download of the fp16 files leaves it) into the
same precision, each in a fresh process so its peak resident memory is its own:
plain diffusers ``from_pretrained(variant="fp16", torch_dtype=...)`` the way a user writes it,
and ``sketchdiffuse.generation.models.load_model``. Full-size architectures with random weights.

Run: .venv/bin/python benchmarks/bench_load.py [--family sd-turbo|sdxl] [--repeat 2]
The fp16 folders are written once to ~/.cache/sketchdiffuse/bench/<family>-fp16.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def fp16_folder(family: str) -> Path:
    from bench_generation import bench_cache, build_random_model

    cache = bench_cache()
    target = cache / f"{family}-fp16"
    if (target / "model_index.json").is_file():
        return target
    if family == "sdxl":
        from gpu_smoke import build_random_sdxl

        build_random_sdxl("sdxl", target)  # written in fp16 with the variant names
        return target
    import torch
    from diffusers import DiffusionPipeline

    source = build_random_model(family, cache / f"{family}-random")
    pipe = DiffusionPipeline.from_pretrained(source, safety_checker=None)
    pipe.to(torch.float16).save_pretrained(target, safe_serialization=True, variant="fp16")
    return target


def child(kind: str, folder: str, precision: str) -> None:
    """One load in this process; prints its time and this process's peak resident memory."""
    import torch

    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32, "fp16": torch.float16}[precision]
    started = time.perf_counter()
    if kind == "plain":
        from diffusers import DiffusionPipeline

        pipe = DiffusionPipeline.from_pretrained(folder, variant="fp16", dtype=dtype, safety_checker=None)
        weights = next(pipe.unet.parameters())
    else:
        from sketchdiffuse.generation.model_ref import ModelRef
        from sketchdiffuse.generation.models import load_model

        model = load_model(ModelRef.parse(folder, "cpu", precision))
        weights = next(model.pipe.unet.parameters())
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "dtype": str(weights.dtype)}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", default="sd-turbo", choices=["sd-turbo", "sdxl"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", choices=["plain", "engine"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default=None, help="bf16, fp16 or fp32 (default: what the engine picks)")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder, args.precision)
        return 0
    from sketchdiffuse.generation.models import pick_dtype

    precision = args.precision or {"torch.bfloat16": "bf16", "torch.float32": "fp32"}[str(pick_dtype("cpu"))]
    folder = fp16_folder(args.family)
    size = sum(p.stat().st_size for p in folder.rglob("*.safetensors")) / 1e9
    print(
        f"{args.family}: fp16-variant folder of {size:.1f} GB loaded into {precision} on the CPU, "
        f"{args.repeat} fresh processes each (page cache warm after the first)"
    )
    print(f"{'loader':<16} | {'seconds (median)':>16} | {'peak RSS MB (max)':>17} | UNet dtype")
    rows = {}
    for kind in ["plain", "engine"] * args.repeat:  # interleaved: both meet the same page cache
        done = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--folder", str(folder), "--precision", precision],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.setdefault(kind, []).append(json.loads(done.stdout.strip().splitlines()[-1]))
    for kind, label in (("plain", "plain diffusers"), ("engine", "sketchdiffuse")):
        runs = rows[kind]
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        print(f"{label:<16} | {seconds:16.1f} | {peak:17.0f} | {runs[0]['dtype']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
