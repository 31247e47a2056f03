"""The recovery folder: autosaved copies of open documents, kept until their window closes normally.

Each running window owns one folder named after its process and start time, holding
``document.ora`` (layers, history strip and panel settings, like a project) and ``info.json``
(title, the user's own file, when it was written). A folder whose process is gone, or whose PID now
belongs to a process started after the folder was made, was left by a crash: it is offered for
recovery at the next start. The user's own files are never written here.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from sketchdiffuse.document.document import Document
from sketchdiffuse.io.atomic import atomic_writer
from sketchdiffuse.io.ora import write_ora

DOCUMENT = "document.ora"
INFO = "info.json"


@dataclass(frozen=True)
class Recoverable:
    folder: Path
    title: str
    original: str | None  # the user's file the document came from, if any
    saved_at: float  # seconds since the epoch

    @property
    def document(self) -> Path:
        return self.folder / DOCUMENT

    def thumbnail_png(self) -> bytes | None:
        """The thumbnail stored in the .ora, or None when it cannot be read."""
        try:
            with zipfile.ZipFile(self.document) as archive:
                return archive.read("Thumbnails/thumbnail.png")
        except (OSError, KeyError, zipfile.BadZipFile):
            return None


def _window_alive(pid: int, folder_ms: int) -> bool:
    """Whether the process that made a folder still runs: its PID exists and that process started before
    the folder was made (a PID can be reused by a later program, after a reboot or within one boot)."""
    if pid == os.getpid():
        return True
    try:
        started = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # exists, but cannot be inspected (another user's): leave its copy alone
    return started <= folder_ms / 1000 + 1.0  # a second of slack for clock granularity


class RecoveryStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / f"{os.getpid()}-{int(time.time() * 1000)}"

    def write(self, doc: Document, extras: Mapping[str, bytes], title: str, original: Path | None) -> None:
        """Write this window's copy atomically; the previous copy survives a failure intact."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_ora(doc, self.folder / DOCUMENT, extras)
        info = {"title": title, "original": str(original) if original else None, "saved_at": time.time()}
        with atomic_writer(self.folder / INFO) as handle:
            handle.write(json.dumps(info).encode("utf-8"))

    def remove(self) -> None:
        """A normal close: this window's copy is no longer needed."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def recoverable(self) -> list[Recoverable]:
        """Copies left by windows whose process has ended, newest first."""
        found: list[Recoverable] = []
        if not self.root.is_dir():
            return found
        for folder in self.root.iterdir():
            pid_text, _, ms_text = folder.name.partition("-")
            if not folder.is_dir() or folder == self.folder or not (pid_text.isdigit() and ms_text.isdigit()):
                continue
            if _window_alive(int(pid_text), int(ms_text)) or not (folder / DOCUMENT).is_file():
                continue
            try:
                info = json.loads((folder / INFO).read_text(encoding="utf-8"))
                title, original, saved_at = str(info["title"]), info.get("original"), float(info["saved_at"])
            except (OSError, ValueError, KeyError, TypeError):
                title, original, saved_at = folder.name, None, (folder / DOCUMENT).stat().st_mtime
            found.append(Recoverable(folder, title, original, saved_at))
        return sorted(found, key=lambda r: r.saved_at, reverse=True)

    @staticmethod
    def discard(entry: Recoverable) -> None:
        shutil.rmtree(entry.folder, ignore_errors=True)
