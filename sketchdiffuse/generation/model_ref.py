"""Where a model comes from and how it should run: a Hub id, a local folder or a single file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sketchdiffuse.generation.errors import ModelNotFoundError, UnsupportedModelFileError
from sketchdiffuse.generation.family_override import FamilyOverride

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class SourceKind(str, Enum):
    HUB = "hub"
    FOLDER = "folder"
    FILE = "file"
    SERVER = "server"  # a checkpoint's name on a ComfyUI server (generation/comfy)


@dataclass(frozen=True)
class ModelRef:
    source: str
    kind: SourceKind
    device: str = "auto"  # auto, cuda, mps, cpu
    precision: str = "auto"  # auto, fp16, bf16, fp32
    config_dir: str | None = None  # single files: a diffusers config folder instead of the shipped ones
    cpu_offload: bool = False  # keep only the running part of the model on the GPU (less memory, slower)
    vae_tiling: bool = False  # decode big images in tiles (less memory)
    override: FamilyOverride | None = None  # what the artist said the model is (detection wrong or unsure)
    server: str = ""  # SourceKind.SERVER: the ComfyUI server's address ("" where the caller holds one server)

    @staticmethod
    def on_server(name: str, server: str = "") -> ModelRef:
        """A checkpoint a ComfyUI server lists (its file name in models/checkpoints); nothing local is checked."""
        return ModelRef(name.strip(), SourceKind.SERVER, server=server)

    @property
    def name(self) -> str:
        if self.kind in (SourceKind.HUB, SourceKind.SERVER):
            return self.source
        path = Path(self.source)
        return path.stem if self.kind is SourceKind.FILE else path.name

    @staticmethod
    def parse(text: str, device: str = "auto", precision: str = "auto") -> ModelRef:
        """Tell what ``text`` names; a path that does not exist and is no Hub id is an error."""
        text = text.strip()
        path = Path(text).expanduser()
        if path.is_dir():
            return ModelRef(str(path.resolve()), SourceKind.FOLDER, device, precision)
        if path.is_file():
            suffix = path.suffix.lower()
            if suffix in (".ckpt", ".pt", ".pth", ".bin"):
                raise UnsupportedModelFileError(
                    f"'{path.name}' is a pickle checkpoint, which can run arbitrary code when opened. "
                    "sketchdiffuse only opens .safetensors files; most models are offered in that format too."
                )
            if suffix != ".safetensors":
                raise UnsupportedModelFileError(
                    f"'{path.name}' is not a model file sketchdiffuse can open; choose a .safetensors "
                    "checkpoint or a diffusers model folder."
                )
            return ModelRef(str(path.resolve()), SourceKind.FILE, device, precision)
        if _HUB_ID.match(text) and not text.startswith((".", "/", "~")):
            return ModelRef(text, SourceKind.HUB, device, precision)
        raise ModelNotFoundError(
            f"No model at '{text}': it is neither an existing folder or .safetensors file nor a Hub id "
            "like 'stabilityai/sd-turbo'."
        )
