"""The value ranges of a generation, shared by the request, the settings, the panel and the CLI."""

from __future__ import annotations

import random

RANDOM_SEED = -1
MAX_SEED = 2**32 - 1
STEPS = (1, 500)
GUIDANCE = (0.0, 50.0)
STRENGTH = (0.0, 1.0)
WORK_SIDE = (8, 8192)
REFINER_SWITCH = (0.05, 0.95)  # the fraction of the schedule the base model runs before the refiner
AESTHETIC_SCORE = (0.0, 10.0)


def resolve_seed(seed: int) -> int:
    """A random seed is drawn when a job is made, so the result and its record know it."""
    return random.SystemRandom().randint(0, MAX_SEED) if seed == RANDOM_SEED else seed
