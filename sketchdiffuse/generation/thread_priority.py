"""Background threads yield the CPU to the window's thread."""

from __future__ import annotations

import contextlib
import os
import sys
import threading


def lower_thread_priority(niceness: int = 10) -> None:
    """Let the window's thread win the CPU over this one.

    Linux keeps a nice value per thread, and threads started from this one inherit it (PyTorch's
    compute threads, the PNG encoders of a save). Elsewhere threads keep their priority.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
