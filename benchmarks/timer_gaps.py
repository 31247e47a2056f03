"""Gaps between the ticks of a 5 ms QTimer on the window's thread, and how much of them the host caused.

This machine is a virtual machine: the hypervisor can take a CPU away from it (Linux counts that as
"steal" in /proc/stat, in 10 ms ticks), and the host's memory manager pages out file-backed pages,
which the window's thread then waits to read back (a major page fault). Time stolen during a gap
says nothing about sketchdiffuse, so each gap is also given less the steal booked in it.

The counters are read by a separate process: reading files on the window's thread would release
and retake the GIL several times per tick, and while the worker runs Python each retake waits
for it, which delays the ticks being measured (p99 10 -> 20 ms during the library import).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEventLoop, QTimer

# Samples (monotonic seconds, steal ticks of all CPUs, major faults of the watched thread) every
# 2 ms until its stdin closes, then prints them as JSON. time.perf_counter is the same clock.
SAMPLER = """
import json, os, select, sys, time
tid = sys.argv[1]
def field(path, index):
    try:
        with open(path) as f:
            return int(f.readline().rsplit(")", 1)[-1].split()[index])
    except (OSError, IndexError, ValueError):
        return 0
samples = []
while True:
    samples.append((time.monotonic(), field("/proc/stat", 8), field(f"/proc/{tid}/task/{tid}/stat", 9)))
    if select.select([sys.stdin], [], [], 0.002)[0] and not sys.stdin.buffer.read1(64):
        break
json.dump(samples, sys.stdout)
"""
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 10.0


@dataclass(frozen=True)
class GapSummary:
    ticks: int
    p99_ms: float
    max_ms: float
    max_less_steal_ms: float  # the longest gap once the CPU time the host took meanwhile is removed
    over_30_ms: int
    over_30_ms_faulting: int  # of those, gaps in which the window's thread read back a paged-out page


class TickRecorder:
    """Records every tick of a 5 ms timer; the host's counters come from a sampling process (Linux)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(lambda: self.times.append(time.perf_counter()))
        self._sampler: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if sys.platform.startswith("linux"):
            self._sampler = subprocess.Popen(
                [sys.executable, "-c", SAMPLER, str(os.getpid())],  # the window's thread is the main thread
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            time.sleep(0.1)  # its first sample precedes the first tick
        self._timer.start()

    def stop(self) -> GapSummary:
        self._timer.stop()
        samples = np.zeros((0, 3))
        if self._sampler is not None:
            output, _ = self._sampler.communicate(timeout=30)
            samples = np.array(json.loads(output), dtype=float).reshape(-1, 3)
        times = np.array(self.times)
        if len(times) < 2:  # done before the timer ticked twice (e.g. the libraries were already imported)
            times = np.array([time.perf_counter()] * 2)
        gaps = np.diff(times) * 1000
        stolen = np.zeros_like(gaps)
        faulting = np.zeros(gaps.shape, dtype=bool)
        if len(samples) > 1:
            # Counters from the last sample before each tick; steal is booked at the CPU's next
            # timer interrupt, so a gap is charged up to 10 ms past its end.
            before = np.clip(np.searchsorted(samples[:, 0], times, side="right") - 1, 0, None)
            after = np.clip(np.searchsorted(samples[:, 0], times + 0.010, side="right") - 1, 0, None)
            stolen = (samples[after[1:], 1] - samples[before[:-1], 1]) * TICK_MS
            faulting = samples[after[1:], 2] > samples[before[:-1], 2]
        long = gaps > 30
        return GapSummary(
            ticks=len(times),
            p99_ms=float(np.percentile(gaps, 99)),
            max_ms=float(gaps.max()),
            max_less_steal_ms=float(np.clip(gaps - stolen, 0, None).max()),
            over_30_ms=int(long.sum()),
            over_30_ms_faulting=int((long & faulting).sum()),
        )


def gaps_until_done(
    start: Callable[[], object], on_done: Callable[[Callable[[], None]], object]
) -> tuple[float, GapSummary]:
    """Seconds and tick gaps from calling ``start`` until the callback given to ``on_done`` is called."""
    recorder = TickRecorder()
    loop = QEventLoop()
    on_done(loop.quit)
    recorder.start()
    began = time.perf_counter()
    start()
    loop.exec()
    return time.perf_counter() - began, recorder.stop()
