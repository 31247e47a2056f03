"""sketchdiffuse: paint a sketch on layers, turn it into an image with Stable Diffusion."""

__version__ = "0.1.0"
