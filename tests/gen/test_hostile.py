"""Hostile requests on the tiny real model: huge and non-Latin prompts, odd canvas sizes, cancel at every stage."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketchdiffuse.generation import Cancelled, CancelToken, Engine, GenerationResult
from sketchdiffuse.generation.history_store import StoredEntry, entry_from_png, entry_png
from sketchdiffuse.io.png_meta import PARAMETERS_KEY, parse_parameters
from tests.gen.requests import img2img_request as request


def test_a_two_thousand_word_prompt_is_used_whole(engine: Engine, tiny_sd: Path):
    words = " ".join(f"word{i % 50}" for i in range(2000))
    result = engine.generate(request(tiny_sd, prompt=words))
    assert isinstance(result, GenerationResult) and result.image.shape == (64, 64, 3)
    assert result.warnings == ()  # SD 1/2 prompts are chunked, nothing is dropped


@pytest.mark.parametrize(
    "prompt", ["水彩画の灯台、夕暮れ", "маяк акварелью", "منارة بالألوان المائية", "🌊 lighthouse"]
)
def test_non_latin_prompts_generate_and_survive_in_the_png(engine: Engine, tiny_sd: Path, prompt: str):
    result = engine.generate(request(tiny_sd, prompt=prompt, negative_prompt="ぼやけ"))
    assert isinstance(result, GenerationResult)
    data = entry_png(StoredEntry(result, False, 0.0))
    with Image.open(io.BytesIO(data)) as image:
        parsed_prompt, negative, settings = parse_parameters(image.text[PARAMETERS_KEY])
    assert (parsed_prompt, negative, settings["Seed"]) == (prompt, "ぼやけ", "3")
    assert entry_from_png(data).result.request.prompt == prompt


@pytest.mark.parametrize("size", [(1, 1), (13, 29), (8192, 8192)])
def test_any_canvas_size_comes_back_at_its_size(engine: Engine, tiny_sd: Path, size: tuple[int, int]):
    w, h = size
    result = engine.generate(request(tiny_sd, init_image=np.zeros((h, w, 3), np.uint8)))
    assert isinstance(result, GenerationResult)
    assert result.image.shape == (h, w, 3)
    assert result.width % 8 == 0 and result.height % 8 == 0
    assert result.width * result.height <= 1.25 * 64 * 64  # the area stays near native² (64 for the tiny model)


def cancel_when(engine: Engine, tiny_sd: Path, stage: str, monkeypatch: pytest.MonkeyPatch) -> object:
    token = CancelToken()
    engine.unload() if stage == "loading" else engine.ensure_model(request(tiny_sd).model)
    kwargs: dict[str, object] = {"cancel": token}
    if stage == "loading":
        kwargs["on_load"] = lambda s, done, total: token.cancel()
    elif stage == "stepping":
        kwargs["on_progress"] = lambda p: token.cancel()
    else:
        model = engine.model
        assert model is not None
        vae = model.pipe.vae
        name = "encode" if stage == "encoding" else "decode"
        real = getattr(vae, name)

        def cancelling(*args: object, **kw: object) -> object:
            token.cancel()
            return real(*args, **kw)

        monkeypatch.setattr(vae, name, cancelling)
    # A drawing of its own, so the engine's cache of the last drawing does not skip the encoder.
    drawing = np.random.default_rng(sum(map(ord, stage))).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return engine.generate(request(tiny_sd, steps=20, init_image=drawing), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("stage", ["loading", "encoding", "stepping", "decoding"])
def test_cancel_at_every_stage_stops_cleanly_and_the_engine_goes_on(
    engine: Engine, tiny_sd: Path, stage: str, monkeypatch: pytest.MonkeyPatch
):
    outcome = cancel_when(engine, tiny_sd, stage, monkeypatch)
    if stage == "decoding":
        # The last stage cannot be interrupted; the finished picture is kept rather than thrown away.
        assert isinstance(outcome, GenerationResult)
    else:
        assert isinstance(outcome, Cancelled)
        assert outcome.steps_run <= 1  # stopped at the first step boundary at the latest
    monkeypatch.undo()
    assert isinstance(engine.generate(request(tiny_sd)), GenerationResult)
