"""What the CPU can do fast; asked once when a precision is chosen."""

from __future__ import annotations

from pathlib import Path


def cpu_has_fast_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (AVX512-BF16 or AMX).

    PyTorch's own mkldnn check also says yes for plain AVX512, where bf16 is emulated and slower
    than fp32, so the instruction sets are asked for by name.
    """
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for probe in probes:
        check = getattr(torch.cpu, probe, None)
        if check is not None:
            try:
                if check():
                    return True
            except RuntimeError:  # pragma: no cover - a probe that cannot run says nothing
                continue
    if all(hasattr(torch.cpu, p) for p in probes):
        return False
    try:  # older torch: the kernel's own flags
        flags = Path("/proc/cpuinfo").read_text(errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
