"""What a connector added through the API may reach: hosts on the allow-list, files in the
data folder, and nothing it says back tells what it found there.

Why: a connector makes the server connect or read on the caller's behalf. Unconfined, an
``mqtt`` connector to any host:port is a port scanner into the site's network (its error
tells which ports answer) and a ``replay`` connector reads any file of the server (its
errors and dead letters quote it). So: the host must be on ``connector_hosts`` and the
file under ``data_folder``, both checked before anything is opened and refused with the
same words whatever is there; a source that does not answer is reported with one
sentence, the details going to the server's log only; a replay started here keeps no
file content in its errors or dead letters. Connectors of the configuration file are
the machine owner's and are trusted as written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..config import Settings
from ..errors import ConnectorError, Forbidden
from ..ingest.connector import Connector
from ..service import TwinService

log = logging.getLogger(__name__)


def host_allowed(host: str, port: int | None, allowed: list[str]) -> bool:
    """``host`` (any port) or ``host:port`` on the list; names compared without case.

    >>> allowed = ["broker.site:1883", "10.0.0.7", "[fd00::5]:4840", "::1"]
    >>> [host_allowed(h, p, allowed) for h, p in [("Broker.Site", 1883), ("broker.site", 22),
    ...     ("10.0.0.7", 5), ("fd00::5", 4840), ("fd00::5", 22), ("::1", 1883), ("evil", 1883)]]
    [True, False, True, True, False, True, False]
    """
    host = host.strip().lower().strip("[]")
    for entry in allowed:
        text = entry.strip().lower()
        name, _, entry_port = text.rpartition(":")
        bare_ipv6 = text.count(":") > 1 and not text.startswith("[")
        if bare_ipv6 or not name or not entry_port.isdigit():  # no port: the whole host
            name, entry_port = text, ""
        if name.strip("[]") == host and (not entry_port or int(entry_port) == port):
            return True
    return False


def inside(path: str, folder: Path | None) -> Path:
    """The file ``path`` names in ``folder`` (relative to it, or absolute within it)."""
    if folder is None:
        raise Forbidden("replay connectors need a data_folder in the configuration",
                        "path_not_allowed")
    root = folder.resolve()
    resolved = (root / path).resolve()  # links followed: a link out of the folder is out
    if not resolved.is_relative_to(root):
        raise Forbidden("replay connectors read only files under the data folder",
                        "path_not_allowed")
    return resolved


def _kind(connector: Connector) -> str:
    return str(getattr(connector, "kind", ""))


def _target(connector: Connector) -> tuple[str, int | None]:
    settings: Any = getattr(connector, "settings", None)
    if _kind(connector) == "mqtt":
        return str(settings.host), int(settings.port)
    url = urlsplit(str(settings.url))
    return url.hostname or "", url.port


async def confine(spec: dict[str, Any], settings: Settings, svc: TwinService) -> Connector:
    """Build the connector ``spec`` describes if its rules allow it, and start it."""
    # Imported here: the registry pulls in every connector's client library (OPC UA's is
    # slow to import), which a twin without connectors never needs.
    from ..ingest.registry import build_connector

    if isinstance(spec, dict) and spec.get("kind") == "replay" and "path" in spec:
        spec = {**spec, "path": str(inside(str(spec["path"]), settings.data_folder)),
                "keep_rows": False}
    connector = build_connector(spec)
    kind = _kind(connector)
    if kind in ("mqtt", "opcua"):
        host, port = _target(connector)
        if not host_allowed(host, port, settings.connector_hosts):
            raise Forbidden("connectors reach only the hosts of connector_hosts in the "
                            "configuration", "host_not_allowed")
    elif kind != "replay":
        raise Forbidden(f"{kind} connectors cannot be added through the API",
                        "kind_not_allowed")
    try:
        await svc.start_connector(connector)
    except ConnectorError as exc:
        log.warning("connector %r did not start: %s", connector.name, exc)
        raise ConnectorError(f"connector {connector.name!r} could not start: its source did "
                             "not answer as expected (the server's log says more)") from None
    return connector
