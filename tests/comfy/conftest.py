"""A real ComfyUI server for the remote backend's tests: the source in ../shared/comfyui (a test peer, not
part of sketchdiffuse) run from its own virtual environment (`make comfy-env`) on 127.0.0.1, once per test
session, in CPU mode, with a writable base folder holding:

- a random-weight checkpoint of the full SD 1.5 architecture in the original layout. ComfyUI recognises
  models by their weights' shapes, so tiny models do not load there. A random diffusers model (fp16) is
  written first, then the server itself turns it into a single-file checkpoint (DiffusersLoader into
  CheckpointSave), which is moved to models/checkpoints;
- a small random LoRA for it in kohya's key layout, in models/loras;
- a ControlNet for it in diffusers' layout (the UNet's copy with random zero convolutions), in
  models/controlnet;
- a random T2I style adapter and CLIP ViT-L image encoder for reference pictures (style_models.py), in
  models/style_models and models/clip_vision;
- SaveImageWebsocket (custom_nodes/websocket_image_save.py, shipped with ComfyUI).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMFY = Path(os.environ.get("SKETCHDIFFUSE_COMFY_SOURCE") or ROOT.parent / "shared" / "comfyui")  # make test sets it
COMFY_PYTHON = Path(os.environ.get("SKETCHDIFFUSE_COMFY_PYTHON", ROOT / ".comfy-venv" / "bin" / "python"))
CHECKPOINT = "sd15-random.safetensors"
LORA = "random-style.safetensors"
STYLE_MODEL = "t2iadapter_style_random.safetensors"
CLIP_VISION = "clip-vit-large-random.safetensors"
CONTROLNET = "control_sd15_random.safetensors"


@dataclass
class Server:
    url: str
    base: Path
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def start(self) -> None:
        """(Re)start the server on the same port and wait until it answers."""
        with self.log.open("ab") as log:  # the child keeps its own handle
            self.process = self._spawn(log)
        wait_until_up(self.url, self.process, self.log)

    def _spawn(self, log: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(COMFY_PYTHON), "-B", str(COMFY / "main.py"), "--cpu", "--listen", "127.0.0.1", "--port",
             str(self.port), "--disable-auto-launch", "--base-directory", str(self.base)],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.base,  # type: ignore[arg-type]
        )  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 180.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the ComfyUI test server exited ({process.returncode}); its log:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/object_info/KSampler", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the ComfyUI test server did not answer within {seconds:.0f} s; its log:\n{log.read_text()[-3000:]}")


def write_random_sd15(folder: Path) -> None:
    """The SD 1.5 architecture with random weights in diffusers' layout (the configs sketchdiffuse ships)."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from sketchdiffuse.resources import resource

    configs = resource("model_configs", "sd1")
    tok = resource("tokenizers", "clip")
    tokenizer = CLIPTokenizer(str(tok / "vocab.json"), str(tok / "merges.txt"), pad_token="<|endoftext|>")
    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(configs / "unet"))
    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(configs / "vae"))
    text = CLIPTextModel(CLIPTextConfig(**json.loads((configs / "text_encoder" / "config.json").read_text())))
    scheduler = EulerDiscreteScheduler.from_config(
        json.loads((configs / "scheduler" / "scheduler_config.json").read_text())
    )
    pipe = StableDiffusionPipeline(vae, text, tokenizer, unet, scheduler, None, None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)  # fp32: random weights overflow fp16 (black pictures)
    # transformers 5 writes CLIPTextModel's keys without the "text_model." prefix, which ComfyUI's diffusers
    # loader needs (without it the text encoder stays uninitialised and every picture comes out black).
    from safetensors.torch import load_file, save_file

    weights = folder / "text_encoder" / "model.safetensors"
    state = load_file(str(weights))
    save_file({k if k.startswith("text_model.") else f"text_model.{k}": v for k, v in state.items()}, str(weights))


