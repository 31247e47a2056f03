"""glibc's allocator set up for running the models on the CPU.

PyTorch gets every tensor from ``malloc``. With glibc's defaults each large activation (tens of
MB in the VAE at 512 px) is a fresh ``mmap`` that the compute threads fault in page by page and
that ``free`` unmaps again, thousands of times per image. Keeping freed blocks in the heap
instead makes a CPU img2img job 15-25 % faster (benchmarks/bench_generation.py and
bench_ui_latency.py; figures in docs/performance.md and docs/benchmarks.md).

Only the main heap can hold blocks of that size (the per-thread heaps are 64 MB each), so every
thread is sent there. That also makes the window's thread share the allocator's lock with the
background threads, so it is done only on machines without a GPU, where the CPU runs the models.
Linux with glibc only; elsewhere these calls do nothing.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

# mallopt parameters, from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

# Present when an NVIDIA or AMD GPU driver is loaded; checked without importing torch.
GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/kfd")

# glibc's own starting values, restored when buffers need not be kept.
DEFAULT_THRESHOLD = 128 * 1024
KEPT_THRESHOLD = 1 << 30  # blocks up to 1 GB come from the heap
KEPT_TRIM = (1 << 31) - 1  # at most this much free memory is handed back at the top of the heap

_kept = False  # whether keep_freed_buffers(True) is in force


@cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _set(*options: tuple[int, int]) -> bool:
    libc = _glibc()
    if libc is None:
        return False
    ok = all(libc.mallopt(option, value) == 1 for option, value in options)
    if not ok:
        log.debug("glibc refused a malloc option: %s", options)
    return ok


def gpu_device_present(nodes: Iterable[str] = GPU_DEVICE_NODES) -> bool:
    return any(Path(node).exists() for node in nodes)


def share_one_heap(gpu_nodes: Iterable[str] = GPU_DEVICE_NODES) -> bool:
    """Send every thread's allocations to the main heap, the only one that can keep large blocks.

    Skipped where a GPU driver is loaded (``gpu_nodes``). Call before other threads start: a
    thread picks its heap at its first allocation.
    """
    if gpu_device_present(gpu_nodes):
        return False
    return _set((M_ARENA_MAX, 1))


def keep_freed_buffers(enabled: bool) -> bool:
    """Large blocks come from the heap and stay there once freed (on), or glibc's defaults (off).

    On while a model runs on the CPU. Off when the weights live on a GPU: then the large blocks are
    the CPU copies made while loading, which should go back to the system. Off leaves glibc alone
    unless this turned it on (setting a threshold at all ends glibc's own adjustment of it).
    """
    global _kept
    if enabled == _kept:
        return True
    if enabled:
        _kept = _set((M_MMAP_THRESHOLD, KEPT_THRESHOLD), (M_TRIM_THRESHOLD, KEPT_TRIM))
        return _kept
    _kept = False
    return _set((M_MMAP_THRESHOLD, DEFAULT_THRESHOLD), (M_TRIM_THRESHOLD, DEFAULT_THRESHOLD))
