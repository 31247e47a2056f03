"""Short digests of drawings: live mode compares them, the engine's drawing cache is keyed by them."""

from __future__ import annotations

import hashlib

import numpy as np


def image_digest(data: bytes | np.ndarray) -> str:
    """A short digest of bytes or a C-contiguous array (hashed in place, not copied)."""
    buffer = data.data if isinstance(data, np.ndarray) else data  # ndarray.data: a view of its memory
    return hashlib.blake2b(buffer, digest_size=16).hexdigest()
