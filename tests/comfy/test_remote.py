"""The ComfyUI backend against a real server (conftest.py): img2img, text-to-image, a masked region, a LoRA,
cancel mid-run, the server killed mid-job and restarted, a wrong address, the model lists and the CLI."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sketchdiffuse.generation import GenerationRequest, GenerationResult, ModelRef, SizePolicy
from sketchdiffuse.generation.comfy.backend import ComfyBackend
from sketchdiffuse.generation.comfy.client import ComfyClient, ServerError
from sketchdiffuse.generation.controls import Control, ControlKind, Lora, Reference
from sketchdiffuse.generation.engine import CancelToken, Progress
from sketchdiffuse.generation.request import Cancelled
from tests.comfy.conftest import CHECKPOINT, CLIP_VISION, CONTROLNET, LORA, STYLE_MODEL, Server

pytestmark = pytest.mark.comfy

DRAWING = np.random.default_rng(5).integers(0, 256, (48, 64, 3), dtype=np.uint8)


def request(**kw: object) -> GenerationRequest:
    base: dict[str, object] = {
        "prompt": "a cat",
        "model": ModelRef.on_server(CHECKPOINT),
        "init_image": DRAWING,
        "strength": 0.6,
        "steps": 4,
        "seed": 11,
        "scheduler": "Euler",
        "size_policy": SizePolicy.CANVAS,  # 64 x 48 on the server: quick on the CPU
    }
    base.update(kw)
    return GenerationRequest(**base)  # type: ignore[arg-type]


def generated(backend: ComfyBackend, req: GenerationRequest, **kw: object) -> GenerationResult:
    result = backend.generate(req, **kw)  # type: ignore[arg-type]
    assert isinstance(result, GenerationResult)
    return result


def test_the_server_lists_its_models_and_passes_the_check(comfy_server: Server):
    with ComfyClient(comfy_server.url) as client:
        models, problems = client.check()
    assert models.checkpoints == [CHECKPOINT] and LORA in models.loras and problems == []


def test_img2img_and_text_to_image_with_progress_previews_and_the_server_named(comfy_server: Server):
    backend = ComfyBackend(comfy_server.url)
    steps: list[Progress] = []
    previews: list[np.ndarray] = []
    result = generated(backend, request(), on_progress=steps.append, on_preview=previews.append)
    assert result.image.shape == DRAWING.shape and not np.array_equal(result.image, DRAWING)
    assert result.image.std() > 5  # a picture, not a flat colour from overflowing weights
    assert [p.step for p in steps] == [1, 2] and previews  # 4 x 0.6 run, as locally and previews[0].ndim == 3
    assert result.server == comfy_server.url and "Made on ComfyUI" in result.warnings[0]
    again = generated(backend, request())
    assert np.array_equal(again.image, result.image)  # the same seed: the same picture from the server
    text = generated(backend, request(init_image=None, width=64, height=64, strength=1.0))
    assert text.image.shape == (64, 64, 3)


def test_a_masked_region_and_a_lora_change_the_picture(comfy_server: Server):
    backend = ComfyBackend(comfy_server.url)
    mask = np.zeros((48, 64), np.uint8)
    mask[8:40, 16:48] = 255
    masked = generated(backend, request(mask=mask, region=(0, 0, 64, 48), strength=1.0))
    assert masked.image.shape == DRAWING.shape
    # An inpainting checkpoint (told by its name) gets InpaintModelConditioning: the server accepts and runs
    # that graph (the random 4-channel model ignores the mask beside its latent, so only the run is checked).
    alias = comfy_server.base / "models" / "checkpoints" / "sd15-random-inpainting.safetensors"
    os.link(alias.with_name(CHECKPOINT), alias)  # the same file under another name
    try:
        inpainting = request(mask=mask, region=(0, 0, 64, 48), strength=0.9,
                             model=ModelRef.on_server(alias.name))  # fmt: skip
        painted = generated(backend, inpainting).image
        assert painted.shape == DRAWING.shape and painted.std() > 5
    finally:
        alias.unlink()
    plain = generated(backend, request())
    styled = generated(backend, request(loras=(Lora(LORA, 1.0),)))
    assert np.abs(styled.image.astype(int) - plain.image.astype(int)).max() > 10


def test_reference_pictures_steer_through_the_servers_style_models(comfy_server: Server):
    backend = ComfyBackend(comfy_server.url)
    stripes = np.zeros((96, 96, 3), np.uint8)
    stripes[:, ::12] = (40, 80, 220)
    plain = generated(backend, request())
    looked = generated(backend, request(references=(Reference(stripes, 1.0),)))
    assert np.abs(looked.image.astype(int) - plain.image.astype(int)).max() > 10
    assert looked.request.references[0].weight == 1.0  # the result keeps the request as asked
    unweighted = generated(backend, request(references=(Reference(stripes, 0.0),)))
    assert np.array_equal(unweighted.image, plain.image)  # weight 0: as if the reference were not there
    with pytest.raises(ServerError, match=r"work with SD 1\.x checkpoints"):
        backend.generate(request(model=ModelRef.on_server("sd_xl_base_1.0.safetensors"), references=(
            Reference(stripes, 1.0),)))  # fmt: skip


def test_a_control_layers_lines_steer_through_the_servers_controlnet(comfy_server: Server):
    backend = ComfyBackend(comfy_server.url)
    lines = np.zeros((48, 64, 3), np.uint8)
    lines[10:38, 20:44] = 255
    plain = generated(backend, request())
    # The artist's local file name (or Hub id) is found on the server by its file name.
    control = Control(ControlKind.SCRIBBLE, "/home/artist/controlnets/control_sd15_random.safetensors", lines, 1.0)
    steered = generated(backend, request(controls=(control,)))
    assert np.abs(steered.image.astype(int) - plain.image.astype(int)).max() > 10
    assert steered.request.controls[0].model == control.model  # the result keeps the artist's name
    off = generated(backend, request(controls=(replace(control, strength=0.0),)))
    assert np.array_equal(off.image, plain.image)  # strength 0: as if there were no control


def test_a_lora_or_controlnet_the_server_lacks_is_named_before_anything_is_sent(comfy_server: Server):
    backend = ComfyBackend(comfy_server.url)
    with pytest.raises(ServerError, match=r"The LoRA 'not-there' is not on ComfyUI at .*models/loras folder"):
        backend.generate(request(loras=(Lora("/home/artist/loras/not-there.safetensors", 1.0),)))


def test_cancel_stops_this_job_only_and_the_next_runs(comfy_server: Server):
    backend = ComfyBackend(comfy_server.url)
    cancel = CancelToken()
    outcome = backend.generate(request(steps=40), on_progress=lambda p: cancel.cancel(), cancel=cancel)
    assert isinstance(outcome, Cancelled) and outcome.steps_run < 40
    assert generated(backend, request()).image.shape == DRAWING.shape


def test_on_a_shared_server_queued_jobs_keep_their_own_drawings_and_a_waiting_job_cancels_at_once(
    comfy_server: Server,
):
    alone = generated(ComfyBackend(comfy_server.url), request(seed=7))
    other = np.ascontiguousarray(DRAWING[::-1])
    busy = threading.Thread(target=lambda: ComfyBackend(comfy_server.url).generate(request(steps=30, strength=1.0)))
    busy.start()  # someone else's long job: the next ones wait in the server's queue
    time.sleep(1.5)
    results: dict[str, object] = {}
    artists = [
        threading.Thread(target=lambda k=k, d=d: results.update({k: ComfyBackend(comfy_server.url).generate(
            request(seed=7, init_image=d))}))
        for k, d in (("a", DRAWING), ("b", other))
    ]  # fmt: skip
    for artist in artists:
        artist.start()
    cancel = CancelToken()
    waiting = threading.Timer(2.0, cancel.cancel)
    waiting.start()
    started = time.monotonic()
    outcome = ComfyBackend(comfy_server.url).generate(request(), cancel=cancel)
    assert isinstance(outcome, Cancelled) and time.monotonic() - started < 10  # not the hour a lost job waits
    for thread in (busy, *artists):
        thread.join(240)
    a, b = results["a"], results["b"]
    assert isinstance(a, GenerationResult) and isinstance(b, GenerationResult)
    assert np.array_equal(a.image, alone.image)  # the same seed from another artist did not swap drawings
    assert not np.array_equal(a.image, b.image)


class _DroppingClient(ComfyClient):
    """Its first socket drops at the first progress message; it reconnects only once the job has ended."""

    def _socket(self) -> Any:
        real = super()._socket()
        if getattr(self, "dropped", False):
            return real
        client = self

        class Dropping:
            def recv(self, timeout: float | None = None) -> Any:
                message = real.recv(timeout=timeout)
                if isinstance(message, str) and '"progress"' in message:
                    client.dropped = True
                    real.close()
                    raise ConnectionError("dropped by the test")
                return message

            def close(self) -> None:
                real.close()

        return Dropping()

    def _reconnect(self, old: Any) -> Any:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(self.http.get("/queue").json().values()):
            time.sleep(0.2)
        return super()._reconnect(old)


def test_a_connection_back_after_the_job_ended_says_the_picture_was_lost_at_once(comfy_server: Server):
    backend = ComfyBackend(comfy_server.url)
    backend.client = _DroppingClient(comfy_server.url)
    started = time.monotonic()
    with pytest.raises(ServerError, match="ended without sending its picture"):
        backend.generate(request(steps=8, strength=1.0))
    assert time.monotonic() - started < 60
    assert generated(ComfyBackend(comfy_server.url), request()).image.shape == DRAWING.shape


def test_a_server_killed_mid_job_is_a_clear_error_and_a_restarted_one_works(comfy_server: Server):
    backend = ComfyBackend(comfy_server.url)

    def kill_on_first_step(p: Progress) -> None:
        if p.step == 1:
            comfy_server.stop()

    with pytest.raises(ServerError, match=r"dropped during the job|cannot be reached"):
        backend.generate(request(steps=40), on_progress=kill_on_first_step)
    with pytest.raises(ServerError, match="cannot be reached"):
        backend.generate(request())
    comfy_server.start()
    assert generated(backend, request()).image.shape == DRAWING.shape


def test_a_wrong_address_or_a_server_that_is_not_comfyui_is_said_plainly():
    with pytest.raises(ServerError, match="cannot be reached"):
        ComfyBackend("http://127.0.0.1:9").generate(request())
    with pytest.raises(ServerError, match="not a server address"):
        ComfyClient("127.0.0.1:8188")
    quiet = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=quiet.serve_forever, daemon=True).start()
    try:
        with (
            ComfyClient(f"http://127.0.0.1:{quiet.server_address[1]}") as client,
            pytest.raises(ServerError, match=r"not a ComfyUI server|answered /object_info"),
        ):
            client.check()
    finally:
        quiet.shutdown()
        quiet.server_close()


def test_the_command_line_generates_on_the_server(comfy_server: Server, tmp_path: Path):
    from PIL import Image

    from sketchdiffuse.io.png_meta import parse_parameters

    Image.fromarray(DRAWING).save(tmp_path / "sketch.png")
    done = subprocess.run(
        [sys.executable, "-m", "sketchdiffuse", "generate", str(tmp_path / "sketch.png"), "--prompt", "a cat",
         "--steps", "4", "--seed", "2", "--size", "canvas", "--server", comfy_server.url, "--model", CHECKPOINT,
         "-o", str(tmp_path / "out.png")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == (64, 48)
        _, _, settings = parse_parameters(image.text["parameters"])
    assert settings["Server"] == comfy_server.url and settings["Model"] == CHECKPOINT


def test_the_backend_interface_prepares_and_lists_the_servers_models(comfy_server: Server, tmp_path: Path):
    from PIL import Image

    backend = ComfyBackend(comfy_server.url)
    assert backend.prepare(ModelRef.on_server(CHECKPOINT)).kind == "sd"
    with pytest.raises(ServerError, match=rf"'sd_xl_base_1\.0\.safetensors' is not on .* \(it has: {CHECKPOINT}\)"):
        backend.prepare(ModelRef.on_server("sd_xl_base_1.0.safetensors"))
    lists = backend.available_models()
    assert lists.checkpoints == [CHECKPOINT] and lists.loras == [LORA] and lists.controlnets == [CONTROLNET]
    assert lists.style_models == [STYLE_MODEL] and lists.clip_vision == [CLIP_VISION]
    done = subprocess.run(
        [sys.executable, "-m", "sketchdiffuse", "models", "--server", comfy_server.url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"checkpoints on {comfy_server.url}:\n  {CHECKPOINT}\n" in done.stdout
    assert f"LoRAs on {comfy_server.url}:\n  {LORA}\n" in done.stdout and "ControlNets on" in done.stdout
    Image.fromarray(DRAWING).save(tmp_path / "sketch.png")
    failed = subprocess.run(
        [sys.executable, "-m", "sketchdiffuse", "generate", str(tmp_path / "sketch.png"), "--prompt", "a",
         "--server", comfy_server.url, "--model", "missing.safetensors", "-o", str(tmp_path / "never.png")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert failed.returncode != 0 and "'missing.safetensors' is not on ComfyUI at" in failed.stderr
    assert not (tmp_path / "never.png").exists()
