"""The artist's LoRAs: the list in the prompt panel (kept as JSON text in the panel's values), the folder
scanned for more, and AUTOMATIC1111's ``<lora:name:weight>`` tags in a prompt resolved against both."""

from __future__ import annotations

import json
from pathlib import Path

from sketchdiffuse.generation.controls import LORA_WEIGHT, Lora, prompt_loras
from sketchdiffuse.generation.errors import InvalidRequestError


def encode_loras(loras: list[tuple[str, float]]) -> str:
    """JSON [[file, weight], ...]; "" for none (the panel's default)."""
    return json.dumps([[path, weight] for path, weight in loras]) if loras else ""


def decode_loras(text: str) -> list[tuple[str, float]]:
    """The panel's list from its JSON text; damaged entries are dropped, weights clamped to the range."""
    try:
        raw = json.loads(text) if text else []
    except json.JSONDecodeError:
        return []
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
            try:
                out.append((item[0], min(max(float(item[1]), LORA_WEIGHT[0]), LORA_WEIGHT[1])))
            except (TypeError, ValueError):
                continue
    return out


def folder_loras(folder: str) -> dict[str, str]:
    """Name (file stem) -> path of every .safetensors file under ``folder``; empty when it is not there."""
    root = Path(folder).expanduser() if folder else None
    if root is None or not root.is_dir():
        return {}
    return {p.stem: str(p) for p in sorted(root.rglob("*.safetensors"))}


def request_loras(prompt: str, listed: str, folder: str, on_server: bool = False) -> tuple[str, tuple[Lora, ...]]:
    """The prompt without its LoRA tags, and the LoRAs to apply: the panel's list, with a tag's weight for
    a listed LoRA it names (a PNG's prompt repeats the list's LoRAs as tags: they must not apply twice),
    then the other tags' LoRAs, found in the LoRA folder. A tag naming a LoRA that is nowhere is refused;
    ``on_server``: it is left to the server, which looks for it in its own loras folder."""
    cleaned, tags = prompt_loras(prompt)
    chosen = dict(decode_loras(listed))  # path -> weight, in the list's order
    by_name = {Path(path).stem: path for path in chosen}
    found = folder_loras(folder) if tags else {}
    extra: dict[str, float] = {}
    for name, weight in tags:
        if name in by_name:
            chosen[by_name[name]] = weight
        elif name in found:
            extra[found[name]] = weight
        elif on_server:
            extra[name] = weight
        else:
            raise InvalidRequestError(
                f"The prompt names the LoRA '{name}', which is neither in the LoRA list nor in the LoRA folder; "
                "add it to the list or remove the tag."
            )
    return cleaned, tuple(Lora(path, weight) for path, weight in (chosen | extra).items())


def is_lcm(lora: Lora) -> bool:
    """An LCM-LoRA (by its usual file names): it wants the LCM sampler with few steps and little guidance."""
    name = lora.name.lower().replace("-", "_")
    return "lcm_lora" in name or name.startswith("lcm") or "_lcm" in name
