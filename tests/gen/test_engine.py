"""The engine on the tiny real pipeline: fidelity with plain diffusers, strength, cancel, reuse."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from sketchdiffuse.generation import Cancelled, CancelToken, Engine, ModelRef
from sketchdiffuse.generation.engine import plan_steps, work_size
from sketchdiffuse.generation.request import SizePolicy
from sketchdiffuse.generation.schedulers import SCHEDULER_NAMES
from tests.gen.requests import img2img_request, max_diff, plain_img2img, run

SKETCH = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


# Compared with plain diffusers in fp32.
request = partial(img2img_request, negative_prompt="a dog", precision="fp32", init_image=SKETCH, seed=1234)


def test_img2img_equals_a_plain_diffusers_call(engine: Engine, tiny_sd: Path):
    from diffusers import StableDiffusionImg2ImgPipeline

    result = run(engine, request(tiny_sd))
    plain = StableDiffusionImg2ImgPipeline.from_pretrained(tiny_sd, safety_checker=None, requires_safety_checker=False)
    expected = plain_img2img(plain, result)
    assert result.image.shape == (64, 64, 3)
    assert max_diff(result.image, expected) <= 1
    assert (result.steps_run, result.total_steps, result.seed) == (2, 4, 1234)
    assert {"load", "text_encode", "vae_encode", "denoise", "vae_decode", "total"} <= set(result.timings)


def test_txt2img_at_full_strength_equals_plain_diffusers_and_shares_the_components(engine: Engine, tiny_sd: Path):
    from diffusers import StableDiffusionPipeline

    result = run(engine, request(tiny_sd, strength=1.0))
    model = engine.model
    assert model is not None and model.txt2img().unet is model.pipe.unet  # no second load
    plain = StableDiffusionPipeline.from_pretrained(tiny_sd, safety_checker=None, requires_safety_checker=False)
    plain.set_progress_bar_config(disable=True)
    expected = plain(
        prompt="a cat",
        negative_prompt="a dog",
        height=64,
        width=64,
        num_inference_steps=4,
        guidance_scale=7.0,
        generator=torch.Generator().manual_seed(1234),
    ).images[0]
    assert max_diff(result.image, np.asarray(expected)) <= 1
    assert result.steps_run == 4
    # The drawing is ignored at strength 1: another drawing gives the same picture.
    other = run(engine, request(tiny_sd, strength=1.0, init_image=255 - SKETCH))
    assert np.array_equal(other.image, result.image)


def test_strength_zero_returns_the_drawing_without_a_model(tiny_sd: Path):
    fresh = Engine()
    result = run(fresh, request(tiny_sd, strength=0.0))
    assert np.array_equal(result.image, SKETCH)
    assert result.steps_run == 0 and fresh.model is None


def test_tiny_strength_runs_one_step(engine: Engine, tiny_sd: Path):
    result = run(engine, request(tiny_sd, strength=0.05, steps=4))
    assert result.steps_run == 1
    assert result.total_steps == 20  # the schedule was lengthened so one step runs near strength 0.05
    assert max_diff(result.image, SKETCH) > 0
    assert plan_steps(4, 0.05) == (20, 1)
    assert plan_steps(20, 0.6) == (20, 12)


def test_same_request_same_pixels_and_random_seeds_are_recorded(engine: Engine, tiny_sd: Path):
    a = run(engine, request(tiny_sd))
    b = run(engine, request(tiny_sd))
    assert np.array_equal(a.image, b.image)
    r1 = run(engine, request(tiny_sd, seed=-1))
    r2 = run(engine, request(tiny_sd, seed=-1))
    assert r1.seed != r2.seed and 0 <= r1.seed < 2**32
    again = run(engine, request(tiny_sd, seed=r1.seed))
    assert np.array_equal(again.image, r1.image)


def test_second_generation_does_not_reload(engine: Engine, tiny_sd: Path):
    run(engine, request(tiny_sd))
    first = engine.model
    run(engine, request(tiny_sd, prompt="a dog", seed=5))
    assert engine.model is first


def test_cancel_mid_run_skips_decode_and_engine_stays_ready(engine: Engine, tiny_sd: Path):
    token = CancelToken()
    steps_seen: list[int] = []

    def on_progress(p: object) -> None:
        steps_seen.append(p.step)  # type: ignore[attr-defined]
        token.cancel()

    outcome = engine.generate(request(tiny_sd, strength=1.0, steps=8), on_progress=on_progress, cancel=token)
    assert isinstance(outcome, Cancelled)
    assert outcome.steps_run == 1 and steps_seen == [1]
    after = run(engine, request(tiny_sd))
    assert after.steps_run == 2


def test_cancel_before_start_returns_cancelled(engine: Engine, tiny_sd: Path):
    token = CancelToken()
    token.cancel()
    assert isinstance(engine.generate(request(tiny_sd), cancel=token), Cancelled)


def test_progress_and_previews(engine: Engine, tiny_sd: Path):
    progress: list[object] = []
    previews: list[np.ndarray] = []
    run(engine, request(tiny_sd, strength=1.0, steps=6), on_progress=progress.append, on_preview=previews.append)
    assert [p.step for p in progress] == [1, 2, 3, 4, 5, 6]  # type: ignore[attr-defined]
    assert all(p.total == 6 and p.remaining >= 0 for p in progress)  # type: ignore[attr-defined]
    assert len(previews) == 2  # every second step, not after the last
    factor = engine.model.pipe.vae_scale_factor  # type: ignore[union-attr]
    assert previews[0].shape == (64 // factor, 64 // factor, 3) and previews[0].dtype == np.uint8


@pytest.mark.parametrize("name", SCHEDULER_NAMES)
def test_every_scheduler_runs(engine: Engine, tiny_sd: Path, name: str):
    guidance = 1.0 if name == "LCM" else 7.0
    result = run(engine, request(tiny_sd, scheduler=name, guidance_scale=guidance))
    assert result.image.shape == (64, 64, 3) and result.steps_run >= 1
    assert max_diff(result.image, SKETCH) > 0


def test_schedulers_give_different_pictures(engine: Engine, tiny_sd: Path):
    a = run(engine, request(tiny_sd, scheduler="Euler", strength=1.0))
    b = run(engine, request(tiny_sd, scheduler="DDIM", strength=1.0))
    assert max_diff(a.image, b.image) > 5


def test_sizes_follow_the_policy(engine: Engine, tiny_sd: Path):
    # The area stays near native² in multiples of 64: a 16:9 canvas on SD 1.5 is not shrunk to 512 x 288.
    assert work_size(1920, 1080, SizePolicy.NATIVE, 512) == (704, 384)
    assert work_size(1000, 500, SizePolicy.NATIVE, 512) == (704, 384)
    assert work_size(1024, 1024, SizePolicy.NATIVE, 1024) == (1024, 1024)
    assert work_size(4000, 1000, SizePolicy.NATIVE, 1024, longest=384) == (384, 96)
    assert work_size(333, 101, SizePolicy.CANVAS, 512) == (336, 104)
    assert work_size(1, 1, SizePolicy.CANVAS, 512) == (8, 8)
    wide = np.zeros((30, 100, 3), np.uint8)
    result = run(engine, request(tiny_sd, init_image=wide))
    assert result.image.shape == (30, 100, 3)  # back at the canvas size
    assert (result.width, result.height) == (120, 32)  # area near 64², multiples of 8 for a tiny model
    kept = run(engine, request(tiny_sd, init_image=wide, size_policy=SizePolicy.CANVAS))
    assert (kept.width, kept.height) == (96, 32)


def test_long_prompts_are_not_cut(engine: Engine, tiny_sd: Path):
    words = " ".join(["cat"] * 300)
    short = run(engine, request(tiny_sd, prompt="cat " * 70))
    long = run(engine, request(tiny_sd, prompt=words + " dog"))
    assert long.warnings == ()
    assert max_diff(short.image, long.image) > 0
    from sketchdiffuse.generation.prompts import encode

    model = engine.model
    assert model is not None
    emb = encode(model.pipe, words, "", True, False, "cpu")
    assert emb.prompt.shape[1] == 77 * 4 and emb.negative.shape == emb.prompt.shape


def test_sdxl_img2img_and_txt2img(tiny_sdxl: Path):
    engine = Engine()
    result = run(engine, request(tiny_sdxl, guidance_scale=5.0))
    assert result.image.shape == (64, 64, 3) and result.model.family == "SDXL"
    txt = run(engine, request(tiny_sdxl, strength=1.0))
    assert txt.steps_run == 4 and max_diff(txt.image, result.image) > 0
    long = run(engine, request(tiny_sdxl, prompt="cat " * 100 + "zebra"))
    assert long.warnings and "zebra" in long.warnings[0]


def test_out_of_memory_on_a_gpu_falls_back_to_tiling_first(engine: Engine, tiny_sd: Path):
    run(engine, request(tiny_sd))
    model = engine.model
    assert model is not None
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return "ok"

    model.device = "cuda"  # on a GPU, tiling comes first and CPU offload would be next
    used: list[str] = []
    try:
        assert Engine._with_memory_fallbacks(model, flaky, used) == "ok"
        assert model.pipe.vae.use_tiling and used == ["VAE tiling"] and model.memory_fallbacks == []
    finally:
        model.device = "cpu"
        model.pipe.vae.disable_tiling()


def test_a_picture_too_large_for_one_vae_pass_is_decoded_in_tiles(engine: Engine, tiny_sd: Path):
    """GPU kernels report tensors past 32-bit indexing as RuntimeErrors that are not out-of-memory; they
    get VAE tiling (never CPU offload, which would not help), and the picture says so."""
    plain = run(engine, request(tiny_sd))
    model = engine.model
    assert model is not None
    vae = model.pipe.vae
    real_decode = type(vae).decode
    tried: list[bool] = []

    def decode(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        tried.append(self.use_tiling)
        if not self.use_tiling:
            raise RuntimeError("Expected canUse32BitIndexMath(input) && canUse32BitIndexMath(output) to be true")
        return real_decode(self, *args, **kwargs)

    model.device = "cuda"  # where CPU offload would otherwise be the next fallback
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(vae), "decode", decode)
            result = run(engine, request(tiny_sd))
    finally:
        model.device = "cpu"
    assert tried == [False, True] and result.memory_fallbacks == ("VAE tiling",)
    assert model.memory_fallbacks == [] and not vae.use_tiling  # offload untouched; tiling undone after the job
    assert max_diff(result.image, plain.image) <= 2  # the tiny picture is one tile: the same picture
    with pytest.MonkeyPatch.context() as patch:  # any other error is not retried
        patch.setattr(type(vae), "decode", lambda self, *a, **k: (_ for _ in ()).throw(RuntimeError("broken")))
        with pytest.raises(RuntimeError, match="broken"):
            run(engine, request(tiny_sd))


def test_too_large_even_in_tiles_is_a_clear_error(engine: Engine, tiny_sd: Path):
    from sketchdiffuse.generation.errors import OutOfMemoryError

    run(engine, request(tiny_sd))
    model = engine.model
    assert model is not None

    def too_large() -> None:
        raise RuntimeError("upsample_nearest_nhwc only supports output tensors with less than INT_MAX elements")

    model.pipe.vae.enable_tiling()  # nothing left to try
    try:
        with pytest.raises(OutOfMemoryError, match="too large for this GPU to compute in one pass"):
            Engine._with_memory_fallbacks(model, too_large, [])
    finally:
        model.pipe.vae.disable_tiling()


def test_an_unloaded_model_is_freed(tiny_sd: Path):
    import gc
    import weakref

    from sketchdiffuse.generation.models import free_memory

    fresh = Engine()
    run(fresh, request(tiny_sd))
    assert fresh.model is not None and gc.get_freeze_count() > 0  # the load froze what it created
    unet = weakref.ref(fresh.model.pipe.unet)

    class Node:
        pass

    cyclic = Node()
    cyclic.self = cyclic  # type: ignore[attr-defined]  # only the cycle collector can free it
    gc.freeze()  # as a model load leaves it
    cyclic_ref = weakref.ref(cyclic)
    del cyclic
    fresh.unload()
    assert unet() is None
    free_memory()
    assert cyclic_ref() is None  # frozen cycles are thawed before the collection


@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_an_out_of_memory_retry_reproduces_the_seed_and_says_so(engine: Engine, tiny_sd: Path, strength: float):
    """A real out-of-memory cannot be caused here, so the UNet's first forward raises torch's own error."""
    reference = run(engine, request(tiny_sd, strength=strength, seed=99))
    unet = engine.model.pipe.unet
    calls = [0]

    def fail_once(module, args):
        calls[0] += 1
        if calls[0] == 2:  # part-way through the first attempt's steps
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    handle = unet.register_forward_pre_hook(fail_once)
    steps: list[tuple[int, int]] = []
    try:
        result = run(
            engine, request(tiny_sd, strength=strength, seed=99), on_progress=lambda p: steps.append((p.step, p.total))
        )
    finally:
        handle.remove()
    assert np.array_equal(result.image, reference.image)  # the retry started again from the seed
    assert result.memory_fallbacks == ("VAE tiling",)
    assert any("out of memory" in w and "VAE tiling" in w for w in result.warnings)
    assert all(step <= total for step, total in steps) and steps[-1][0] == steps[-1][1] == result.steps_run
    assert not engine.model.pipe.vae.use_tiling  # the next job starts as configured
    later = run(engine, request(tiny_sd, strength=strength, seed=99))
    assert later.memory_fallbacks == () and not later.warnings


def test_a_sampler_does_not_inherit_the_previous_jobs_options(tiny_sd: Path):
    """Euler after DPM++ 2M Karras equals a fresh Euler: every scheduler starts from the model's own config."""
    fresh = run(Engine(), request(tiny_sd, scheduler="Euler", seed=5))
    engine = Engine()
    run(engine, request(tiny_sd, scheduler="DPM++ 2M Karras", seed=5))
    after = run(engine, request(tiny_sd, scheduler="Euler", seed=5))
    assert np.array_equal(after.image, fresh.image)
    assert not engine.model.pipe.scheduler.config.get("use_karras_sigmas", False)