def write_random_lora(unet_folder: Path, file: Path, rank: int = 4) -> None:
    """A LoRA on the UNet's attention projections in kohya's layout (lora_unet_..., lora_down/lora_up, alpha),
    the layout most LoRAs artists download are in."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    unet = UNet2DConditionModel.from_pretrained(unet_folder)
    torch.manual_seed(1)
    weights = {}
    for name, module in unet.named_modules():
        if isinstance(module, torch.nn.Linear) and name.endswith(("attn2.to_k", "attn2.to_v", "attn1.to_q")):
            key = "lora_unet_" + name.replace(".", "_")
            weights[f"{key}.lora_down.weight"] = torch.randn(rank, module.in_features) * 0.5
            weights[f"{key}.lora_up.weight"] = torch.randn(module.out_features, rank) * 0.5
            weights[f"{key}.alpha"] = torch.tensor(float(rank))
    save_file(weights, str(file))


def write_random_controlnet(unet_folder: Path, file: Path) -> None:
    """A ControlNet started from the UNet as its training starts, with the zero convolutions (which would
    make it act on nothing) drawn at random; fp16 to keep the file small."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel
    from safetensors.torch import save_file

    net = ControlNetModel.from_unet(UNet2DConditionModel.from_pretrained(unet_folder))
    torch.manual_seed(2)
    with torch.no_grad():
        for block in [*net.controlnet_down_blocks, net.controlnet_mid_block]:
            block.weight.normal_(0.0, 0.05)
    save_file({k: v.half().contiguous() for k, v in net.state_dict().items()}, str(file))


def convert_on_server(url: str, base: Path) -> None:
    """DiffusersLoader -> CheckpointSave on the server: the single-file checkpoint in the original layout."""
    import httpx

    prompt_id = uuid.uuid4().hex
    graph = {
        "1": {"class_type": "DiffusersLoader", "inputs": {"model_path": "sd15"}},
        "2": {
            "class_type": "CheckpointSave",
            "inputs": {"model": ["1", 0], "clip": ["1", 1], "vae": ["1", 2], "filename_prefix": "checkpoints/sd15"},
        },
    }
    response = httpx.post(f"{url}/prompt", json={"prompt": graph, "prompt_id": prompt_id}, timeout=30)
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        history = httpx.get(f"{url}/history/{prompt_id}", timeout=30).json()
        if prompt_id in history:
            assert history[prompt_id]["status"]["status_str"] == "success", history[prompt_id]["status"]
            break
        time.sleep(1)
    saved = next((base / "output" / "checkpoints").glob("sd15*.safetensors"))
    shutil.move(saved, base / "models" / "checkpoints" / CHECKPOINT)
    shutil.rmtree(base / "models" / "diffusers" / "sd15")


@pytest.fixture(scope="session")
def comfy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not COMFY_PYTHON.is_file():
        pytest.fail(f"ComfyUI's environment is missing ({COMFY_PYTHON}); run `make comfy-env` (make test does).")
    server = start_test_server(tmp_path_factory.mktemp("comfyui"))
    try:
        yield server
    finally:
        server.stop()
        print(f"ComfyUI test server log: {server.log}", file=sys.stderr)


def start_test_server(base: Path, extras: bool = True) -> Server:
    """The test peer in ``base`` (an empty folder) with its random checkpoint (and with ``extras`` the LoRA and
    the reference models), answering; the caller stops it. Shared by the fixture and the benchmark."""
    models = base / "models"
    for folder in ("checkpoints", "loras", "diffusers", "style_models", "clip_vision", "controlnet"):
        (models / folder).mkdir(parents=True)
    for folder in ("custom_nodes", "output", "input"):
        (base / folder).mkdir()
    shutil.copy(COMFY / "custom_nodes" / "websocket_image_save.py", base / "custom_nodes")
    write_random_sd15(models / "diffusers" / "sd15")
    if extras:
        write_random_lora(models / "diffusers" / "sd15" / "unet", models / "loras" / LORA)
        write_random_controlnet(models / "diffusers" / "sd15" / "unet", models / "controlnet" / CONTROLNET)
        script = Path(__file__).with_name("style_models.py")
        subprocess.run(
            [str(COMFY_PYTHON), str(script), str(models / "style_models" / STYLE_MODEL),
             str(models / "clip_vision" / CLIP_VISION)],
            cwd=COMFY, check=True,
        )  # fmt: skip
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}", base, None, port, base / "server.log")  # type: ignore[arg-type]
    server.start()
    try:
        convert_on_server(server.url, base)
    except BaseException:
        server.stop()
        raise
    return server
