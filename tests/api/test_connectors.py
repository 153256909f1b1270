"""Connectors can be started and stopped through the API, and report their health."""

from __future__ import annotations

import time
import uuid

import paho.mqtt.client as mqtt
from fastapi.testclient import TestClient


def test_an_mqtt_connector_started_through_the_api_feeds_the_twin(
        client: TestClient, mqtt_broker: tuple[str, int]) -> None:
    run = uuid.uuid4().hex[:8]
    answer = client.post("/api/connectors", json={
        "kind": "mqtt", "name": f"gw-{run}", "host": mqtt_broker[0], "port": mqtt_broker[1],
        "topics": [f"api-{run}/{{sensor_id}}/data"], "qos": 1, "persistent": False})
    assert answer.status_code == 201, answer.text
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    publisher.connect(*mqtt_broker)
    publisher.loop_start()
    try:
        publisher.publish(f"api-{run}/L1-room3-temp/data",
                          f'{{"value": 23.25, "time": {time.time()}}}', qos=1).wait_for_publish()
        deadline = time.monotonic() + 10
        value = None
        while time.monotonic() < deadline and value != 23.25:
            value = client.get("/api/sensors/L1-room3-temp").json()["value"]
            time.sleep(0.05)
        assert value == 23.25
    finally:
        publisher.loop_stop()
        publisher.disconnect()
    [health] = [c for c in client.get("/api/connectors").json()["connectors"]
                if c["name"] == f"gw-{run}"]
    assert health["connected"] and health["readings"] >= 1
    assert client.delete(f"/api/connectors/gw-{run}").status_code == 200
    assert all(c["name"] != f"gw-{run}"
               for c in client.get("/api/connectors").json()["connectors"])


def test_a_connector_with_a_misspelt_option_is_refused_clearly(client: TestClient) -> None:
    answer = client.post("/api/connectors", json={"kind": "mqtt", "topcs": ["a/{sensor_id}"]})
    assert answer.status_code == 422
    assert "topcs" in answer.json()["detail"]


def test_stopping_an_unknown_connector_is_not_found(client: TestClient) -> None:
    assert client.delete("/api/connectors/nothing").status_code == 404
