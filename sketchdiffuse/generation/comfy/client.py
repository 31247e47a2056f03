"""A client of a ComfyUI server's core API: model lists from ``GET /object_info``, pictures sent with
``POST /upload/image``, jobs queued with ``POST /prompt`` under a prompt id of our own, progress, previews and
the result (SaveImageWebsocket's binary frames) from the ``/ws?clientId=`` websocket, and cancelling one job
with ``POST /interrupt {prompt_id}`` plus ``POST /queue {delete}`` — never a global interrupt, which would
stop other people's jobs on a shared server. httpx for HTTP, websockets' synchronous client for the socket:
no Qt, so the command line uses it too."""

from __future__ import annotations

import contextlib
import hashlib
import json
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sketchdiffuse.generation.comfy.workflow import OUTPUT_NODE
from sketchdiffuse.generation.errors import GenerationError
from sketchdiffuse.generation.model_lists import ModelLists

REQUIRED_NODES = (
    "CheckpointLoaderSimple",
    "CLIPTextEncode",
    "EmptyLatentImage",
    "VAEEncode",
    "VAEDecode",
    "KSamplerAdvanced",
    "LoadImage",
    "ImageScale",
    "SetLatentNoiseMask",
    "SaveImageWebsocket",
    "ImageToMask",
    "MaskToImage",
    "InpaintModelConditioning",
    "LoraLoader",
    "ControlNetLoader",
    "ControlNetApplyAdvanced",
)
MODEL_LOADERS = ("CheckpointLoaderSimple", "LoraLoader", "ControlNetLoader", "StyleModelLoader", "CLIPVisionLoader")
PREVIEW_IMAGE = 1  # websocket binary event type (ComfyUI's BinaryEventTypes.PREVIEW_IMAGE)
RECONNECTS = 10  # tries to get the socket back while a job runs (about 30 s)
STOP_CHECK = 1.0  # seconds between asking where a cancelled job is (and asking again to stop it)
STATE_TIMEOUT = 5.0  # seconds for that question


def server_label(url: str) -> str:
    """How a server is named to the artist (status bar, results, messages)."""
    return f"ComfyUI at {url}"


class ServerError(GenerationError):
    """The server cannot be reached, is not ComfyUI, lacks something, or reported a failed job."""


@dataclass
class JobOutcome:
    image: bytes | None  # the PNG SaveImageWebsocket sent; None when the job was cancelled
    steps: int  # sampler steps reported


ProgressFn = Callable[[int, int], None]
PreviewFn = Callable[[bytes], None]


@dataclass
class _Job:
    """What following one job knows so far."""

    socket: Any
    prompt_id: str
    node: str | None = None  # the node of the job that runs now
    image: bytes | None = None  # the result, once the output node sent it
    steps: int = 0  # sampler steps reported
    reconnects: int = 0  # tries since the socket dropped
    resync: bool = False  # after a reconnect: the server names the running node without a prompt id
    stop_asked: float | None = None  # when the cancel was (last) sent

    def picture(self, message: bytes, on_preview: PreviewFn | None) -> None:
        """A binary frame: while the output node runs it is the result, before that a progress preview."""
        if len(message) <= 8 or struct.unpack(">I", message[:4])[0] != PREVIEW_IMAGE:
            return
        if self.node == OUTPUT_NODE:
            self.image = message[8:]
        elif self.node is not None and on_preview is not None:
            on_preview(message[8:])


class ComfyClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise ServerError(f"'{url}' is not a server address; write it as http://HOST:8188 or https://HOST.")
        self.client_id = uuid.uuid4().hex
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ComfyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a client dropped without close() must not leave its connections open
        http = getattr(self, "http", None)
        if http is not None:
            with contextlib.suppress(Exception):
                http.close()

    # -- HTTP -------------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        """The server's response, whatever its status; a server that does not answer is a ServerError."""
        import httpx

        try:
            return self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(f"The ComfyUI server at {self.url} cannot be reached ({exc}).") from exc

    def _request(self, method: str, path: str, not_found: str = "", **kwargs: Any) -> Any:
        """``not_found``: the sentence for a 404 (a web server that is something else)."""
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 or response.status_code == 403:
            raise ServerError(f"The server at {self.url} refused the access token ({response.status_code}).")
        if response.status_code == 404 and not_found:
            raise ServerError(not_found)
        if response.status_code >= 400:
            raise ServerError(
                f"The server at {self.url} answered {path} with {response.status_code}: {response.text[:300]}"
            )
        return response

    def object_info(self) -> dict[str, Any]:
        not_comfy = f"{self.url} answers, but it is not a ComfyUI server (no node list at /object_info)."
        response = self._request("GET", "/object_info", not_found=not_comfy)
        try:
            info = response.json()
        except ValueError:
            info = None
        if not isinstance(info, dict) or "CheckpointLoaderSimple" not in info:
            raise ServerError(not_comfy)
        return info

    def system_stats(self) -> Any:
        """The server's version and devices (GET /system_stats)."""
        try:
            return self._request("GET", "/system_stats").json()
        except ValueError as exc:
            raise ServerError(f"{self.url} sent system information that is not JSON.") from exc

    def models(self, info: dict[str, Any] | None = None) -> ModelLists:
        """The model lists, from ``info`` (all of /object_info) or from the loaders' own entries: a server
        with many custom nodes sends megabytes for the whole list, a job needs five nodes of it."""
        if info is None:
            info = {}
            for node in MODEL_LOADERS:
                try:
                    page = self._request("GET", f"/object_info/{node}").json()
                except ValueError as exc:
                    raise ServerError(f"{self.url} sent a node description that is not JSON.") from exc
                info |= page if isinstance(page, dict) else {}

        def choices(node: str, field: str) -> list[str]:
            try:
                values = info[node]["input"]["required"][field][0]
            except (KeyError, IndexError, TypeError):
                return []
            return [str(v) for v in values] if isinstance(values, list) else []

        return ModelLists(
            choices("CheckpointLoaderSimple", "ckpt_name"),
            choices("LoraLoader", "lora_name"),
            choices("ControlNetLoader", "control_net_name"),
            choices("StyleModelLoader", "style_model_name"),
            choices("CLIPVisionLoader", "clip_name"),
        )

    def check(self) -> tuple[ModelLists, list[str]]:
        """The Test connection report: the models, and the problems (missing nodes, no checkpoints); a server
        that cannot be reached or is not ComfyUI raises ServerError with its sentence."""
        info = self.object_info()
        problems = [f"the node {node} is missing" for node in REQUIRED_NODES if node not in info]
        models = self.models(info)
        if not models.checkpoints:
            problems.append("it has no checkpoints (put one in its models/checkpoints folder)")
        return models, problems

    def upload(self, png: bytes) -> str:
        """Send a picture to the server's input folder; returns the name to use in LoadImage. Named by its
        content: two artists' jobs on a shared server never overwrite each other's pictures, and the same
        picture sent again (a regenerate) takes no new file."""
        name = f"sketchdiffuse-{hashlib.sha256(png).hexdigest()[:24]}.png"
        files = {"image": (name, png, "image/png")}
        response = self._request("POST", "/upload/image", files=files, data={"overwrite": "true", "type": "input"})
        data = response.json()
        sub = data.get("subfolder") or ""
        return f"{sub}/{data['name']}" if sub else str(data["name"])

    def cancel(self, prompt_id: str) -> None:
        """Stop this job only: take it off the queue if it waits, interrupt it if it runs. The delete goes
        first, so a job that starts between the two requests is still interrupted."""
        problems = []
        for path, body in (("/queue", {"delete": [prompt_id]}), ("/interrupt", {"prompt_id": prompt_id})):
            try:  # each on its own: a failed delete must not keep the interrupt from going
                self._request("POST", path, json=body)
            except ServerError as exc:
                problems.append(exc)
        if problems:
            raise problems[0]

    def job_state(self, prompt_id: str) -> str:
        """The job's place: "running", "waiting", "done" (in the history) or "gone" (deleted before it ran, or
        unknown). Asked with a short timeout: it runs between a job's messages."""
        try:
            queue = self._request("GET", "/queue", timeout=STATE_TIMEOUT).json()
            for state, key in (("running", "queue_running"), ("waiting", "queue_pending")):
                if any(len(item) > 1 and item[1] == prompt_id for item in queue.get(key, [])):
                    return state
            history = self._request("GET", f"/history/{prompt_id}", timeout=STATE_TIMEOUT).json()
        except (ValueError, AttributeError, TypeError) as exc:  # a proxy's page instead of the server's JSON
            raise ServerError(f"{self.url} answered a question about the job with something else ({exc}).") from exc
        return "done" if isinstance(history, dict) and prompt_id in history else "gone"

    # -- a job ------------------------------------------------------------------------------
    def _socket(self) -> Any:
        from websockets.sync.client import connect

        ws_url = "ws" + self.url[len("http") :] + f"/ws?clientId={self.client_id}"
        try:
            connection = connect(ws_url, additional_headers=self.headers, max_size=None, open_timeout=10)
            return connection.__enter__()  # entered: closed by run's finally (or a reconnect), never leaked
        except Exception as exc:  # refused, timed out, TLS, an HTTP error instead of an upgrade
            raise ServerError(f"The ComfyUI server at {self.url} cannot be reached ({exc}).") from exc

    def run(
        self,
        workflow: dict[str, Any],
        on_progress: ProgressFn | None = None,
        on_preview: PreviewFn | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        timeout: float = 3600.0,
    ) -> JobOutcome:
        """Queue ``workflow`` and follow it to its end: the PNG it sent, or None when cancelled."""
        socket = self._socket()  # before queueing, so no message of the job is missed
        prompt_id = uuid.uuid4().hex
        try:
            body = {
                "prompt": workflow,
                "client_id": self.client_id,
                "prompt_id": prompt_id,
                "extra_data": {"preview_method": "latent2rgb"},
            }
            self._post_prompt(body)
        except BaseException:
            socket.close()
            raise
        return self._follow(socket, prompt_id, on_progress, on_preview, cancelled, timeout)

    def _post_prompt(self, body: dict[str, Any]) -> Any:
        response = self._send("POST", "/prompt", json=body)
        if response.status_code == 400:  # the server names what it refuses in the graph
            try:
                detail = response.json()
            except ValueError:
                detail = {}
            error = detail.get("error", {})
            nodes = detail.get("node_errors", {})
            reasons = [
                f"{node}: {e.get('message', '')} {e.get('details', '')}".strip()
                for node, entry in nodes.items()
                for e in entry.get("errors", [])
            ]
            raise ServerError(
                f"The server refused the job: {error.get('message', 'invalid workflow')}"
                + (f" ({'; '.join(reasons)})" if reasons else "")
            )
        if response.status_code >= 400:
            raise ServerError(f"The server answered the job with {response.status_code}: {response.text[:300]}")
        return response

    def _follow(
        self,
        socket: Any,
        prompt_id: str,
        on_progress: ProgressFn | None,
        on_preview: PreviewFn | None,
        cancelled: Callable[[], bool],
        timeout: float,
    ) -> JobOutcome:
        """The job's messages until its end; the socket in use (a reconnect makes a new one) is closed after."""
        job = _Job(socket, prompt_id)
        try:
            return self._until_done(job, on_progress, on_preview, cancelled, timeout)
        finally:
            job.socket.close()

    def _until_done(
        self,
        job: _Job,
        on_progress: ProgressFn | None,
        on_preview: PreviewFn | None,
        cancelled: Callable[[], bool],
        timeout: float,
    ) -> JobOutcome:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stopped = self._stop_if_asked(job, cancelled)
            if stopped is not None:
                return stopped
            try:
                message = job.socket.recv(timeout=0.25)
            except TimeoutError:
                continue
            except Exception as exc:  # the connection dropped: get it back while the job runs
                if job.image is not None:  # the output node's picture is the last thing a job sends
                    return JobOutcome(job.image, job.steps)
                if job.stop_asked is not None or cancelled():
                    return JobOutcome(None, job.steps)  # cancelled anyway: nothing to wait for
                job.socket = self._back_after_drop(job.socket, job.prompt_id, job.reconnects, exc)
                job.reconnects += 1
                job.resync = True
                continue
            job.reconnects = 0  # a message came: the connection is back for good
            if isinstance(message, bytes):
                job.picture(message, on_preview)
                continue
            outcome = self._event(job, json.loads(message), on_progress)
            if outcome is not None:
                return outcome
        with contextlib.suppress(ServerError):
            self.cancel(job.prompt_id)
        raise ServerError(f"The job on {self.url} took longer than {timeout:.0f} s and was cancelled.")

    def _stop_if_asked(self, job: _Job, cancelled: Callable[[], bool]) -> JobOutcome | None:
        """Send the cancel once asked; then each second ask where the job is (a job deleted while it waited
        sends nothing more) and ask again to stop one still there (a cancel can fail for a moment, or land
        as the job starts). The outcome when the job is known to be over."""
        if cancelled() and job.stop_asked is None:
            job.stop_asked = time.monotonic()
            with contextlib.suppress(ServerError):  # a server that is gone has stopped the job too
                self.cancel(job.prompt_id)
        if job.stop_asked is not None and time.monotonic() - job.stop_asked > STOP_CHECK:
            job.stop_asked = time.monotonic()
            with contextlib.suppress(ServerError):
                if self.job_state(job.prompt_id) in ("gone", "done"):
                    return JobOutcome(None, job.steps)
                self.cancel(job.prompt_id)
        return None

    def _event(self, job: _Job, event: dict[str, Any], on_progress: ProgressFn | None) -> JobOutcome | None:
        """One text message of the socket; the outcome when it ends the job."""
        kind, data = event.get("type"), event.get("data") or {}
        if data.get("prompt_id") not in (None, job.prompt_id):
            return None  # another client's job on a shared server
        ours = data.get("prompt_id") == job.prompt_id
        if kind == "executing" and job.resync and "prompt_id" not in data and data.get("node") is not None:
            job.node, job.resync = data.get("node"), False  # our job still runs (job_state said so)
        elif kind == "executing" and ours:
            job.node = data.get("node")
            if job.node is None:  # the job is over
                if job.image is None and job.stop_asked is None:
                    raise self._no_picture()
                return JobOutcome(job.image, job.steps)
        elif kind == "progress" and ours and job.node != OUTPUT_NODE:
            job.steps = int(data.get("value", 0))
            if on_progress is not None:
                on_progress(job.steps, int(data.get("max", 0)))
        elif kind == "execution_interrupted" and ours:
            if job.stop_asked is None:  # not by us: someone on the server stopped it
                raise ServerError(
                    f"The job was interrupted on {self.url} (by someone using the server); nothing on the "
                    "canvas changed. Generate again."
                )
            return JobOutcome(None, job.steps)
        elif kind == "execution_error" and ours:
            raise ServerError(
                f"The job failed on the server in {data.get('node_type', 'a node')}: "
                f"{data.get('exception_message', '').strip() or 'no reason given'}"
            )
        elif kind == "execution_success" and ours and job.image is not None:
            return JobOutcome(job.image, job.steps)
        return None

    def _no_picture(self) -> ServerError:
        return ServerError(
            f"The job on {self.url} ended without sending its picture (the connection may have dropped while it "
            "was sent); nothing on the canvas changed. Generate again."
        )

    def _back_after_drop(self, socket: Any, prompt_id: str, tries: int, exc: Exception) -> Any:
        """A new socket after the old one dropped, once the job is known to be still queued or running.
        Messages sent meanwhile are lost, so a job that ended meanwhile cannot deliver its picture."""
        if tries >= RECONNECTS:
            raise ServerError(
                f"The connection to {self.url} dropped during the job and did not come back ({exc}); "
                "nothing on the canvas changed. Generate again when the server is back."
            ) from exc
        time.sleep(min(5.0, 0.5 * (tries + 1)))  # about 30 s in all: a Wi-Fi blip, a proxy restarting
        fresh = self._reconnect(socket)
        if fresh is socket:
            return socket  # not back yet: the next receive fails and tries again
        try:
            state = self.job_state(prompt_id)
        except ServerError:
            return fresh
        if state in ("done", "gone"):
            fresh.close()
        if state == "done":
            raise self._no_picture()
        if state == "gone":
            raise ServerError(
                f"The job disappeared from {self.url} while the connection was down (the server restarted?); "
                "nothing on the canvas changed. Generate again."
            )
        return fresh

    def _reconnect(self, old: Any) -> Any:
        with contextlib.suppress(Exception):
            old.close()
        try:
            return self._socket()
        except ServerError:
            return old  # tried again on the next round
