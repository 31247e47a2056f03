"""Where pictures are made: the local diffusers engine or a ComfyUI server. The session, the worker and the
command line hold a Backend and do not know which one runs."""

from __future__ import annotations

from typing import Protocol

from sketchdiffuse.generation.engine import CancelToken, PreviewCallback, ProgressCallback
from sketchdiffuse.generation.models import LoadProgress
from sketchdiffuse.generation.request import Cancelled, GenerationRequest, GenerationResult


class Backend(Protocol):
    def generate(
        self,
        request: GenerationRequest,
        on_progress: ProgressCallback | None = None,
        on_preview: PreviewCallback | None = None,
        cancel: CancelToken | None = None,
        on_load: LoadProgress | None = None,
    ) -> GenerationResult | Cancelled: ...

    def unload(self) -> None: ...


def describe(backend: object) -> str:
    """Where this backend makes pictures, for the status bar and the results' records."""
    where = getattr(backend, "where", None)
    return str(where) if where else "this computer"
