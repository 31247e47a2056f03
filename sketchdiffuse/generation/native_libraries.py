"""Loading PyTorch's shared libraries without holding Python's GIL.

``import torch`` opens libtorch with ``dlopen`` while holding the GIL, and the libraries' static
initialisers (thousands of operator registrations) run inside that call: 200-850 ms during which
no other Python thread, the window's included, can run a line (measured with
benchmarks/bench_ui_latency.py). A foreign function called through ctypes releases the GIL, so
opening the same files that way first runs those initialisers while the window keeps painting;
the later ``import torch`` finds them loaded and only bumps a reference count.

Best effort: only the libraries whose initialisers need no Python (never an extension module's
init function), only on Linux, and any failure leaves the normal import to do the work.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def heavy_libraries() -> list[tuple[Path, int]]:
    """(path, dlopen mode) of the libraries worth opening early, in the order torch opens them."""
    if not sys.platform.startswith("linux") or os.environ.get("TORCH_USE_RTLD_GLOBAL"):
        return []  # torch then opens libtorch globally; leave its loading untouched
    found: list[tuple[Path, int]] = []
    torch = _package_folder("torch")
    if torch is not None:
        # The same flags torch uses: global for its dependency shim, local for libtorch itself.
        torch_lib = torch / "lib"
        for name, mode in (
            ("libtorch_global_deps.so", os.RTLD_NOW | os.RTLD_GLOBAL),
            ("libtorch.so", os.RTLD_NOW | os.RTLD_LOCAL),
        ):
            if (torch_lib / name).is_file():
                found.append((torch_lib / name, mode))
    triton = _package_folder("triton")  # diffusers reaches it through torch._dynamo on CUDA builds
    if triton is not None:
        found.extend((path, os.RTLD_NOW | os.RTLD_LOCAL) for path in sorted((triton / "_C").glob("libtriton*.so")))
    return found


def open_without_gil(libraries: list[tuple[Path, int]]) -> list[Path]:
    """dlopen each library through ctypes (which releases the GIL); returns those that opened."""
    if not libraries:
        return []
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return []
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    opened = []
    for path, mode in libraries:
        if dlopen(os.fsencode(path), mode):
            opened.append(path)
        else:
            log.debug("early load of %s failed; the import will load it", path)
            break  # later libraries depend on earlier ones: keep torch's own order from here
    return opened


def _package_folder(name: str) -> Path | None:
    """The folder of an installed package, found without importing (executing) it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent
