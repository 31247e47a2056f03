"""The fast path on the tiny real pipeline: caches, bf16, the tiny autoencoder, the live working size.

Tolerances: cached results must equal uncached ones exactly; bf16 must stay within a relative
error of 2e-2 of fp32 (||a - b|| / ||b|| over the image in [0, 1]); the tiny autoencoder must
equal a plain diffusers pipeline that uses the same AutoencoderTiny within 1/255.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from sketchdiffuse.generation import Engine, GenerationResult, ModelError, models
from sketchdiffuse.generation.models import pick_dtype
from tests.gen.requests import img2img_request, plain_img2img, run

SKETCH = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)


request = partial(
    img2img_request,
    prompt="a red boat",
    negative_prompt="fog",
    precision="fp32",
    init_image=SKETCH,
    guidance_scale=6.0,
    seed=77,
)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64) / 255, b.astype(np.float64) / 255
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def assert_matches_plain(result: GenerationResult, plain: object) -> None:
    """The same request through a plain diffusers pipeline gives the same pixels (within 1/255)."""
    expected = plain_img2img(plain, result)
    assert np.abs(result.image.astype(int) - expected.astype(int)).max() <= 1


@pytest.fixture(scope="module")
def tiny_autoencoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from diffusers import AutoencoderTiny

    torch.manual_seed(5)
    folder = tmp_path_factory.mktemp("taesd") / "tiny-taesd"
    AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
    ).save_pretrained(folder)
    return folder


def test_unchanged_prompt_and_drawing_are_reused_with_identical_pixels(tiny_sd: Path):
    engine = Engine()
    first = run(engine, request(tiny_sd))
    assert "cached prompt" not in first.shortcuts and "cached drawing" not in first.shortcuts
    again = run(engine, request(tiny_sd))
    assert {"cached prompt", "cached drawing"} <= set(again.shortcuts)
    assert np.array_equal(first.image, again.image)
    # A new seed with the cached drawing equals what a fresh engine makes for that seed.
    reseeded = run(engine, request(tiny_sd, seed=78))
    assert "cached drawing" in reseeded.shortcuts
    assert np.array_equal(reseeded.image, run(Engine(), request(tiny_sd, seed=78)).image)
    assert not np.array_equal(reseeded.image, first.image)
    # A changed drawing or prompt is encoded again.
    changed = run(engine, request(tiny_sd, init_image=255 - SKETCH, prompt="a blue boat"))
    assert "cached drawing" not in changed.shortcuts and "cached prompt" not in changed.shortcuts


def test_sdxl_img2img_equals_a_plain_diffusers_call(tiny_sdxl: Path):
    from diffusers import StableDiffusionXLImg2ImgPipeline

    result = run(Engine(), request(tiny_sdxl))
    plain = StableDiffusionXLImg2ImgPipeline.from_pretrained(tiny_sdxl)
    assert_matches_plain(result, plain)


def test_bf16_stays_within_tolerance_of_fp32(tiny_sd: Path):
    reference = run(Engine(), request(tiny_sd, precision="fp32"))
    fast = run(Engine(), request(tiny_sd, precision="bf16"))
    error = relative_error(fast.image, reference.image)
    print(f"bf16 relative error on the tiny model: {error:.4f}")
    assert 0 < error < 2e-2, error
    assert "bf16" in fast.shortcuts and "bf16" not in reference.shortcuts


def test_auto_precision_picks_bf16_only_where_the_cpu_has_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(models, "cpu_has_fast_bf16", lambda: False)
    assert pick_dtype("cpu", "auto") == torch.float32
    monkeypatch.setattr(models, "cpu_has_fast_bf16", lambda: True)
    assert pick_dtype("cpu", "auto") == torch.bfloat16
    assert pick_dtype("cpu", "fp32") == torch.float32  # an explicit choice wins


def test_tiny_autoencoder_equals_plain_diffusers_with_the_same_decoder(tiny_sd: Path, tiny_autoencoder: Path):
    from diffusers import AutoencoderTiny, StableDiffusionImg2ImgPipeline

    engine = Engine()
    result = run(engine, request(tiny_sd, tiny_autoencoder=str(tiny_autoencoder)))
    assert "tiny autoencoder" in result.shortcuts
    plain = StableDiffusionImg2ImgPipeline.from_pretrained(
        tiny_sd,
        vae=AutoencoderTiny.from_pretrained(tiny_autoencoder),
        safety_checker=None,
        requires_safety_checker=False,
    )
    assert_matches_plain(result, plain)
    # The full VAE comes back when the request no longer asks for the tiny one.
    full = run(engine, request(tiny_sd))
    assert "tiny autoencoder" not in full.shortcuts and not np.array_equal(full.image, result.image)


def test_a_broken_tiny_autoencoder_is_a_clear_error_and_the_engine_goes_on(tiny_sd: Path, tmp_path: Path):
    engine = Engine()
    empty = tmp_path / "empty-taesd"
    empty.mkdir()
    with pytest.raises(ModelError, match="tiny autoencoder"):
        engine.generate(request(tiny_sd, tiny_autoencoder=str(empty)))
    junk = tmp_path / "taesd.safetensors"
    junk.write_bytes(b"not weights at all")
    with pytest.raises(ModelError, match="tiny autoencoder"):
        engine.generate(request(tiny_sd, tiny_autoencoder=str(junk)))
    assert run(engine, request(tiny_sd)).image.shape == (64, 64, 3)


def test_a_single_file_tiny_autoencoder_loads(tiny_sd: Path, tiny_autoencoder: Path, tmp_path: Path):
    import shutil

    from diffusers import AutoencoderTiny
    from safetensors.torch import save_file

    file = tmp_path / "taesd.safetensors"
    save_file(AutoencoderTiny().state_dict(), file)  # the TAESD architecture, random weights
    result = run(Engine(), request(tiny_sd, tiny_autoencoder=str(file)))
    assert "tiny autoencoder" in result.shortcuts and result.image.shape == (64, 64, 3)
    other = tmp_path / "small.safetensors"
    shutil.copy(tiny_autoencoder / "diffusion_pytorch_model.safetensors", other)
    with pytest.raises(ModelError, match="not an AutoencoderTiny"):
        run(Engine(), request(tiny_sd, tiny_autoencoder=str(other)))


def test_the_live_working_size_caps_the_longer_side(tiny_sd: Path):
    wide = np.zeros((48, 96, 3), np.uint8)
    engine = Engine()
    result = run(engine, request(tiny_sd, init_image=wide, work_side=32))
    assert (result.width, result.height) == (32, 16)
    assert result.image.shape == (48, 96, 3)  # returned at the canvas size
    # A cap above the work size changes nothing (the tiny model's native size is 64).
    big = run(engine, request(tiny_sd, init_image=wide, work_side=512))
    assert (big.width, big.height) == (88, 48)


def test_previews_use_the_tiny_autoencoder_when_there_is_one(tiny_sd: Path, tiny_autoencoder: Path):
    previews: list[np.ndarray] = []
    engine = Engine()
    req = request(tiny_sd, tiny_autoencoder=str(tiny_autoencoder), strength=1.0, steps=4)
    result = engine.generate(req, on_preview=previews.append)
    assert isinstance(result, GenerationResult) and len(previews) == 1
    assert engine.tiny is not None and engine.model is not None
    latent = 64 // engine.model.pipe.vae_scale_factor
    side = engine.tiny.decode(torch.zeros(1, 4, latent, latent)).shape[-1]  # what the decoder makes of them
    assert side > latent and previews[0].shape == (side, side, 3) and previews[0].dtype == np.uint8  # a decoded picture
    # Only for previews: the final picture still comes from the full VAE.
    previews.clear()
    only = engine.generate(
        req.with_(tiny_autoencoder=None, preview_decoder=str(tiny_autoencoder)), on_preview=previews.append
    )
    assert isinstance(only, GenerationResult) and "tiny autoencoder" not in only.shortcuts
    assert previews[0].shape == (side, side, 3)
    assert np.array_equal(only.image, run(Engine(), req.with_(tiny_autoencoder=None)).image)


@pytest.mark.parametrize(
    ("capability", "hip", "expected"),
    [
        ((7, 5), None, "float16"),
        ((7, 0), None, "float16"),
        ((8, 0), None, "bfloat16"),
        ((9, 0), None, "bfloat16"),
        ((9, 0), "6.2", "float16"),
    ],
)
def test_auto_precision_on_a_gpu_picks_bf16_only_where_it_is_native(
    monkeypatch: pytest.MonkeyPatch, capability: tuple[int, int], hip: str | None, expected: str
):
    """No GPU here: the device's answers are what differs between machines, so they are given."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what torch says even when emulated
    monkeypatch.setattr(torch.version, "hip", hip)
    assert pick_dtype("cuda", "auto") == getattr(torch, expected)


def test_a_gpu_this_pytorch_cannot_use_is_named_not_silently_skipped(monkeypatch: pytest.MonkeyPatch):
    """The machine's answers are given: a device node exists, and CUDA fails to start or lacks the architecture."""
    from pathlib import Path

    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda self: str(self) == "/dev/nvidiactl" or real_exists(self))
    monkeypatch.setattr(torch.version, "cuda", "12.8")

    def old_driver() -> None:
        raise RuntimeError("The NVIDIA driver on your system is too old (found version 11040).")

    monkeypatch.setattr(torch.cuda, "init", old_driver)
    assert "driver on your system is too old" in models.unusable_gpu()
    monkeypatch.setattr(torch.cuda, "init", lambda: None)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (12, 0))
    monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: ["sm_80", "sm_90"])
    assert "sm_120" in models.unusable_gpu()
    monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: ["sm_90", "sm_120"])
    assert models.unusable_gpu() is None
    monkeypatch.setattr(torch.version, "cuda", None)
    assert "no CUDA support" in models.unusable_gpu()


def test_without_an_nvidia_device_there_is_nothing_to_say():
    assert models.unusable_gpu() is None  # this machine has no GPU
