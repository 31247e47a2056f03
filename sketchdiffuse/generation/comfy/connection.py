"""Test connection: what a server address leads to, in a sentence the settings show (unreachable, not
ComfyUI, a wrong token, missing nodes, no checkpoints, or ready with its version, device and models)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sketchdiffuse.generation.comfy.client import ComfyClient, ServerError
from sketchdiffuse.generation.model_lists import ModelLists


@dataclass(frozen=True)
class ConnectionReport:
    url: str
    ok: bool  # jobs can be sent: reachable, ComfyUI, every node there, at least one checkpoint
    text: str
    models: ModelLists | None = None  # None when the server's lists could not be read


def _machine(stats: Any) -> str:
    """ "ComfyUI 0.8.2 on cuda:0 NVIDIA ..." from /system_stats; "" when it says nothing usable."""
    try:
        version = str(stats["system"]["comfyui_version"])
        device = str(stats["devices"][0]["name"])
    except (KeyError, IndexError, TypeError):
        return ""
    return f"ComfyUI {version} on {device}"


def check_connection(url: str, token: str = "", timeout: float = 10.0) -> ConnectionReport:
    """Never raises for what the server does; a malformed address is reported like an unreachable one."""
    try:
        with ComfyClient(url, token, timeout) as client:
            models, problems = client.check()
            try:
                machine = _machine(client.system_stats())
            except ServerError:  # an older server without /system_stats still makes pictures
                machine = ""
    except ServerError as exc:
        return ConnectionReport(url, False, str(exc))
    what = machine or "ComfyUI"
    if problems:
        return ConnectionReport(url, False, f"{url} runs {what}, but " + "; ".join(problems) + ".", models)
    counts = ", ".join(
        f"{len(names)} {word}{'s' if len(names) != 1 else ''}"
        for names, word in (
            (models.checkpoints, "checkpoint"),
            (models.loras, "LoRA"),
            (models.controlnets, "ControlNet"),
        )
    )
    return ConnectionReport(url, True, f"Connected: {what}, with {counts}.", models)
