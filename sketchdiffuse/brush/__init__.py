"""Round dab brush: settings, stroke recording and painting onto a layer (no Qt)."""

from sketchdiffuse.brush.engine import StrokePainter, replay_stroke
from sketchdiffuse.brush.settings import BrushSettings
from sketchdiffuse.brush.stroke import StrokePoint, StrokeRecord

__all__ = ["BrushSettings", "StrokePainter", "StrokePoint", "StrokeRecord", "replay_stroke"]
