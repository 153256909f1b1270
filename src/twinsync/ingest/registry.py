"""Connectors built from configuration: one ``[[connectors]]`` table → one Connector.

``spec["kind"]`` picks the factory; the other keys are the connector's settings, checked
here so that a typo in the configuration file fails at start with the key named, not
later with a silent default. Other packages register their kinds with ``register``.

>>> build_connector({"kind": "replay", "name": "old", "path": "x.csv"}).name
'old'
>>> try:
...     build_connector({"kind": "mqtt", "topcs": ["a/{sensor_id}"]})
... except ConnectorError as exc:
...     print(str(exc).split(";")[0])
mqtt connector 'mqtt': unknown option(s) ['topcs']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..errors import ConnectorError
from .connector import Connector

Factory = Callable[[dict[str, Any]], Connector]
_FACTORIES: dict[str, Factory] = {}


def register(kind: str, factory: Factory) -> None:
    """Make ``kind`` buildable; a later registration of the same kind replaces it."""
    _FACTORIES[kind] = factory


def kinds() -> list[str]:
    return sorted(_FACTORIES)


def settings_from(cls: type[Any], spec: dict[str, Any], kind: str) -> Any:
    """A settings dataclass from a spec, naming unknown and missing keys."""
    options = {k: v for k, v in spec.items() if k != "kind"}
    name = options.get("name", kind)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConnectorError(f"{kind} connector {name!r}: unknown option(s) {unknown}; "
                             f"known: {sorted(known)}")
    try:
        return cls(**options)
    except TypeError as exc:  # a required option is missing
        raise ConnectorError(f"{kind} connector {name!r}: {exc}") from exc


def build_connector(spec: dict[str, Any]) -> Connector:
    """The connector a configuration table describes; ConnectorError if it cannot be."""
    if not isinstance(spec, dict):
        raise ConnectorError(f"a connector is a table of options, not {type(spec).__name__}")
    kind = spec.get("kind")
    factory = _FACTORIES.get(kind) if isinstance(kind, str) else None
    if factory is None:
        raise ConnectorError(f"unknown connector kind {kind!r}; known kinds: {kinds()}")
    return factory(spec)


def _mqtt(spec: dict[str, Any]) -> Connector:
    from .mqtt import MqttConnector, MqttSettings

    spec = dict(spec)
    if isinstance(spec.get("topics"), str):
        spec["topics"] = [spec["topics"]]
    if "protocol" in spec:  # "3.1.1", "5", 4, 5
        spec["protocol"] = {"3.1.1": 4, "311": 4, "4": 4, "5": 5, "5.0": 5}.get(
            str(spec["protocol"]), spec["protocol"])
    return MqttConnector(settings_from(MqttSettings, spec, "mqtt"))


def _opcua(spec: dict[str, Any]) -> Connector:
    from .opcua import OpcuaConnector, OpcuaSettings

    return OpcuaConnector(settings_from(OpcuaSettings, spec, "opcua"))


def _replay(spec: dict[str, Any]) -> Connector:
    from .replay import ReplayConnector, ReplaySettings

    spec = dict(spec)
    if "speed" in spec:
        spec["speed"] = float(spec["speed"])
    return ReplayConnector(settings_from(ReplaySettings, spec, "replay"))


register("mqtt", _mqtt)
register("opcua", _opcua)
register("replay", _replay)
