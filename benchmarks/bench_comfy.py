"""The ComfyUI backend's own cost per job at 512 x 512 (upload, graph, following the job, result transfer and
decoding), against a direct script doing the least a client can on the same loopback server.

Each job's cost outside the server is its wall time minus the server's own span (execution_start to
execution_success in the server's history). The server is the test peer in ../shared/comfyui run from
.comfy-venv (`make comfy-env`) with the random-weight SD 1.5 checkpoint the tests make. Target (issue "A
remote GPU"): under 100 ms for the client's own cost.

Run: .venv/bin/python benchmarks/bench_comfy.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.comfy.conftest import CHECKPOINT, start_test_server  # noqa: E402  (the tests' server set-up, reused)


def server_span(url: str, prompt_id: str) -> float:
    import httpx

    history = httpx.get(f"{url}/history/{prompt_id}", timeout=30).json()[prompt_id]
    stamps = {name: data["timestamp"] for name, data in history["status"]["messages"]}
    return (stamps["execution_success"] - stamps["execution_start"]) / 1000.0


def direct_job(url: str, png: bytes, graph: dict) -> tuple[float, str]:
    """The least a client can do: upload, queue, wait on the socket for the picture, nothing decoded."""
    import httpx
    from websockets.sync.client import connect

    started = time.perf_counter()
    client_id, prompt_id = uuid.uuid4().hex, uuid.uuid4().hex
    with connect(f"ws{url[4:]}/ws?clientId={client_id}", max_size=None) as ws, httpx.Client(base_url=url) as http:
        http.post("/upload/image", files={"image": ("direct.png", png, "image/png")}, data={"overwrite": "true"})
        http.post("/prompt", json={"prompt": graph, "client_id": client_id, "prompt_id": prompt_id})
        while True:
            message = ws.recv()
            if isinstance(message, str):
                data = json.loads(message).get("data", {})
                if json.loads(message).get("type") == "executing" and data.get("node") is None:
                    break
    return time.perf_counter() - started, prompt_id


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from sketchdiffuse.generation import GenerationRequest, GenerationResult, ModelRef, SizePolicy
    from sketchdiffuse.generation.comfy.backend import ComfyBackend
    from sketchdiffuse.generation.comfy.workflow import Uploads, build_workflow

    server = start_test_server(Path(tempfile.mkdtemp(prefix="sketchdiffuse-bench-comfy-")), extras=False)
    try:
        drawing = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(drawing).save(buffer, "PNG", compress_level=1)
        png = buffer.getvalue()
        request = GenerationRequest(
            "a lighthouse",
            ModelRef.on_server(CHECKPOINT),
            init_image=drawing,
            strength=0.5,
            steps=2,  # one sampler step at strength 0.5: the server's work stays small
            seed=1,
            scheduler="Euler",
            size_policy=SizePolicy.CANVAS,
        )
        graph = build_workflow(request, CHECKPOINT, 1, 512, 512, Uploads("direct.png"))
        backend = ComfyBackend(server.url)
        import httpx

        direct_costs, client_costs = [], []
        for i in range(args.repeat + 1):  # the first round loads the model on the server: not counted
            wall, prompt_id = direct_job(server.url, png, graph)
            if i:
                direct_costs.append(wall - server_span(server.url, prompt_id))
            started = time.perf_counter()
            result = backend.generate(request)
            wall = time.perf_counter() - started
            assert isinstance(result, GenerationResult)
            latest = httpx.get(f"{server.url}/history?max_items=1", timeout=30).json()
            if i:
                client_costs.append(wall - server_span(server.url, next(iter(latest))))
    finally:
        server.stop()
    print(f"ComfyUI on loopback, img2img 512 x 512, median of {args.repeat}: ms outside the server's own work")
    print(f"{'direct script (upload, queue, wait)':<44}| {statistics.median(direct_costs) * 1e3:7.1f}")
    client = statistics.median(client_costs) * 1e3
    print(f"{'sketchdiffuse ComfyBackend (all of it)':<44}| {client:7.1f}   (target < 100)")
    print(f"{'  of which the client adds':<44}| {client - statistics.median(direct_costs) * 1e3:7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
