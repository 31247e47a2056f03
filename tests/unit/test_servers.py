"""The saved servers (session/servers.py), requests made for a server, the router sending each request
where its model is, and the report of Test connection for addresses that lead nowhere useful."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import numpy as np
import pytest

from sketchdiffuse.document.document import Document
from sketchdiffuse.generation.backend import Router
from sketchdiffuse.generation.comfy.backend import ComfyBackend, name_on_server
from sketchdiffuse.generation.comfy.client import REQUIRED_NODES, ComfyClient, ServerError
from sketchdiffuse.generation.comfy.connection import check_connection
from sketchdiffuse.generation.controls import Lora
from sketchdiffuse.generation.engine import plan_steps
from sketchdiffuse.generation.errors import InvalidRequestError
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
from sketchdiffuse.generation.request import GenerationRequest, GenerationResult
from sketchdiffuse.session.requests import document_request, native_size
from sketchdiffuse.session.servers import LOCAL, Server, ServerList, normalised_url, read_servers, write_servers
from sketchdiffuse.session.settings import MemoryStorage, PanelValues, RunSettings
from tests.web import Pages, serving

A, B = "http://gpu-box:8188", "https://cloud.example"


def test_addresses_are_normalised_and_saving_the_same_one_replaces_it():
    assert normalised_url(" gpu-box:8188/ ") == A and normalised_url("") == ""
    servers = ServerList().saved(Server("gpu-box:8188")).saved(Server(B, "secret"))
    servers = servers.saved(Server(A + "/", model="sd15.safetensors"))
    assert [s.url for s in servers.servers] == [A, B]
    assert servers.find("gpu-box:8188") == Server(A, "", "sd15.safetensors")
    assert servers.saved(Server("  ")) == servers  # an empty address is not saved


def test_switching_removing_and_each_servers_own_checkpoint():
    servers = ServerList((Server(A, model="a.safetensors"), Server(B, model="b.safetensors")))
    assert servers.current is None and servers.where() == "this computer"
    on_b = servers.switched(B)
    assert on_b.current == Server(B, model="b.safetensors") and on_b.where() == f"ComfyUI at {B}"
    assert servers.switched("http://not-saved:1").active == LOCAL
    changed = on_b.with_model("turbo.safetensors")
    assert changed.find(B).model == "turbo.safetensors" and changed.find(A).model == "a.safetensors"
    assert servers.with_model("x") == servers  # nothing to change on this computer
    assert on_b.removed(B).active == LOCAL and [s.url for s in on_b.removed(B).servers] == [A]
    assert on_b.removed(A).active == B


def test_the_list_survives_storage_and_damaged_values_read_as_none():
    storage = MemoryStorage()
    servers = ServerList((Server(A, "t", "a.safetensors"), Server(B)), active=B)
    write_servers(storage, servers)
    assert read_servers(storage) == servers
    for damaged in ("{not json", json.dumps({"url": A}), json.dumps([{"token": "x"}, 5])):
        assert read_servers(MemoryStorage({"servers/list": damaged, "servers/active": A})) == ServerList()
    assert read_servers(MemoryStorage()) == ServerList()


def test_a_request_for_a_server_names_its_checkpoint_and_address_and_has_no_local_refiner():
    doc = Document(64, 48)
    panel = PanelValues(prompt="a cat", model="no/such-local-model")
    run = RunSettings(refiner="stabilityai/stable-diffusion-xl-refiner-1.0")
    request = document_request(panel, run, doc, 3, (), Server(A, model="sd15.safetensors"))
    assert request.model == ModelRef("sd15.safetensors", SourceKind.SERVER, server=A)
    assert request.refiner is None and request.seed == 3
    with pytest.raises(InvalidRequestError, match="Choose a checkpoint on ComfyUI at"):
        document_request(panel, run, doc, 3, (), Server(A))
    assert document_request(panel, run, doc, 3).model.kind is SourceKind.HUB  # this computer: the panel's


def test_a_selection_on_a_server_is_sized_by_the_checkpoints_name_without_looking_for_it_here():
    doc = Document(1024, 1024)
    selection = np.zeros((1024, 1024), np.uint8)
    selection[100:300, 100:300] = 255
    doc.selection = selection
    request = document_request(PanelValues(prompt="x"), RunSettings(), doc, 1, (), Server(A, model="sdxl.safetensors"))
    assert request.mask is not None and request.region is not None
    assert native_size(ModelRef.on_server("sd_xl_base_1.0.safetensors", A)) == 1024
    assert native_size(ModelRef.on_server("v1-5-pruned.safetensors", A)) == 512


def test_server_names_are_found_by_file_name_in_any_subfolder():
    listed = ["sd15/detail-tweaker.safetensors", "control_v11p_sd15_scribble.pth", "plain.safetensors"]
    assert name_on_server("plain.safetensors", listed, "LoRA", "loras", "x") == "plain.safetensors"
    assert name_on_server("/home/me/loras/Detail-Tweaker.safetensors", listed, "LoRA", "loras", "x") == listed[0]
    assert name_on_server("C:\\loras\\detail-tweaker.safetensors", listed, "LoRA", "loras", "x") == listed[0]
    assert (
        name_on_server("lllyasviel/control_v11p_sd15_scribble", listed, "ControlNet", "controlnet", "x") == (listed[1])
    )
    with pytest.raises(ServerError, match="The LoRA 'missing' is not on ComfyUI at h; copy the file into its "):
        name_on_server("missing.safetensors", listed, "LoRA", "loras", "ComfyUI at h")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_router_sends_each_request_where_its_model_is():
    router = Router()
    local = ModelRef("stabilityai/sd-turbo", SourceKind.HUB)
    assert router.backend_for(local) is router.local
    router.tokens = {A: "secret"}
    remote = router.backend_for(ModelRef.on_server("sd15.safetensors", A))
    assert isinstance(remote, ComfyBackend) and remote.client.headers == {"Authorization": "Bearer secret"}
    assert router.backend_for(ModelRef.on_server("other.safetensors", A)) is remote  # one client per server
    router.tokens = {A: "new"}
    assert router.backend_for(ModelRef.on_server("sd15.safetensors", A)) is not remote  # a new token
    with pytest.raises(InvalidRequestError, match="no server was named"):
        router.backend_for(ModelRef.on_server("sd15.safetensors"))


def test_a_job_for_a_server_that_is_not_there_fails_with_a_sentence_and_no_picture():
    url = f"http://127.0.0.1:{free_port()}"
    request = GenerationRequest(prompt="x", model=ModelRef.on_server("sd15.safetensors", url), steps=2)
    with pytest.raises(ServerError, match=f"The ComfyUI server at {url} cannot be reached"):
        Router().generate(request)


@pytest.fixture
def web_server() -> Iterator[tuple[str, Pages]]:
    """A plain web server whose pages each test sets: an address that is not (all of) ComfyUI."""
    pages: Pages = {}
    with serving(pages) as url:
        yield url, pages


def _node(field: str, names: list[str]) -> dict[str, object]:
    return {"input": {"required": {field: [names]}}}


def test_test_connection_reports_unreachable_not_comfyui_missing_nodes_and_no_checkpoints(web_server):
    url, pages = web_server
    nowhere = check_connection(f"http://127.0.0.1:{free_port()}")
    assert not nowhere.ok and "cannot be reached" in nowhere.text and nowhere.models is None
    assert "not a server address" in check_connection("gpu-box:8188").text
    pages["/"] = ("text/html", b"<html>a blog</html>")
    assert "is not a ComfyUI server" in check_connection(url).text
    pages["/object_info"] = ("application/json", json.dumps({"KSampler": {}}).encode())
    assert "is not a ComfyUI server" in check_connection(url).text
    info = {node: {} for node in REQUIRED_NODES if node != "SaveImageWebsocket"}
    info["CheckpointLoaderSimple"] = _node("ckpt_name", [])
    pages["/object_info"] = ("application/json", json.dumps(info).encode())
    report = check_connection(url)
    assert not report.ok and report.models is not None
    assert report.text == (
        f"{url} runs ComfyUI, but the node SaveImageWebsocket is missing; it has no checkpoints "
        "(put one in its models/checkpoints folder)."
    )
    info["SaveImageWebsocket"] = {}
    info["CheckpointLoaderSimple"] = _node("ckpt_name", ["a.safetensors", "b.safetensors"])
    info["LoraLoader"] = _node("lora_name", ["style.safetensors"])
    pages["/object_info"] = ("application/json", json.dumps(info).encode())
    stats = {"system": {"comfyui_version": "0.8.2"}, "devices": [{"name": "cuda:0 NVIDIA GeForce RTX 4090"}]}
    pages["/system_stats"] = ("application/json", json.dumps(stats).encode())
    report = check_connection(url)
    assert report.ok and report.models is not None and report.models.checkpoints == ["a.safetensors", "b.safetensors"]
    assert report.text == (
        "Connected: ComfyUI 0.8.2 on cuda:0 NVIDIA GeForce RTX 4090, with 2 checkpoints, 1 LoRA, 0 ControlNets."
    )


def test_on_a_server_lora_tags_are_left_to_it_and_no_local_ip_adapter_is_asked_for():
    doc = Document(64, 48)
    panel = PanelValues(prompt="a cat <lora:detail-tweaker:0.5>")
    run = RunSettings(ip_adapter="h94/IP-Adapter:models/ip-adapter_sd15.safetensors")
    request = document_request(panel, run, doc, 1, (), Server(A, model="sd15.safetensors"))
    assert request.loras == (Lora("detail-tweaker", 0.5),) and request.prompt == "a cat"
    assert request.ip_adapter is None
    with pytest.raises(InvalidRequestError, match="neither in the LoRA list nor in the LoRA folder"):
        document_request(panel, run, doc, 1)


def test_a_new_token_closes_the_old_servers_connections():
    router = Router()
    router.tokens = {A: "old"}
    old = router.backend_for(ModelRef.on_server("m", A))
    router.tokens = {A: "new"}
    new = router.backend_for(ModelRef.on_server("m", A))
    assert isinstance(old, ComfyBackend) and isinstance(new, ComfyBackend)
    assert old.client.http.is_closed and not new.client.http.is_closed


def test_strength_zero_on_a_server_gives_the_drawing_back_without_asking_it():
    drawing = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: any request would fail
    request = GenerationRequest(prompt="x", model=ModelRef.on_server("m.safetensors", url), init_image=drawing,
                                strength=0.0, steps=4)  # fmt: skip
    result = ComfyBackend(url).generate(request)
    assert isinstance(result, GenerationResult) and np.array_equal(result.image, drawing) and result.steps_run == 0
    with pytest.raises(InvalidRequestError, match="Strength 0 changes nothing"):
        plan_steps(4, 0.0)


class _ScriptedSocket:
    """Frames as a server sends them, then a dropped connection."""

    def __init__(self, frames: list[object]) -> None:
        self.frames = frames

    def recv(self, timeout: float | None = None) -> object:
        if not self.frames:
            raise ConnectionError("dropped")
        return self.frames.pop(0)

    def close(self) -> None:
        pass


def test_a_picture_received_before_the_connection_dropped_is_kept():
    png = b"\x89PNG-the-result"
    frames: list[object] = [
        json.dumps({"type": "executing", "data": {"node": "save", "prompt_id": "p1"}}),
        (1).to_bytes(4, "big") + (2).to_bytes(4, "big") + png,  # a PREVIEW_IMAGE frame while the output node runs
    ]
    client = ComfyClient(f"http://127.0.0.1:{free_port()}")
    outcome = client._follow(_ScriptedSocket(frames), "p1", None, None, lambda: False, 30.0)
    assert outcome.image == png


def test_a_lora_name_with_a_dot_is_found_on_the_server():
    assert name_on_server("detail_v1.5", ["sd15/detail_v1.5.safetensors"], "LoRA", "loras", "x") == (
        "sd15/detail_v1.5.safetensors"
    )
