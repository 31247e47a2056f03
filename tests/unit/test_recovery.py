"""The recovery folder: copies of live windows are left alone, copies left by a crash are offered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from sketchdiffuse.document.document import Document
from sketchdiffuse.io.ora import read_ora
from sketchdiffuse.io.recovery import RecoveryStore


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def doc_with_mark() -> Document:
    doc = Document(32, 16)
    doc.layers[0].pixels[4:8, 4:8] = 200
    return doc


def crashed_copy(root: Path, title: str = "sketch.ora") -> RecoveryStore:
    store = RecoveryStore(root)
    store.folder = root / f"{dead_pid()}-1000"  # as if written by a process that has since died
    store.write(doc_with_mark(), {"history/index.json": b"{}"}, title, Path("/art/sketch.ora"))
    return store


def test_copies_of_running_windows_are_not_offered(tmp_path: Path):
    mine = RecoveryStore(tmp_path)
    mine.write(doc_with_mark(), {}, "mine", None)
    assert RecoveryStore(tmp_path).recoverable() == []  # same process: alive


def test_a_crashed_windows_copy_is_offered_with_its_document_and_thumbnail(tmp_path: Path):
    crashed_copy(tmp_path)
    (entry,) = RecoveryStore(tmp_path).recoverable()
    assert entry.title == "sketch.ora" and entry.original == "/art/sketch.ora" and entry.saved_at > 0
    contents = read_ora(entry.document)
    assert np.array_equal(contents.document.layers[0].pixels, doc_with_mark().layers[0].pixels)
    assert contents.extras == {"history/index.json": b"{}"}
    assert entry.thumbnail_png() is not None and entry.thumbnail_png().startswith(b"\x89PNG")
    RecoveryStore.discard(entry)
    assert RecoveryStore(tmp_path).recoverable() == []


def test_a_damaged_info_file_still_offers_the_document(tmp_path: Path):
    store = crashed_copy(tmp_path)
    (store.folder / "info.json").write_text("{broken")
    (entry,) = RecoveryStore(tmp_path).recoverable()
    assert entry.title == store.folder.name


def test_a_normal_close_removes_the_copy(tmp_path: Path):
    store = RecoveryStore(tmp_path)
    store.write(doc_with_mark(), {}, "x", None)
    assert json.loads((store.folder / "info.json").read_text())["title"] == "x"
    store.remove()
    assert not store.folder.exists()


def test_a_pid_reused_by_a_later_process_does_not_hide_a_crash_copy(tmp_path: Path):
    """After a reboot the crashed window's PID may belong to another program, started after the copy."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        store = RecoveryStore(tmp_path)
        store.folder = tmp_path / f"{other.pid}-1000"  # written in 1970 by a process with that PID
        store.write(doc_with_mark(), {}, "before the reboot", None)
        (entry,) = RecoveryStore(tmp_path).recoverable()
        assert entry.title == "before the reboot"
    finally:
        other.kill()
        other.wait()


def test_a_copy_of_a_window_still_running_in_another_process_is_left_alone(tmp_path: Path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import psutil

        started_ms = int(psutil.Process(other.pid).create_time() * 1000)
        store = RecoveryStore(tmp_path)
        store.folder = tmp_path / f"{other.pid}-{started_ms + 500}"  # made just after that process started
        store.write(doc_with_mark(), {}, "still open", None)
        assert RecoveryStore(tmp_path).recoverable() == []
    finally:
        other.kill()
        other.wait()
