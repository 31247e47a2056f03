"""Model sources and their failures: single files offline, the Hub cache offline, broken folders."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from sketchdiffuse.generation import Engine, GenerationRequest, GenerationResult, ModelRef, SourceKind
from sketchdiffuse.generation.checkpoint_family import family_of_checkpoint
from sketchdiffuse.generation.errors import (
    CorruptWeightsError,
    ModelNotCachedError,
    ModelNotFoundError,
    NotAStableDiffusionModelError,
    UnsupportedModelFileError,
)
from sketchdiffuse.generation.models import load_model
from sketchdiffuse.resources import resource
from tests.gen.ldm import clip_to_ldm, unet_to_ldm, vae_to_ldm

SKETCH = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def single_file_from(folder: Path, target: Path) -> Path:
    """Write the tiny pipeline in the original single-file layout most models are shared in."""
    state: dict[str, torch.Tensor] = {}
    for name, fn in (("unet", unet_to_ldm), ("vae", vae_to_ldm)):
        config = json.loads((folder / name / "config.json").read_text())
        state |= fn(load_file(folder / name / "diffusion_pytorch_model.safetensors"), config)
    state |= clip_to_ldm(load_file(folder / "text_encoder" / "model.safetensors"))
    save_file({k: v.contiguous() for k, v in state.items()}, target)
    return target


def generate(ref: ModelRef) -> GenerationResult:
    req = GenerationRequest("a cat", ref, init_image=SKETCH, strength=0.6, steps=5, seed=9, scheduler="Euler")
    result = Engine().generate(req)
    assert isinstance(result, GenerationResult)
    return result


def test_single_file_loads_offline_and_matches_the_folder(tiny_sd: Path, tmp_path: Path):
    path = single_file_from(tiny_sd, tmp_path / "tiny-model.safetensors")
    ref = ModelRef.parse(str(path))
    assert ref.kind is SourceKind.FILE
    ref = replace(ref, config_dir=str(tiny_sd))  # the tiny architecture is not one of the shipped families
    from_file = generate(ref)
    from_folder = generate(ModelRef.parse(str(tiny_sd)))
    assert np.abs(from_file.image.astype(int) - from_folder.image.astype(int)).max() <= 1
    assert len(from_file.model.short_hash) == 10 and from_file.model.name == "tiny-model"


def test_single_file_uses_the_shipped_tokenizer_when_the_config_has_none(tiny_sd: Path, tmp_path: Path):
    config = tmp_path / "config"
    shutil.copytree(tiny_sd, config, ignore=shutil.ignore_patterns("*.safetensors"))
    shutil.rmtree(config / "tokenizer")
    # Only the tokenizer is checked here: the tiny text encoder is not run with the full vocabulary.
    path = single_file_from(tiny_sd, tmp_path / "m.safetensors")
    model = load_model(ModelRef(str(path), SourceKind.FILE, config_dir=str(config)))
    assert len(model.pipe.tokenizer) == 49408
    assert model.pipe.tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]


def _header_only(path: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    save_file({k: torch.zeros(s, dtype=torch.float16) for k, s in shapes.items()}, path)
    return path


ATTN = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"


@pytest.mark.parametrize(
    ("name", "shapes", "label", "native", "config"),
    [
        ("dreamy-v1.safetensors", {ATTN: (320, 768)}, "SD 1.x", 512, "sd1"),
        ("v2-1_768-ema.safetensors", {ATTN: (320, 1024)}, "SD 2.x", 768, "sd2-768-v"),
        ("v2-1_512-base.safetensors", {ATTN: (320, 1024)}, "SD 2.x", 512, "sd2-512"),
        (
            "xl.safetensors",
            {ATTN: (320, 2048), "conditioner.embedders.1.model.ln_final.weight": (8,)},
            "SDXL",
            1024,
            "sdxl",
        ),
        (
            "sd_xl_turbo.safetensors",
            {ATTN: (320, 2048), "conditioner.embedders.1.model.ln_final.weight": (8,)},
            "SDXL",
            512,
            "sdxl",
        ),
    ],
)
def test_checkpoint_families_pick_shipped_configs(
    tmp_path: Path, name: str, shapes: dict, label: str, native: int, config: str
):
    family = family_of_checkpoint(_header_only(tmp_path / name, shapes))
    assert (family.label, family.native_size, family.config) == (label, native, config)
    assert (resource("model_configs", config) / "model_index.json").is_file()
    if "turbo" in name:
        assert (family.default_steps, family.default_guidance) == (2, 0.0)


def test_shipped_configs_build_the_real_architectures():
    from diffusers import UNet2DConditionModel

    for family, cross in (("sd1", 768), ("sd2-512", 1024), ("sdxl", 2048)):
        config = UNet2DConditionModel.load_config(resource("model_configs", family, "unet"))
        assert config["cross_attention_dim"] == cross
        with torch.device("meta"):
            unet = UNet2DConditionModel.from_config(config)
        params = sum(p.numel() for p in unet.parameters())
        assert params > 800_000_000  # SD 1.x/2.x UNets have ~860M parameters, SDXL ~2.6B


def test_bad_sources_get_clear_errors(tiny_sd: Path, tmp_path: Path):
    with pytest.raises(ModelNotFoundError, match="neither an existing folder"):
        ModelRef.parse(str(tmp_path / "nowhere"))
    pickle = tmp_path / "model.ckpt"
    pickle.write_bytes(b"not really")
    with pytest.raises(UnsupportedModelFileError, match="pickle"):
        ModelRef.parse(str(pickle))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotAStableDiffusionModelError, match=r"model_index\.json"):
        load_model(ModelRef.parse(str(empty)))
    half = tmp_path / "half"
    shutil.copytree(tiny_sd, half)
    (half / "unet" / "config.json").unlink()
    with pytest.raises(NotAStableDiffusionModelError, match="incomplete"):
        load_model(ModelRef.parse(str(half)))
    other = tmp_path / "flux"
    shutil.copytree(tiny_sd, other)
    index = json.loads((other / "model_index.json").read_text())
    (other / "model_index.json").write_text(json.dumps(index | {"_class_name": "FluxPipeline"}))
    with pytest.raises(NotAStableDiffusionModelError, match="FluxPipeline"):
        load_model(ModelRef.parse(str(other)))


def test_corrupt_weights(tiny_sd: Path, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_sd, broken)
    weights = broken / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CorruptWeightsError):
        load_model(ModelRef.parse(str(broken)))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(CorruptWeightsError, match=r"not a valid \.safetensors"):
        load_model(ModelRef.parse(str(junk)))
    lora = _header_only(tmp_path / "lora.safetensors", {"lora_unet_down.weight": (4, 4)})
    with pytest.raises(NotAStableDiffusionModelError, match="LoRA"):
        load_model(ModelRef.parse(str(lora)))


def _fake_hub_cache(cache: Path, repo: str, folder: Path) -> None:
    """The Hub cache layout: refs/main names a snapshot folder holding the files."""
    base = cache / f"models--{repo.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(folder, base / "snapshots" / commit)
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text(commit)


def test_hub_ids_load_from_the_cache_offline_and_uncached_ones_explain(
    tiny_sd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from huggingface_hub import constants

    assert constants.is_offline_mode()  # set by the test configuration
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    _fake_hub_cache(tmp_path, "artist/tiny-sd", tiny_sd)
    ref = ModelRef.parse("artist/tiny-sd")
    assert ref.kind is SourceKind.HUB
    result = generate(ref)
    assert result.model.name == "artist/tiny-sd"
    assert np.array_equal(result.image, generate(ModelRef.parse(str(tiny_sd))).image)
    with pytest.raises(ModelNotCachedError, match=r"'artist/not-downloaded'.*offline.*local model folder"):
        load_model(ModelRef.parse("artist/not-downloaded"))


def test_a_single_file_turbo_samples_from_the_last_timestep(tiny_sd: Path, tmp_path: Path):
    """At 2 steps and strength 0.5, leading spacing ([501, 1]) would run t=1 alone and change nothing."""
    from sketchdiffuse.generation import Engine
    from tests.gen.requests import img2img_request, run

    path = single_file_from(tiny_sd, tmp_path / "tiny-sd-turbo.safetensors")
    engine = Engine()
    request = img2img_request(tmp_path, steps=2, strength=0.5, scheduler="Euler")
    request = request.with_(model=replace(ModelRef.parse(str(path)), config_dir=str(tiny_sd)))
    engine.ensure_model(request.model)
    assert engine.model.family.distilled == "turbo"
    ran: list[int] = []
    hook = engine.model.pipe.unet.register_forward_pre_hook(lambda module, args: ran.append(int(args[1])))
    try:
        run(engine, request)
    finally:
        hook.remove()
    assert engine.model.scheduler_config["timestep_spacing"] == "trailing"
    assert ran and max(ran) >= 400  # trailing at 4 planned steps: [999, 749, 499, 249], the last two run


@pytest.mark.parametrize("config", ["sd1", "sd2-512", "sd2-768-v", "sdxl"])
def test_ddim_from_a_shipped_config_neither_clips_nor_sets_alpha_to_one(config: str):
    import json

    from sketchdiffuse.generation.schedulers import make_scheduler

    base = json.loads((resource("model_configs", config) / "scheduler" / "scheduler_config.json").read_text())
    ddim = make_scheduler("DDIM", base)
    assert ddim.config.clip_sample is False and ddim.config.set_alpha_to_one is False


def hub_style_copy(tiny_sd: Path, target: Path) -> Path:
    """The tiny model laid out like a Hub repository: fp32 and fp16 variant weights, a safety checker,
    and top-level single-file copies (the files a whole-repository download used to fetch)."""
    shutil.copytree(tiny_sd, target)
    for weights in list(target.glob("*/*.safetensors")):
        half = {k: v.half() for k, v in load_file(weights).items()}
        save_file(half, weights.with_name(weights.name.replace(".safetensors", ".fp16.safetensors")))
    checker = target / "safety_checker"
    checker.mkdir()
    (checker / "config.json").write_text("{}")
    (checker / "model.safetensors").write_bytes(b"0" * 1024)
    (target / "feature_extractor").mkdir()
    (target / "feature_extractor" / "preprocessor_config.json").write_text("{}")
    for name in ("tiny.safetensors", "tiny.fp16.safetensors", "tiny.ckpt"):
        (target / name).write_bytes(b"0" * 1024)
    index = json.loads((target / "model_index.json").read_text())
    index["safety_checker"] = ["stable_diffusion", "StableDiffusionSafetyChecker"]
    index["feature_extractor"] = ["transformers", "CLIPImageProcessor"]
    (target / "model_index.json").write_text(json.dumps(index))
    return target


@pytest.mark.parametrize("half", [True, False])
def test_a_hub_download_fetches_only_what_the_pipeline_loads(tiny_sd: Path, tmp_path: Path, half: bool):
    from sketchdiffuse.generation.hub import select_hub_files
    from sketchdiffuse.generation.models import load_model

    repo = hub_style_copy(tiny_sd, tmp_path / "repo")
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file())
    chosen = select_hub_files(files, json.loads((repo / "model_index.json").read_text()), half)
    weights = [f for f in chosen if f.endswith(".safetensors")]
    assert "model_index.json" in chosen and "tokenizer/tokenizer_config.json" in chosen
    assert not any(f.startswith(("safety_checker/", "feature_extractor/")) or "/" not in f[:-5] for f in weights)
    assert sorted(f.split("/")[0] for f in weights) == ["text_encoder", "unet", "vae"]
    assert all((".fp16." in f) == half for f in weights)
    # What was chosen is enough: the loader opens a folder holding only those files.
    subset = tmp_path / "subset"
    for name in chosen:
        (subset / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo / name, subset / name)
    model = load_model(ModelRef.parse(str(subset), precision="bf16" if half else "fp32"))
    assert model.pipe.unet.dtype == (torch.bfloat16 if half else torch.float32)


def test_a_partial_hub_download_is_found_offline(tiny_sd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Only the selected files are in the Hub cache; offline, the model is still found and loads."""
    from huggingface_hub import constants

    from sketchdiffuse.generation.hub import fetch_hub_model, select_hub_files
    from sketchdiffuse.generation.models import detect_family, load_model

    repo = hub_style_copy(tiny_sd, tmp_path / "repo")
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file())
    chosen = select_hub_files(files, json.loads((repo / "model_index.json").read_text()), half=True)
    cache = tmp_path / "hub"
    snapshot = cache / "models--someone--tiny" / "snapshots" / "0123abcd"
    for name in chosen:
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo / name, snapshot / name)
    (cache / "models--someone--tiny" / "refs").mkdir()
    (cache / "models--someone--tiny" / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert fetch_hub_model("someone/tiny", half=True) == snapshot
    assert detect_family(ModelRef.parse("someone/tiny")) is not None
    assert load_model(ModelRef.parse("someone/tiny", precision="bf16")).pipe.unet.dtype == torch.bfloat16


def test_sharded_fp16_weights_count_as_the_fp16_variant():
    from sketchdiffuse.generation.hub import select_hub_files

    files = [
        "model_index.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model-00001-of-00002.safetensors",
        "unet/diffusion_pytorch_model-00002-of-00002.safetensors",
        "unet/diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
        "unet/diffusion_pytorch_model.fp16-00002-of-00002.safetensors",
        "unet/diffusion_pytorch_model.safetensors.index.json",
        "unet/diffusion_pytorch_model.safetensors.index.fp16.json",
    ]
    chosen = select_hub_files(files, {"unet": ["diffusers", "UNet2DConditionModel"]}, half=True)
    assert [f for f in chosen if f.endswith(".safetensors")] == [
        "unet/diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
        "unet/diffusion_pytorch_model.fp16-00002-of-00002.safetensors",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_weights_bound_for_a_gpu_are_not_copied_in_ram_first(tiny_sd: Path, tmp_path: Path):
    """For the CPU a single file's weights are copied out of the mapped file (it can then be moved or
    deleted); for a GPU the move itself makes the copy, so the loader leaves them mapped until then."""
    from sketchdiffuse.generation.mapped_weights import file_mappings
    from sketchdiffuse.generation.models import _load_file

    path = single_file_from(tiny_sd, tmp_path / "tiny.safetensors")
    family = family_of_checkpoint(path)
    for copy_weights, mapped in ((True, 0), (False, 1)):
        pipe = _load_file(path, family, torch.float32, str(tiny_sd), copy_weights=copy_weights)
        weight = pipe.unet.conv_in.weight
        assert len(file_mappings([weight.data_ptr()], ".safetensors")) == mapped
        del pipe, weight


def test_the_artists_word_overrides_detection_when_loading(tiny_sd: Path, tmp_path: Path):
    from sketchdiffuse.generation.errors import UnrecognisedModelError
    from sketchdiffuse.generation.family_override import FamilyOverride
    from sketchdiffuse.generation.models import _checkpoint_family

    path = single_file_from(tiny_sd, tmp_path / "tiny.safetensors")
    override = FamilyOverride(prediction="v_prediction", native_size=96)
    ref = replace(ModelRef.parse(str(path)), config_dir=str(tiny_sd), override=override)
    model = load_model(ref)
    assert model.scheduler_config["prediction_type"] == "v_prediction"
    assert model.family.native_size == 96 and model.family.label.endswith("(set by you)")
    folder = load_model(replace(ModelRef.parse(str(tiny_sd)), override=FamilyOverride(distilled="turbo")))
    assert folder.family.distilled == "turbo" and folder.scheduler_config["timestep_spacing"] == "trailing"
    # A UNet of a layout nobody recognises: an error naming Model settings, or the family the artist gave.
    odd = _header_only(tmp_path / "odd.safetensors", {"model.diffusion_model.odd_block.weight": (4, 4)})
    with pytest.raises(UnrecognisedModelError, match="Model settings"):
        _checkpoint_family(odd, None)
    assert _checkpoint_family(odd, FamilyOverride(base="sdxl")).config == "sdxl"


def test_the_local_engine_lists_the_hub_models_it_has_and_prepares_one(
    tiny_sd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from huggingface_hub import constants

    from sketchdiffuse.cli import main

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    _fake_hub_cache(tmp_path, "artist/tiny-sd", tiny_sd)
    controlnet = tmp_path / "controlnet"
    controlnet.mkdir()
    (controlnet / "config.json").write_text(json.dumps({"_class_name": "ControlNetModel"}))
    _fake_hub_cache(tmp_path, "artist/scribble-net", controlnet)
    broken = tmp_path / "broken"
    (broken / "unet").mkdir(parents=True)
    (broken / "model_index.json").write_text(json.dumps({"unet": ["diffusers", "UNet2DConditionModel"]}))
    _fake_hub_cache(tmp_path, "artist/half-downloaded", broken)  # a component folder left empty
    other = tmp_path / "other"
    (other / "transformer").mkdir(parents=True)
    (other / "transformer" / "config.json").write_text("{}")
    (other / "model_index.json").write_text(
        json.dumps({"_class_name": "FluxPipeline", "transformer": ["diffusers", "FluxTransformer2DModel"]})
    )
    _fake_hub_cache(tmp_path, "artist/not-stable-diffusion", other)  # complete, but not a model the engine runs
    engine = Engine()
    lists = engine.available_models()
    assert (lists.checkpoints, lists.loras, lists.controlnets) == (["artist/tiny-sd"], [], ["artist/scribble-net"])
    assert engine.prepare(ModelRef.parse("artist/tiny-sd")) == engine.model.family  # loaded now
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "checkpoints downloaded from the Hub to this computer:\n  artist/tiny-sd\n" in out
    assert "ControlNets downloaded from the Hub to this computer:\n  artist/scribble-net\n" in out
