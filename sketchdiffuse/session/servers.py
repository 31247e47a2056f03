"""Where pictures are made: this computer, or one of the ComfyUI servers the artist saved.

Each saved server remembers its address, its access token and the checkpoint chosen on it, so switching
back and forth keeps each one's model; the panel's own model is the local engine's. Stored as JSON under
"servers/" through the settings storage (session/settings.Storage). The token is kept with the other
settings in plain text, as the server's own configuration keeps it; a shared computer should use a
token of its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from sketchdiffuse.generation.comfy.client import server_label
from sketchdiffuse.generation.errors import InvalidRequestError
from sketchdiffuse.generation.model_ref import ModelRef
from sketchdiffuse.session.settings import Storage

LOCAL = ""  # the active "server" when pictures are made on this computer


@dataclass(frozen=True)
class Server:
    url: str
    token: str = ""
    model: str = ""  # the checkpoint's name in the server's list (models/checkpoints)

    @property
    def label(self) -> str:
        return server_label(self.url)

    def model_ref(self) -> ModelRef:
        if not self.model:
            raise InvalidRequestError(
                f"Choose a checkpoint on {self.label} first (the Model button lists the server's checkpoints)."
            )
        return ModelRef.on_server(self.model, self.url)


def normalised_url(text: str) -> str:
    """An address as typed ("host:8188", "http://host:8188/") as the client wants it; "" when empty."""
    url = text.strip().rstrip("/")
    if url and "://" not in url:
        url = "http://" + url
    return url


@dataclass(frozen=True)
class ServerList:
    servers: tuple[Server, ...] = ()
    active: str = LOCAL  # the active server's url, or LOCAL

    @property
    def current(self) -> Server | None:
        """The server pictures are made on now; None for this computer (also when the active one was removed)."""
        return next((s for s in self.servers if s.url == self.active), None) if self.active else None

    def where(self) -> str:
        server = self.current
        return server.label if server is not None else "this computer"

    def find(self, url: str) -> Server | None:
        return next((s for s in self.servers if s.url == normalised_url(url)), None)

    def saved(self, server: Server) -> ServerList:
        """With ``server`` added, or replacing the saved one at the same address (kept in its place)."""
        server = replace(server, url=normalised_url(server.url))
        if not server.url:
            return self
        if self.find(server.url) is None:
            return replace(self, servers=(*self.servers, server))
        return replace(self, servers=tuple(server if s.url == server.url else s for s in self.servers))

    def removed(self, url: str) -> ServerList:
        url = normalised_url(url)
        return ServerList(tuple(s for s in self.servers if s.url != url), LOCAL if self.active == url else self.active)

    def switched(self, url: str) -> ServerList:
        """Make pictures on the saved server at ``url``; LOCAL (or an address not saved) is this computer."""
        url = normalised_url(url)
        return replace(self, active=url if self.find(url) is not None else LOCAL)

    def tokens(self) -> dict[str, str]:
        """Each saved server's access token, by address (what the worker sends with each job)."""
        return {s.url: s.token for s in self.servers}

    def with_model(self, model: str) -> ServerList:
        """The current server's checkpoint changed; nothing to do on this computer."""
        server = self.current
        return self.saved(replace(server, model=model)) if server is not None else self


def read_servers(storage: Storage) -> ServerList:
    """Forgiving, like the other settings: a damaged list reads as none saved, a missing active one as local."""
    try:
        raw = json.loads(str(storage.get("servers/list") or "[]"))
    except ValueError:
        raw = []
    servers = ServerList()
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            servers = servers.saved(Server(item["url"], str(item.get("token") or ""), str(item.get("model") or "")))
    return servers.switched(str(storage.get("servers/active") or LOCAL))


def write_servers(storage: Storage, servers: ServerList) -> None:
    storage.set("servers/list", json.dumps([asdict(s) for s in servers.servers]))
    storage.set("servers/active", servers.active)
