"""Blend modes by their W3C Compositing and Blending Level 1 names."""

from __future__ import annotations

from enum import Enum


class BlendMode(str, Enum):
    NORMAL = "normal"
    MULTIPLY = "multiply"
    SCREEN = "screen"
    OVERLAY = "overlay"
    DARKEN = "darken"
    LIGHTEN = "lighten"
    COLOR_DODGE = "color-dodge"
    COLOR_BURN = "color-burn"
    HARD_LIGHT = "hard-light"
    SOFT_LIGHT = "soft-light"
    DIFFERENCE = "difference"
    PLUS = "plus"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ").title()

    @property
    def ora_op(self) -> str:
        """OpenRaster composite-op attribute."""
        return "svg:src-over" if self is BlendMode.NORMAL else f"svg:{self.value}"

    @staticmethod
    def from_ora_op(op: str) -> BlendMode | None:
        """The mode for an OpenRaster composite-op, or None when it is not one we know."""
        if op in ("svg:src-over", ""):
            return BlendMode.NORMAL
        if op.startswith("svg:"):
            try:
                return BlendMode(op[4:])
            except ValueError:
                return None
        return None
