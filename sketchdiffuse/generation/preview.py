"""Cheap previews: latents projected to RGB with fixed linear factors, no VAE involved."""

from __future__ import annotations

import numpy as np

# Least-squares fits of RGB on the four latent channels, as used by common SD front ends.
SD_FACTORS = np.array(
    [[0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350], [-0.2829, 0.1762, 0.2721], [-0.2120, -0.2616, -0.7177]],
    dtype=np.float32,
)
SD_BIAS = np.zeros(3, dtype=np.float32)
SDXL_FACTORS = np.array(
    [[0.3651, 0.4232, 0.4341], [-0.2533, -0.0042, 0.1068], [0.1076, 0.1111, -0.0362], [-0.3165, -0.2492, -0.2188]],
    dtype=np.float32,
)
SDXL_BIAS = np.array([0.1084, -0.0175, -0.0011], dtype=np.float32)


def latents_to_rgb(latents: np.ndarray, sdxl: bool = False) -> np.ndarray:
    """(4, h, w) float latents -> (h, w, 3) uint8 preview at 1/8 of the image size."""
    factors, bias = (SDXL_FACTORS, SDXL_BIAS) if sdxl else (SD_FACTORS, SD_BIAS)
    rgb = np.tensordot(latents.astype(np.float32), factors, axes=([0], [0])) + bias
    return np.clip((rgb + 1.0) * 127.5, 0, 255).astype(np.uint8)
