"""A crashed server comes back with the twin's state and history as they were committed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server import Server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    # The demo command seeds the IFC demo project and runs the simulator.
    running = Server("demo", "--store", store, "--speed", "600", cwd=tmp_path)
    running.start()
    yield running
    running.stop()


def test_state_and_history_survive_a_crash_of_the_server_process(server: Server) -> None:
    client = server.client(timeout=10.0)
    sensor = client.get("/api/sensors").json()["sensors"][0]
    element_id = sensor["binding"]["element_id"]
    now = time.time()
    pushed = [{"sensor_id": sensor["id"], "value": 1000.0 + i, "time": now - 60 + i}
              for i in range(30)]
    assert client.post("/api/readings", json=pushed).json()["accepted"] == 30
    client.patch(f"/api/elements/{element_id}",
                 json={"status": "issue", "properties": {"note": "honeycombing"}})
    before = client.get(f"/api/elements/{element_id}").json()
    history_before = client.get(f"/api/sensors/{sensor['id']}/readings",
                                params={"start": now - 120, "end": now + 3600}).json()
    count_before = client.get(f"/api/sensors/{sensor['id']}").json()["count"]

    server.kill()
    server.start()

    after = client.get(f"/api/elements/{element_id}").json()
    assert after["status"] == "issue"
    assert after["properties"]["note"]["value"] == "honeycombing"
    assert after["global_id"] == before["global_id"]
    history_after = client.get(f"/api/sensors/{sensor['id']}/readings",
                               params={"start": now - 120, "end": now + 3600}).json()
    # Everything acknowledged before the crash is there; the simulator may have added more.
    assert set(zip(history_before["time"], history_before["value"], strict=True)) <= set(
        zip(history_after["time"], history_after["value"], strict=True))
    pushed_back = [v for v in history_after["value"] if v >= 1000.0]
    assert pushed_back == [1000.0 + i for i in range(30)]
    assert client.get(f"/api/sensors/{sensor['id']}").json()["count"] >= count_before
    # The demo is seeded once: a restart does not import the model again.
    imports = client.get("/api/events", params={"limit": 10000}).json()["events"]
    assert sum(1 for e in imports if e["kind"] == "model_imported") == 1
