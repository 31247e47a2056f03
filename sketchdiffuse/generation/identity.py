"""Short model hashes: AUTOMATIC1111's for single files, a sampled one for folders."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CHUNK = 1 << 20


def _cache_file() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "sketchdiffuse" / "model_hashes.json"


def file_hash(path: Path) -> str:
    """First 10 hex digits of the file's SHA-256 (the 'Model hash' other tools write), cached by size and time."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_path = _cache_file()
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    if key in cache:
        return str(cache[key])
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK * 8):
            digest.update(block)
    value = digest.hexdigest()[:10]
    cache[key] = value
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        cache_path.write_text(json.dumps(cache))
    except OSError:
        pass  # a read-only home only costs a re-hash next time
    return value


def folder_hash(folder: Path) -> str:
    """Hash of a diffusers folder from its configs and samples of each weight file (fast on huge folders)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in (".json", ".safetensors", ".txt"):
            continue
        digest.update(str(path.relative_to(folder)).encode())
        size = path.stat().st_size
        digest.update(str(size).encode())
        with path.open("rb") as handle:
            if size <= 16 * CHUNK:
                digest.update(handle.read())
                continue
            for i in range(16):
                handle.seek(size * i // 16)
                digest.update(handle.read(CHUNK // 16))
    return digest.hexdigest()[:10]
