"""The physics twin over HTTP: a slab's logger posts a day of readings and then a level
shift; a viewer reads the element's models and finds the logger's diverging since the
shift, recalibrated, with its level at the new one; an unknown element is 404 and a
request without a token 401."""

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

SENSOR = "L1-slab-t1"
STEP = 900.0
READINGS = 200
SHIFT_AT = 190


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[tuple[TestClient, dict[Role, dict[str, str]]]]:
    url = seeded_store(tmp_path)
    headers = {}
    for role in (Role.VIEWER, Role.ADMIN):
        secret, _ = create_token(url, f"tests {role.value}", role)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(store=url))) as client:
        yield client, headers


def test_a_viewer_reads_a_slab_s_models_and_finds_its_logger_diverging_since_the_shift(
        twin: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    client, headers = twin
    now = time.time()
    times = now - READINGS * STEP + STEP * np.arange(READINGS)
    noise = np.random.default_rng(2).normal(0.0, 0.05, READINGS)
    values = 20 + noise
    values[SHIFT_AT:] += 2.0
    batch = [{"sensor_id": SENSOR, "value": round(float(v), 3), "time": float(t)}
             for t, v in zip(times, values, strict=True)]
    answer = client.post("/api/readings", json=batch, headers=headers[Role.ADMIN])
    assert answer.status_code == 200 and answer.json()["accepted"] == READINGS, answer.text

    answer = client.get("/api/elements/L1-slab/twin", headers=headers[Role.VIEWER])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["enabled"] is True and body["bytes_a_sensor"] > 0
    models = {m["sensor_id"]: m for m in body["sensors"]}
    model = models[SENSOR]
    assert model["property"] and model["unit"]
    assert model["state"] == "diverging"
    assert model["diverging_since"] == pytest.approx(times[SHIFT_AT], abs=1.0)
    assert model["level"] == pytest.approx(22.0, abs=0.1)
    assert model["level_sd"] > 0 and model["noise"] > 0
    assert abs(model["last_normalised"]) < 4
    recalibration = model["recalibration"]
    assert recalibration["count"] == 1 and recalibration["time"] >= times[SHIFT_AT]
    assert recalibration["before"]["noise"] > 0 and recalibration["after"]["noise"] > 0
    # The other loggers of the slab have sent nothing: their models are still learning.
    assert {m["state"] for s, m in models.items() if s != SENSOR} <= {"learning"}
    alarms = client.get("/api/alarms", headers=headers[Role.VIEWER]).json()["alarms"]
    assert [a["key"] for a in alarms if a["key"].startswith("twin:")] == [f"twin:{SENSOR}"]


def test_an_unknown_element_is_404_and_no_token_is_401(
        twin: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    client, headers = twin
    missing = client.get("/api/elements/no-such/twin", headers=headers[Role.VIEWER])
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert client.get("/api/elements/L1-slab/twin").status_code == 401
