"""Where pictures are made: the local diffusers engine or a ComfyUI server, each a Backend (prepare a model,
list the available ones, generate with progress, previews and cancel). The session, the worker and the
command line hold a Backend and do not know which one runs; the Router they hold sends each request where
its model is (a checkpoint on a server carries the server's address), so a job queued before the artist
switched servers still runs where it was asked."""

from __future__ import annotations

from typing import Any, Protocol

from sketchdiffuse.generation.engine import CancelToken, Engine, PreviewCallback, ProgressCallback
from sketchdiffuse.generation.errors import InvalidRequestError
from sketchdiffuse.generation.family import Family
from sketchdiffuse.generation.model_lists import ModelLists
from sketchdiffuse.generation.model_ref import ModelRef, SourceKind
from sketchdiffuse.generation.models import LoadProgress
from sketchdiffuse.generation.request import Cancelled, GenerationRequest, GenerationResult


class Backend(Protocol):
    def prepare(self, ref: ModelRef, on_load: LoadProgress | None = None) -> Family:
        """Make sure ``ref`` can run (download and load it here; find it on a server); its family. Raises
        GenerationError with the sentence to show."""
        ...

    def available_models(self) -> ModelLists:
        """The checkpoints, LoRAs and ControlNets this backend can use by name."""
        ...

    def generate(
        self,
        request: GenerationRequest,
        on_progress: ProgressCallback | None = None,
        on_preview: PreviewCallback | None = None,
        cancel: CancelToken | None = None,
        on_load: LoadProgress | None = None,
    ) -> GenerationResult | Cancelled: ...

    def unload(self) -> None: ...


class Router:
    """The local engine and one client per server used, each request to its own."""

    def __init__(self, local: Engine | None = None) -> None:
        self.local = local or Engine()
        self.tokens: dict[str, str] = {}  # server address -> access token; replaced whole by the window
        self._servers: dict[str, tuple[str, Any]] = {}  # address -> (token, ComfyBackend), made on first use

    @property
    def model(self) -> Any:
        """The local engine's loaded model (None on a server: nothing is loaded here)."""
        return self.local.model

    def backend_for(self, model: ModelRef) -> Backend:
        if model.kind is not SourceKind.SERVER:
            return self.local
        if not model.server:
            raise InvalidRequestError(f"'{model.source}' is a checkpoint on a server, but no server was named.")
        return self.on_server(model.server)

    def on_server(self, url: str) -> Backend:
        """The client of the server at ``url``, with the token saved for it."""
        token = self.tokens.get(url, "")
        known = self._servers.get(url)
        if known is not None and known[0] == token:
            return known[1]
        if known is not None:  # the token changed: the old client's connections go
            known[1].client.close()
        from sketchdiffuse.generation.comfy.backend import ComfyBackend

        backend = ComfyBackend(url, token)
        self._servers[url] = (token, backend)
        return backend

    def prepare(self, ref: ModelRef, on_load: LoadProgress | None = None) -> Family:
        return self.backend_for(ref).prepare(ref, on_load)

    def available_models(self, server: str = "") -> ModelLists:
        """This computer's models, or those of the server at ``server``."""
        return (self.on_server(server) if server else self.local).available_models()

    def generate(
        self,
        request: GenerationRequest,
        on_progress: ProgressCallback | None = None,
        on_preview: PreviewCallback | None = None,
        cancel: CancelToken | None = None,
        on_load: LoadProgress | None = None,
    ) -> GenerationResult | Cancelled:
        return self.backend_for(request.model).generate(request, on_progress, on_preview, cancel, on_load)

    def unload(self) -> None:
        """Free the local model's memory (servers keep theirs as they see fit)."""
        self.local.unload()
