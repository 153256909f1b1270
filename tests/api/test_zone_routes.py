"""A space's thermal zone over HTTP: the demo building's weather station and a room's air
temperature post a day of readings; a viewer reads the room as a zone (its time constant,
its temperature now and six hours ahead with an interval), a wall as not a zone with the
reason, an unknown element as 404 and a horizon of no hours as 422."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import seeded_store

STEP = 900.0
READINGS = 96
ROOM = "L0-room1"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[Role, dict[str, str]]]]:
    url = seeded_store(tmp_path)
    headers = {}
    for role in (Role.VIEWER, Role.ADMIN):
        secret, _ = create_token(url, f"tests {role.value}", role)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(store=url))) as test_client:
        yield test_client, headers


def test_a_viewer_reads_a_room_as_a_zone_and_its_temperature_six_hours_ahead(
        client: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    http, headers = client
    times = time.time() - READINGS * STEP + STEP * np.arange(READINGS)
    hours = np.arange(READINGS) * STEP / 3600
    outdoor = 5 + 4 * np.sin(2 * np.pi * hours / 24)
    # A room of time constant 40 h cooling towards the outdoors from 20 °C.
    room = 20.0 + np.zeros(READINGS)
    for k in range(1, READINGS):
        room[k] = outdoor[k - 1] + (room[k - 1] - outdoor[k - 1]) * np.exp(-0.25 / 40)
    batch = [{"sensor_id": sensor, "value": round(float(v), 3), "time": float(t)}
             for k, t in enumerate(times)
             for sensor, v in (("weather-temp", outdoor[k]), (f"{ROOM}-temp", room[k]))]
    answer = http.post("/api/readings", json=batch, headers=headers[Role.ADMIN])
    assert answer.status_code == 200 and answer.json()["accepted"] == len(batch), answer.text

    answer = http.get(f"/api/elements/{ROOM}/zone", headers=headers[Role.VIEWER])
    assert answer.status_code == 200, answer.text
    zone = answer.json()
    assert zone["enabled"] and zone["modelled"] and zone["reason"] is None
    assert zone["sensors"] == [f"{ROOM}-temp"]
    assert zone["outdoor"]["element_id"] == "site"
    assert zone["outdoor"]["property"] == "ambient_temperature"
    # No heating meter in the demo: only the time constant is learned.
    assert zone["identifiable"] == "time_constant" and zone["resistance"] is None
    assert zone["readings"] == READINGS - 1
    # Too few readings to be watched yet: its divergence watch is still learning.
    assert zone["divergence"]["state"] == "learning" and zone["divergence"]["episodes"] == 0
    assert zone["time_constant_hours"] > 0 and zone["time_constant_sd"] > 0
    forecast = zone["forecast"]
    assert forecast["hours"] == 6.0
    assert forecast["outdoor_temperature"] == pytest.approx(outdoor[-1], abs=1e-3)
    assert forecast["low"] < forecast["temperature"] < forecast["high"]
    # Cooling towards a colder outdoors: lower in six hours than now.
    assert forecast["temperature"] < zone["temperature"]

    longer = http.get(f"/api/elements/{ROOM}/zone?hours=24", headers=headers[Role.VIEWER])
    assert longer.status_code == 200
    ahead = longer.json()["forecast"]
    assert ahead["high"] - ahead["low"] > forecast["high"] - forecast["low"]


def test_a_wall_is_no_zone_an_unknown_element_is_404_and_no_hours_is_422(
        client: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    http, headers = client
    wall = http.get("/api/elements/L0-wall-north/zone", headers=headers[Role.VIEWER])
    assert wall.status_code == 200
    assert wall.json()["modelled"] is False and "not a space" in wall.json()["reason"]
    missing = http.get("/api/elements/no-such/zone", headers=headers[Role.VIEWER])
    assert missing.status_code == 404
    bad = http.get(f"/api/elements/{ROOM}/zone?hours=0", headers=headers[Role.VIEWER])
    assert bad.status_code == 422
    assert http.get(f"/api/elements/{ROOM}/zone").status_code == 401
