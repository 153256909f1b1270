"""A reading's anomaly score reaches live subscribers with its value: over a real WebSocket
of a real server, a planted jump arrives marked with the score stored with it, and the
regular readings before it arrive scored and unmarked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from tests.departures import calm, history
from tests.server import free_port
from tests.web.twin_server import ServerThread
from websockets.sync.client import ClientConnection, connect

from .conftest import seeded_store

SENSOR = "L1-room2-temp"
STEP = 2.0  # the demo's loggers report every 2 s
LEARNED = 430  # readings every 2 s after the days of history that warm the detector up
CALM, JUMP = 8, 8
#: The score from which a reading is an anomaly event (``AnomalyMonitor.event_at``).
EVENT_AT = 0.33


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    running = ServerThread(seeded_store(tmp_path_factory.mktemp("live-anomaly")), free_port())
    running.start()
    yield running
    running.stop()


def reading(k: int, start: float) -> dict[str, Any]:
    """The ``k``-th reading of the sensor's regular course, 6 degrees high from the jump."""
    jump = 6.0 if k >= LEARNED + CALM else 0.0
    return {"sensor_id": SENSOR, "time": start + k * STEP,
            "value": round(calm(start + k * STEP, STEP) + jump, 3)}


def moved_of(socket: ClientConnection, sensor_time: float) -> dict[str, Any]:
    """The entry of the delta that carries ``SENSOR``'s reading taken at ``sensor_time``."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        message = orjson.loads(socket.recv(timeout=15))
        moved: dict[str, list[Any]] = message.get("properties") or {}
        for k, sensor in enumerate(moved.get("sensor_id", ())):
            if sensor == SENSOR and moved["sensor_time"][k] == sensor_time:
                return {name: column[k] for name, column in moved.items()}
    raise AssertionError(f"no delta carried the reading of {sensor_time}")


def test_a_planted_jump_reaches_a_subscriber_with_the_score_stored_with_it(
        server: ServerThread) -> None:
    total = LEARNED + CALM + JUMP
    start = time.time() - total * STEP
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=15) as api:
        learned = history([SENSOR], start) + [reading(k, start) for k in range(LEARNED)]
        assert api.post("/api/readings", json=learned).json()["accepted"] == len(learned)
        with connect(f"ws://127.0.0.1:{server.port}/ws", additional_headers=server.headers,
                     open_timeout=10) as socket:
            socket.send('{"type": "subscribe", "elements": "*", "id": 1}')
            while orjson.loads(socket.recv(timeout=15))["type"] != "snapshot":
                pass
            live = []
            # One reading a request, each waited for: each is the live value of its delta.
            for k in range(LEARNED, total):
                sent = reading(k, start)
                assert api.post("/api/readings", json=[sent]).json()["accepted"] == 1
                live.append(moved_of(socket, sent["time"]))
        stored = api.get(f"/api/sensors/{SENSOR}/readings",
                         params={"start": start, "end": start + total * STEP}).json()
    score_at = dict(zip(stored["time"], stored["anomaly"], strict=True))
    calm, jump = live[:CALM], live[CALM:]
    # Scored and unmarked before the jump; the jump's first reading marked at once.
    assert all(entry["sensor_anomaly"] is not None for entry in live)
    assert max(entry["sensor_anomaly"] for entry in calm) < EVENT_AT
    assert jump[0]["sensor_anomaly"] >= EVENT_AT
    assert jump[0]["sensor_value"] == pytest.approx(reading(LEARNED + CALM, start)["value"])
    # What the live feed said is what the history route says of the same readings.
    for entry in live:
        assert entry["sensor_anomaly"] == pytest.approx(score_at[entry["sensor_time"]],
                                                        abs=1e-7)
