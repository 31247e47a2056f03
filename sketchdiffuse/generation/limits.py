"""The value ranges of a generation, shared by the request, the settings, the panel and the CLI."""

from __future__ import annotations

RANDOM_SEED = -1
MAX_SEED = 2**32 - 1
STEPS = (1, 500)
GUIDANCE = (0.0, 50.0)
STRENGTH = (0.0, 1.0)
WORK_SIDE = (8, 8192)
