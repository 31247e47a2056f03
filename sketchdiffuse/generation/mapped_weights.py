"""Letting go of memory-mapped weight files without stalling the window.

A model folder's .safetensors files are memory-mapped while they load. When the last tensor of a
mapping is freed (after the weights were converted to another precision or moved to the GPU),
unmapping tears down the page tables of the whole file in one call with the GIL held: 177 ms for
SD-Turbo's 3.46 GB UNet, during which the window's thread cannot run a line
(benchmarks/bench_ui_latency.py). ``released_outside_gil`` keeps every loaded storage alive
across the conversion, drops the mapped pages with madvise called through ctypes (which releases
the GIL), and only then frees the storages, one per Python step.

torch is imported inside the functions.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import sys
from collections.abc import Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)

MADV_DONTNEED = 4  # Linux: drop the pages; a private file mapping refaults them from the file


@contextlib.contextmanager
def released_outside_gil(modules: Iterable[Any]) -> Iterator[None]:
    """Around code that replaces the tensors of ``modules`` (torch modules): the mappings it leaves
    unused are released without a long GIL hold."""
    modules = list(modules)
    storages = {s.data_ptr(): s for s in _storages(modules)}
    try:
        yield
    finally:
        if sys.platform.startswith("linux"):
            in_use = [s.data_ptr() for s in _storages(modules)]
            for start, end in file_mappings(storages, ".safetensors"):
                if not any(start <= p < end for p in in_use):  # nothing reads these pages any more
                    _drop_pages(start, end - start)
        while storages:
            storages.popitem()  # one storage per step: the GIL can change hands in between


def file_mappings(pointers: Iterable[int], suffix: str) -> list[tuple[int, int]]:
    """(start, end) of this process's mappings of files named ``*suffix`` that hold any of ``pointers``."""
    points = sorted(set(pointers))
    found = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) < 6 or not fields[5].rstrip("\n").endswith(suffix):
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if any(start <= p < end for p in points):
                    found.append((start, end))
    except OSError:
        return []
    return found


def _storages(modules: list[Any]) -> Iterator[Any]:
    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            yield tensor.untyped_storage()


def _drop_pages(start: int, length: int) -> None:
    try:
        madvise = ctypes.CDLL(None).madvise
    except (OSError, AttributeError):
        return
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    if madvise(start, length, MADV_DONTNEED) != 0:
        log.debug("madvise failed for a weights mapping; it is unmapped with the GIL held")
