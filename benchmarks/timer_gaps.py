"""Gaps between the ticks of a 5 ms QTimer on the window's thread, and how much of them the host caused.

This machine is a virtual machine: the hypervisor can take a CPU away from it (Linux counts that as
"steal" in /proc/stat, in 10 ms ticks), and the host's memory manager pages out file-backed pages,
which the window's thread then waits to read back (a major page fault). Time stolen during a gap
says nothing about sketchdiffuse, so each gap is also given less the steal booked in it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 10.0


def _field(path: str, index: int) -> int:
    try:
        return int(Path(path).read_text().splitlines()[0].rsplit(")", 1)[-1].split()[index])
    except (OSError, IndexError, ValueError):
        return 0  # not Linux: nothing is booked to the host


def steal_ticks() -> int:
    """Steal time of all CPUs ("cpu user nice system idle iowait irq softirq steal")."""
    return _field("/proc/stat", 8)


def major_faults() -> int:
    """Major page faults of the calling thread (fields after "(comm)": state ... majflt)."""
    return _field("/proc/thread-self/stat", 9)


@dataclass(frozen=True)
class GapSummary:
    ticks: int
    p99_ms: float
    max_ms: float
    max_less_steal_ms: float  # the longest gap once the CPU time the host took meanwhile is removed
    over_30_ms: int
    over_30_ms_faulting: int  # of those, gaps in which the window's thread read back a paged-out page


class TickRecorder:
    """Records every tick of a 5 ms timer with the host's counters at that moment."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.steal: list[int] = []
        self.faults: list[int] = []
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.times.append(time.perf_counter())
        self.steal.append(steal_ticks())
        self.faults.append(major_faults())

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> GapSummary:
        self._timer.stop()
        gaps = np.diff(self.times) * 1000
        stolen = np.diff(self.steal) * TICK_MS
        # The kernel books steal at the CPU's next timer interrupt, so some shows in the next interval.
        stolen[:-1] += stolen[1:]
        faulting = np.diff(self.faults) > 0
        long = gaps > 30
        return GapSummary(
            ticks=len(self.times),
            p99_ms=float(np.percentile(gaps, 99)),
            max_ms=float(gaps.max()),
            max_less_steal_ms=float(np.clip(gaps - stolen, 0, None).max()),
            over_30_ms=int(long.sum()),
            over_30_ms_faulting=int((long & faulting).sum()),
        )
