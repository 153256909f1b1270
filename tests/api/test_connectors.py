"""Connectors can be started and stopped through the API, and report their health; they
reach only allowed hosts, read only the data folder, and tell nothing of what they found
elsewhere."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient

from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import seeded_store, signed_in

SECRET = "mqtt_password = 'hunter2'"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """The data folder, with a file beside it (outside) that must never be read."""
    folder = tmp_path / "data"
    folder.mkdir()
    (tmp_path / "twinsync.toml").write_text(SECRET + "\n")
    return folder


@pytest.fixture
def client(tmp_path: Path, data: Path) -> Iterator[TestClient]:
    """An admin's client of a twin whose connectors may reach the local broker's port and
    read the data folder."""
    settings = Settings(store=seeded_store(tmp_path), connector_hosts=["127.0.0.1:1883"],
                        data_folder=data)
    with signed_in(settings) as test_client:
        yield test_client


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


def test_only_an_admin_may_add_or_stop_a_connector(tmp_path: Path, data: Path) -> None:
    settings = Settings(store=seeded_store(tmp_path), connector_hosts=["127.0.0.1"])
    with signed_in(settings, Role.OPERATOR) as operator:
        spec = {"kind": "mqtt", "name": "gw", "topics": ["a/{sensor_id}"]}
        assert operator.post("/api/connectors", json=spec).status_code == 403
        assert operator.delete("/api/connectors/simulator").status_code == 403
        assert operator.get("/api/connectors").status_code == 403


@pytest.mark.parametrize("port", [1883, 6379, 1, 4222])
def test_a_host_off_the_allow_list_is_refused_alike_whether_anything_answers(
        client: TestClient, port: int) -> None:
    answer = client.post("/api/connectors", json={
        "kind": "mqtt", "name": "probe", "host": "localhost", "port": port,
        "topics": ["a/{sensor_id}"], "connect_timeout": 1.0})
    assert answer.status_code == 403
    assert answer.json() == {"error": "host_not_allowed", "detail": "connectors reach only "
                             "the hosts of connector_hosts in the configuration"}


def test_an_allowed_host_that_does_not_answer_says_only_that(tmp_path: Path) -> None:
    """Port 6379 answers (Redis, not MQTT), port 1 does not: the same words for both."""
    settings = Settings(store=seeded_store(tmp_path), connector_hosts=["127.0.0.1"])
    answers = []
    with signed_in(settings) as client:
        for port in (6379, 1):
            answer = client.post("/api/connectors", json={
                "kind": "mqtt", "name": "probe", "port": port, "topics": ["a/{sensor_id}"],
                "connect_timeout": 2.0})
            answers.append((answer.status_code, answer.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 422 and "could not start" in answers[0][1]["detail"]


@pytest.mark.parametrize("path", ["../twinsync.toml", "/etc/passwd", "missing/../../x.csv",
                                  "link.csv", "/nonexistent.csv"])
def test_a_replay_reads_nothing_outside_the_data_folder(
        client: TestClient, data: Path, path: str) -> None:
    (data / "link.csv").symlink_to(data.parent / "twinsync.toml")
    answer = client.post("/api/connectors", json={"kind": "replay", "name": "r",
                                                  "path": path})
    assert answer.status_code == 403
    assert answer.json() == {"error": "path_not_allowed",
                             "detail": "replay connectors read only files under the data "
                                       "folder"}
    assert "hunter2" not in client.get("/api/dead-letters").text


def test_a_replay_needs_a_data_folder(tmp_path: Path) -> None:
    with signed_in(Settings(store=seeded_store(tmp_path))) as client:
        answer = client.post("/api/connectors", json={"kind": "replay", "path": "a.csv"})
        assert (answer.status_code, answer.json()["error"]) == (403, "path_not_allowed")


def test_a_replayed_file_is_never_quoted_in_errors_or_dead_letters(
        client: TestClient, data: Path) -> None:
    (data / "notes.txt").write_text(SECRET + "\nmore secret lines\n")
    answer = client.post("/api/connectors", json={"kind": "replay", "name": "notes",
                                                  "path": "notes.txt"})
    assert answer.status_code == 422 and "hunter2" not in answer.text
    (data / "rows.csv").write_text("time,sensor,value\n"
                                   "2026-03-01T00:00:00Z,L1-slab-t1,hunter2\n"
                                   "hunter2-time,L1-slab-t1,1.0\n"
                                   "2026-03-01T00:02:00Z,L1-slab-t1,20.5\n")
    answer = client.post("/api/connectors", json={"kind": "replay", "name": "rows",
                                                  "path": "rows.csv"})
    assert answer.status_code == 201, answer.text
    deadline = time.monotonic() + 10
    letters: list[dict[str, object]] = []
    while time.monotonic() < deadline and len(letters) < 2:
        letters = client.get("/api/dead-letters").json()["dead_letters"]
        time.sleep(0.05)
    assert len(letters) == 2
    assert "hunter2" not in client.get("/api/dead-letters").text
    assert "hunter2" not in client.get("/api/connectors").text
