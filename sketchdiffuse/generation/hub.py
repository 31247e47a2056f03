"""Hugging Face Hub access: the local snapshot of a model, downloaded into the standard Hub cache when needed."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sketchdiffuse.generation.errors import DownloadError, ModelNotCachedError, ModelNotFoundError

# (stage, done, total): stage "download" counts bytes, "load" counts components.
LoadProgress = Callable[[str, int, int], None]

# Hub files a pipeline never needs: pickles, other frameworks, and single-file copies at the top level.
HUB_IGNORE = ["*.bin", "*.ckpt", "*.pt", "*.pth", "*.msgpack", "*.onnx", "*.onnx_data", "*.pb", "*.h5", "*.gguf"]


def _progress_tqdm(on_progress: LoadProgress | None) -> type | None:
    """A tqdm class that forwards the Hub's byte counters to ``on_progress``."""
    if on_progress is None:
        return None
    from tqdm.auto import tqdm

    report = on_progress

    class Reporter(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = False
            kwargs["file"] = io.StringIO()  # counted, never shown
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            if self.unit == "B" and (self.desc or "").startswith("Downloading"):
                report("download", int(self.n), int(self.total or 0))
            return shown

    return Reporter


def fetch_hub_model(repo_id: str, on_progress: LoadProgress | None = None) -> Path:
    """The local snapshot folder of a Hub model, downloading it into the standard Hub cache if needed."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True, ignore_patterns=HUB_IGNORE))
    except LocalEntryNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise ModelNotCachedError(f"The downloaded copy of '{repo_id}' cannot be read ({exc}).") from exc
    if constants.is_offline_mode():
        raise ModelNotCachedError(
            f"'{repo_id}' has not been downloaded yet and sketchdiffuse is offline (HF_HUB_OFFLINE). "
            "Connect to the internet once to download it, or choose a local model folder or .safetensors file."
        )
    try:
        path = snapshot_download(repo_id, ignore_patterns=HUB_IGNORE, tqdm_class=_progress_tqdm(on_progress))
    except RepositoryNotFoundError as exc:
        raise ModelNotFoundError(
            f"There is no model '{repo_id}' on the Hub (or it is private or gated); check the name."
        ) from exc
    except (OSError, ConnectionError) as exc:
        raise DownloadError(
            f"'{repo_id}' could not be downloaded ({exc}). Check the internet connection, "
            "or choose a local model folder or .safetensors file."
        ) from exc
    return Path(path)