def test_text_to_image_keeps_the_models_precision(tiny_sd: Path):
    engine = Engine()
    dtypes = []
    for strength in (0.5, 1.0, 0.5):
        run(engine, request(tiny_sd, precision="bf16", strength=strength))
        pipe = engine.model.pipe
        dtypes.append({pipe.unet.dtype, pipe.vae.dtype, pipe.text_encoder.dtype})
    assert dtypes == [{torch.bfloat16}] * 3


def test_an_empty_sdxl_negative_prompt_is_the_zero_embedding(tiny_sdxl: Path):
    """SDXL was trained with zeros for "no negative prompt" (force_zeros_for_empty_prompt); "" differs."""
    from sketchdiffuse.generation.models import load_model
    from sketchdiffuse.generation.prompts import encode

    model = load_model(ModelRef.parse(str(tiny_sdxl), precision="fp32"))
    assert model.pipe.config.force_zeros_for_empty_prompt
    empty = encode(model.pipe, "a cat", "", True, True, "cpu")
    assert not empty.negative.any() and not empty.negative_pooled.any()
    given = encode(model.pipe, "a cat", "a dog", True, True, "cpu")
    assert given.negative.abs().sum() > 0


def test_an_sd1_vae_stays_in_fp16(tiny_sd: Path):
    """SD 1.x/2.x pipelines run their VAE in fp16 as loaded; only SDXL's upcast (its VAE overflows)."""
    engine = Engine()
    seen: list[torch.dtype] = []
    job = request(tiny_sd, precision="fp16")
    engine.ensure_model(job.model)
    vae = engine.model.pipe.vae
    for part in (vae.encoder, vae.decoder):
        part.register_forward_pre_hook(lambda module, args: seen.append(args[0].dtype))
    run(engine, job)
    assert seen == [torch.float16, torch.float16] and vae.dtype == torch.float16
