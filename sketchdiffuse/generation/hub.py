"""Hugging Face Hub access: the local snapshot of a model, downloaded into the standard Hub cache when needed."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sketchdiffuse.generation.errors import DownloadError, ModelNotCachedError, ModelNotFoundError
from sketchdiffuse.generation.model_lists import ModelLists

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


# Components a pipeline in sketchdiffuse never loads.
UNUSED_COMPONENTS = {"safety_checker", "feature_extractor", "image_encoder"}
WEIGHTS = (".safetensors",)
HALF = re.compile(r"\.fp16[.-]")


def pipeline_components(model_index: dict[str, object]) -> set[str]:
    """The components model_index.json names that a pipeline in sketchdiffuse loads."""
    named = {
        name
        for name, value in model_index.items()
        if not name.startswith("_") and isinstance(value, list) and value and value[0] is not None
    }
    return named - UNUSED_COMPONENTS


def select_hub_files(files: list[str], model_index: dict[str, object], half: bool) -> list[str]:
    """The files of a diffusers repository a pipeline needs: model_index.json and the folders of the
    components it names (not the safety checker, not the top-level single-file copies), with each
    component's weights in one variant: fp16 when ``half`` and the repository has it, else the plain one."""
    components = pipeline_components(model_index)
    chosen = ["model_index.json"] if "model_index.json" in files else []
    for component in sorted(components):
        inside = [f for f in files if f.startswith(component + "/") and f.count("/") == 1]
        weights = [f for f in inside if f.endswith(WEIGHTS)]
        half_weights = [f for f in weights if is_half_weights(f)]
        full_weights = [f for f in weights if not is_half_weights(f)]
        keep = half_weights if half and half_weights else full_weights or half_weights
        chosen += [
            f
            for f in inside
            if not f.endswith(WEIGHTS) and not f.endswith((".bin", ".ckpt", ".msgpack", ".h5", ".onnx", ".pb"))
        ]
        chosen += keep
    return chosen


def is_half_weights(name: str) -> bool:
    """fp16 variant files: ``x.fp16.safetensors`` and shards ``x.fp16-00001-of-00002.safetensors``."""
    return bool(HALF.search(name))


def _cached_json(repo_id: str, file: str) -> tuple[Path, dict[str, Any]] | None:
    """A cached repository's snapshot folder and its ``file`` (model_index.json, config.json) read as an
    object; None when it is not cached or not such a file."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = Path(hf_hub_download(repo_id, file, local_files_only=True))
        data = json.loads(path.read_text())
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return (path.parent, data) if isinstance(data, dict) else None


def _complete(folder: Path, index: dict[str, Any]) -> bool:
    """Every component the index names has files (a download took only those, so the Hub's own check of
    the whole repository would call it incomplete)."""
    return all((folder / name).is_dir() and any((folder / name).iterdir()) for name in pipeline_components(index))


def cached_pipeline(repo_id: str) -> Path | None:
    """The local snapshot of a pipeline repository when every component it names is there."""
    found = _cached_json(repo_id, "model_index.json")
    return found[0] if found is not None and _complete(*found) else None


def downloaded_models() -> ModelLists:
    """The local engine's available models: the complete Stable Diffusion pipelines and the ControlNets in
    the Hub cache, by Hub id. (Local model folders, single files and LoRAs are wherever the artist keeps
    them: chosen as files, not listed.)"""
    from huggingface_hub import constants

    cache = Path(constants.HF_HUB_CACHE)
    checkpoints, controlnets = [], []
    for folder in sorted(cache.glob("models--*")) if cache.is_dir() else []:
        repo_id = folder.name.removeprefix("models--").replace("--", "/")  # Hub ids never hold "--"
        pipeline = _cached_json(repo_id, "model_index.json")
        if pipeline is not None:  # what the engine loads, complete (Flux, SD3... pipelines are not listed)
            if str(pipeline[1].get("_class_name", "")).startswith("StableDiffusion") and _complete(*pipeline):
                checkpoints.append(repo_id)
            continue
        config = _cached_json(repo_id, "config.json")
        if config is not None and config[1].get("_class_name") == "ControlNetModel":
            controlnets.append(repo_id)
    return ModelLists(checkpoints, [], controlnets)


def fetch_hub_model(repo_id: str, on_progress: LoadProgress | None = None, half: bool = False) -> Path:
    """The local snapshot folder of a Hub model, downloading it into the standard Hub cache if needed.
    For a pipeline, only what it loads, in the fp16 variant when ``half`` (about 2.6 GB of 13 GB for
    SD-Turbo); a repository without model_index.json (a tiny autoencoder) is taken whole, less pickles."""
    from huggingface_hub import HfApi, constants, hf_hub_download, snapshot_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError

    cached = cached_pipeline(repo_id)
    if cached is not None:
        return cached
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
    progress = _progress_tqdm(on_progress)
    try:
        try:
            index = json.loads(Path(hf_hub_download(repo_id, "model_index.json")).read_text())
        except EntryNotFoundError:
            path = snapshot_download(repo_id, ignore_patterns=HUB_IGNORE, tqdm_class=progress)
        else:
            files = select_hub_files(HfApi().list_repo_files(repo_id), index, half)
            path = snapshot_download(repo_id, allow_patterns=files, tqdm_class=progress)
    except RepositoryNotFoundError as exc:
        raise ModelNotFoundError(
            f"There is no model '{repo_id}' on the Hub (or it is private or gated); check the name."
        ) from exc
    except (OSError, ConnectionError, ValueError) as exc:
        raise DownloadError(
            f"'{repo_id}' could not be downloaded ({exc}). Check the internet connection, "
            "or choose a local model folder or .safetensors file."
        ) from exc
    return Path(path)
