"""Connectors are built from configuration tables, and bad tables fail with the key named."""

from __future__ import annotations

import pytest

from twinsync.errors import ConnectorError, InvalidInput
from twinsync.ingest.connector import Connector
from twinsync.ingest.mqtt import MqttConnector
from twinsync.ingest.opcua import OpcuaConnector
from twinsync.ingest.registry import build_connector, kinds
from twinsync.ingest.replay import ReplayConnector


def test_each_kind_builds_its_connector() -> None:
    mqtt = build_connector({"kind": "mqtt", "name": "site", "topics": "site/{sensor_id}",
                            "protocol": "3.1.1", "qos": 0})
    assert isinstance(mqtt, MqttConnector) and mqtt.settings.protocol == 4
    assert mqtt.settings.client_id == "twinsync-site"
    opcua = build_connector({"kind": "opcua", "url": "opc.tcp://h:4840",
                             "nodes": [{"node": "ns=2;i=2", "sensor_id": "t"}]})
    replay = build_connector({"kind": "replay", "path": "x.csv", "speed": "10"})
    assert isinstance(opcua, OpcuaConnector) and isinstance(replay, ReplayConnector)
    for connector in (mqtt, opcua, replay):
        assert isinstance(connector, Connector)
    assert {"mqtt", "opcua", "replay"} <= set(kinds())


@pytest.mark.parametrize(("spec", "message"), [
    ({"kind": "carrier-pigeon"}, "unknown connector kind"),
    ({"name": "x"}, "unknown connector kind"),
    ({"kind": "mqtt", "qos": 2}, "qos must be 0 or 1"),
    ({"kind": "mqtt", "topics": ["a/{x}y"]}, "whole level"),
    ({"kind": "mqtt", "protocol": 3}, "protocol"),
    ({"kind": "opcua", "url": "opc.tcp://h"}, "no nodes"),
    ({"kind": "opcua", "nodes": [{"node": "ns=2;i=2"}]}, "sensor_id"),
    ({"kind": "replay"}, "path"),
    ({"kind": "replay", "path": "x", "layout": "diagonal"}, "layout"),
])
def test_a_bad_spec_fails_with_a_clear_error(spec: dict[str, object], message: str) -> None:
    with pytest.raises((ConnectorError, InvalidInput), match=message):
        build_connector(spec)
