"""Saving is atomic: a saving process killed at any moment leaves the old file or the new one, intact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sketchdiffuse.io.ora import read_ora, write_ora
from tests.unit.save_versions import version

WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from sketchdiffuse.io.ora import write_ora
from tests.unit.save_versions import version
target = Path(sys.argv[1])
print("ready", flush=True)
n = 0
while True:  # alternate between the two versions until killed, saying when each is complete
    n += 1
    write_ora(version(n % 2), target)
    print("wrote", n, flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_killed_save_leaves_a_whole_file(tmp_path: Path):
    target = tmp_path / "drawing.ora"
    write_ora(version(0), target)
    expected = [version(0), version(1)]
    root = str(Path(__file__).resolve().parents[2])
    rng = random.Random(7)
    outcomes = set()
    for attempt in range(12):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(target), root], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        # Kill during the write after the 1st or 2nd complete one (told by the writer, so a slow,
        # loaded machine changes nothing): the file is the version just written or, if the next one
        # finished meanwhile, the other one; never anything else.
        completed = 1 + attempt % 2
        while int(child.stdout.readline().split()[1]) < completed:
            pass
        time.sleep(rng.uniform(0.0, 0.02))  # somewhere inside encoding, writing, syncing or renaming
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        doc = read_ora(target).document  # never half a file
        match = [
            i
            for i, v in enumerate(expected)
            if all(np.array_equal(a.pixels, b.pixels) for a, b in zip(doc.layers, v.layers, strict=True))
        ]
        assert len(match) == 1
        outcomes.add(match[0])
    assert outcomes == {0, 1}, "the kills should land on both versions over 12 tries"
