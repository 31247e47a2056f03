"""glibc heap options: a large block allocated on another thread is kept in the heap only when tuned.

Each case runs in a fresh interpreter: the options are process-wide and the heap choice is made
at a thread's first allocation.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc's allocator only"
)

PROBE = """
import ctypes, json, sys, threading
from sketchdiffuse.generation import heap_tuning

libc = ctypes.CDLL("libc.so.6")
class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Mallinfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

steps = sys.argv[1:]
if "share" in steps:
    assert heap_tuning.share_one_heap(gpu_nodes=())
if "keep" in steps:
    assert heap_tuning.keep_freed_buffers(True)
if "restore" in steps:
    assert heap_tuning.keep_freed_buffers(False)
result = {}

size = (16 << 20) if "small" in steps else (200 << 20)

def allocate():  # on a new thread, as torch's compute threads do
    if "small" in steps:  # a first block of the size, freed, lets glibc adjust its threshold
        libc.free(libc.malloc(size))
    before = libc.mallinfo2()
    block = libc.malloc(size)
    during = libc.mallinfo2()
    libc.free(block)
    after = libc.mallinfo2()
    result["mapped"] = during.hblkhd - before.hblkhd
    result["kept"] = after.fordblks - before.fordblks

thread = threading.Thread(target=allocate)
thread.start()
thread.join()
print(json.dumps(result))
"""

BLOCK = 200 << 20


def probe(*steps: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", PROBE, *steps], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@glibc_only
def test_defaults_map_and_unmap_large_blocks() -> None:
    result = probe()
    assert result["mapped"] >= BLOCK
    assert result["kept"] < BLOCK // 2


@glibc_only
def test_one_heap_and_kept_buffers_keep_a_freed_block() -> None:
    result = probe("share", "keep")
    assert result["mapped"] == 0
    assert result["kept"] >= BLOCK * 0.99


@glibc_only
def test_kept_buffers_need_the_shared_heap() -> None:
    # A thread's own heap is at most 64 MB, so the block is mapped whatever the threshold.
    assert probe("keep")["mapped"] >= BLOCK


@glibc_only
def test_switching_off_restores_mapping() -> None:
    result = probe("share", "keep", "restore")
    assert result["mapped"] >= BLOCK
    assert result["kept"] < BLOCK // 2


def test_a_model_loaded_on_the_cpu_keeps_buffers(tiny_sd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sketchdiffuse.generation.tuning as tuning
    from sketchdiffuse.generation import ModelRef, models

    calls: list[bool] = []
    monkeypatch.setattr(tuning, "keep_freed_buffers", calls.append)
    loaded = models.load_model(ModelRef.parse(str(tiny_sd)))
    assert loaded.device == "cpu"
    assert calls == [True]


def test_a_gpu_machine_keeps_separate_heaps(tmp_path: Path) -> None:
    from sketchdiffuse.generation.heap_tuning import gpu_device_present, share_one_heap

    node = tmp_path / "nvidiactl"
    assert not gpu_device_present([str(node)])
    node.touch()
    assert gpu_device_present([str(tmp_path / "kfd"), str(node)])
    assert not share_one_heap(gpu_nodes=[str(node)])  # returns before changing anything


@glibc_only
def test_switching_off_without_switching_on_leaves_glibc_alone() -> None:
    # glibc raises its own threshold after a mapped block up to 32 MB is freed, until one is set.
    small = 16 << 20
    assert probe("small", "restore")["mapped"] == 0
    assert probe("small", "share", "keep", "restore")["mapped"] >= small


def test_one_switch_turns_the_tuning_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import sketchdiffuse.generation.tuning as tuning

    monkeypatch.setenv(tuning.ENV, "0")
    assert not tuning.enabled()
    assert not tuning.share_one_heap() and not tuning.lower_generation_priority()
    assert tuning.open_native_libraries() == []
    # Counted as calls, not as gc.get_freeze_count(): another thread freeing a frozen object lowers that
    # count at any moment (a flaky failure in CI).
    freezes: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(True))
    with tuning.quiet_collector():
        assert gc.isenabled()  # the collector is left alone
    assert freezes == []
    monkeypatch.delenv(tuning.ENV)
    tuning.set_enabled(False)  # the settings switch
    try:
        assert not tuning.enabled()
    finally:
        tuning.set_enabled(True)
    assert tuning.enabled()


def test_the_generating_thread_keeps_its_priority_on_a_gpu_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import sketchdiffuse.generation.tuning as tuning

    lowered: list[bool] = []
    monkeypatch.setattr(tuning, "lower_thread_priority", lambda: lowered.append(True))
    monkeypatch.setattr(tuning, "gpu_machine", lambda: True)
    assert not tuning.lower_generation_priority() and lowered == []
    assert tuning.lower_background_priority() and lowered == [True]  # saving still yields to painting
    assert tuning.lower_generation_priority("cpu") and lowered == [True, True]  # the model runs on its CPU
    assert not tuning.lower_generation_priority("cuda") and lowered == [True, True]
    monkeypatch.setattr(tuning, "gpu_machine", lambda: False)
    assert tuning.lower_generation_priority() and lowered == [True, True, True]
