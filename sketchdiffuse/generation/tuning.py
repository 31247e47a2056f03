"""Process-level tuning for generating on the CPU beside a responsive window, behind one switch.

The parts, each measured in docs/benchmarks.md and docs/performance.md:
- one shared glibc heap, so freed activations are reused (CPU generation 15-25 % faster);
- freed buffers kept while a model runs on the CPU (same measurement);
- libtorch's libraries opened without the GIL before ``import torch`` (window stalls 229-848 -> 23-52 ms);
- no full garbage collections during imports and model loads, survivors frozen (stalls of 100-350 ms);
- the generating thread at a lower priority, so the window's thread wins the CPU.

``SKETCHDIFFUSE_TUNING=0`` turns all of it off (for measuring, or a platform where a part misbehaves);
the Generation Settings switch does the same for what happens after start-up. Parts that do not help
on GPU machines are skipped there: the heap sharing, and the lower priority (a GPU job's thread mostly
waits on the device, and a low-priority thread feeding the GPU would starve it).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator

import sketchdiffuse.generation.heap_tuning as heap_tuning
from sketchdiffuse.generation.native_libraries import heavy_libraries, open_without_gil
from sketchdiffuse.generation.thread_priority import lower_thread_priority

ENV = "SKETCHDIFFUSE_TUNING"
_setting = True  # the Generation Settings switch, set by the window


def enabled() -> bool:
    if os.environ.get(ENV, "").strip().lower() in ("0", "off", "false", "no"):
        return False
    return _setting


def set_enabled(on: bool) -> None:
    global _setting
    _setting = on


def gpu_machine() -> bool:
    return heap_tuning.gpu_device_present()


def share_one_heap() -> bool:
    """At start-up, before other threads exist; True when it was done."""
    return enabled() and heap_tuning.share_one_heap()


def keep_freed_buffers(on_cpu: bool) -> bool:
    """On while a model runs on the CPU; always back to glibc's defaults when tuning is off."""
    return heap_tuning.keep_freed_buffers(on_cpu and enabled())


def open_native_libraries() -> list[str]:
    return [str(p) for p in open_without_gil(heavy_libraries())] if enabled() else []


@contextlib.contextmanager
def quiet_collector() -> Iterator[None]:
    """Keep Python's cyclic garbage collector out of an import or a model load.

    Loading creates millions of long-lived objects (tokenizer tables, modules), and each full
    collection walks all of them while holding the GIL: 100-350 ms stalls of the window's thread,
    measured with gc.callbacks. The collector is paused during the load, and what survives is moved
    to the permanent generation (``gc.freeze``) so later collections skip it.
    """
    if not enabled():
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def lower_generation_priority(device: str | None = None) -> bool:
    """For the thread that runs the model (and the threads it starts). ``device`` None (before any model
    loads): lowered unless the machine has a GPU driver; "cpu": lowered, also on a GPU machine whose model
    runs on the CPU (compute threads already started keep their priority); a GPU device: left alone."""
    if not enabled() or (device is None and gpu_machine()) or device not in (None, "cpu"):
        return False
    lower_thread_priority()
    return True


def lower_background_priority() -> bool:
    """For background work such as saving, which should never compete with painting."""
    if not enabled():
        return False
    lower_thread_priority()
    return True
