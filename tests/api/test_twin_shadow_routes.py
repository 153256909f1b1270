"""The shadow twin over HTTP: an operator starts a shadow with a stricter threshold, a
viewer reads the comparison fleet-wide and in the element's twin, an operator promotes it
and the live parameters are the shadow's; nonsense parameters are 422 naming the
parameter, a promotion or stop with no shadow 409, a second start 409, and only
operators and admins change anything."""

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
ELEMENT = "L1-slab"
STEP = 900.0
Twin = tuple[TestClient, dict[Role, dict[str, str]]]


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[Twin]:
    url = seeded_store(tmp_path)
    headers = {}
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.DEVICE):
        sensors = (SENSOR,) if role is Role.DEVICE else ()
        secret, _ = create_token(url, f"tests {role.value}", role, sensors=sensors)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(store=url))) as client:
        yield client, headers


def post_readings(client: TestClient, headers: dict[str, str], first: int, count: int,
                  origin: float) -> None:
    rng = np.random.default_rng(first)
    batch = [{"sensor_id": SENSOR, "value": round(20 + float(rng.normal(0, 0.05)), 3),
              "time": origin + (first + k) * STEP} for k in range(count)]
    answer = client.post("/api/readings", json=batch, headers=headers)
    assert answer.status_code == 200 and answer.json()["accepted"] == count, answer.text


def test_an_operator_starts_a_shadow_a_viewer_reads_the_comparison_and_promotion_makes_it_live(
        twin: Twin) -> None:
    client, headers = twin
    origin = time.time() - 200 * STEP
    post_readings(client, headers[Role.DEVICE], 0, 100, origin)
    answer = client.post("/api/twin/shadow", json={"parameters": {"threshold": 12.0}},
                         headers=headers[Role.OPERATOR])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["shadow"]["changed"] == {"threshold": 12.0}
    assert body["shadow"]["start_from"] == "live" and body["live"]["parameters"]["threshold"] == 9
    post_readings(client, headers[Role.DEVICE], 100, 60, origin)

    report = client.get("/api/twin/shadow?limit=1", headers=headers[Role.VIEWER])
    assert report.status_code == 200, report.text
    fleet = report.json()["comparison"]
    assert fleet["readings"] > 30 and fleet["sensors_compared"] == 1
    assert [s["sensor_id"] for s in fleet["best"]] == [SENSOR] == [
        s["sensor_id"] for s in fleet["worst"]]
    assert fleet["best"][0]["live"]["rms"] > 0 and fleet["best"][0]["unit"]

    element = client.get(f"/api/elements/{ELEMENT}/twin", headers=headers[Role.VIEWER])
    assert element.status_code == 200, element.text
    models = {m["sensor_id"]: m for m in element.json()["sensors"]}
    shadow = models[SENSOR]["shadow"]
    assert shadow["state"] == "in_control" and shadow["level"] == pytest.approx(20, abs=0.1)
    assert shadow["comparison"]["readings"] == fleet["readings"]
    assert shadow["comparison"]["shadow"]["rms"] == pytest.approx(
        fleet["best"][0]["shadow"]["rms"])

    promoted = client.post("/api/twin/shadow/promote", headers=headers[Role.OPERATOR])
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["comparison"]["readings"] == fleet["readings"]
    assert promoted.json()["previous_parameters"]["threshold"] == 9
    after = client.get("/api/twin/shadow", headers=headers[Role.VIEWER]).json()
    assert after["shadow"] is None and after["comparison"] is None
    assert after["live"]["parameters"]["threshold"] == 12
    element = client.get(f"/api/elements/{ELEMENT}/twin", headers=headers[Role.VIEWER]).json()
    assert all(m["shadow"] is None for m in element["sensors"])
    kinds = [e["kind"] for e in client.get("/api/events?limit=1000",
                                           headers=headers[Role.VIEWER]).json()["events"]]
    assert kinds.count("twin_shadow_started") == kinds.count("twin_shadow_promoted") == 1


@pytest.mark.parametrize(("body", "named"), [
    ({"parameters": {"rate": 2}}, "rate"),
    ({"parameters": {"warmup": 5}}, "warmup"),
    ({"parameters": {"reference": 4, "threshold": 3}}, "threshold"),
    ({"parameters": {"warmup": True}}, "warmup"),
    ({"parameters": {"threshold": "12"}}, "threshold"),
    ({"parameters": {"alpha": 1}}, "alpha"),
    ({"start_from": "yesterday"}, "start_from"),
])
def test_nonsense_parameters_are_422_naming_them_and_start_nothing(
        twin: Twin, body: dict[str, object], named: str) -> None:
    client, headers = twin
    answer = client.post("/api/twin/shadow", json=body, headers=headers[Role.OPERATOR])
    assert answer.status_code == 422, answer.text
    assert named in answer.json()["detail"]
    assert client.get("/api/twin/shadow", headers=headers[Role.VIEWER]).json()["shadow"] is None


def test_without_a_shadow_promotion_and_stop_are_409_and_a_second_start_is_409(
        twin: Twin) -> None:
    client, headers = twin
    for method, path in (("POST", "/api/twin/shadow/promote"), ("DELETE", "/api/twin/shadow")):
        answer = client.request(method, path, headers=headers[Role.ADMIN])
        assert answer.status_code == 409 and answer.json()["error"] == "conflict", answer.text
    assert client.post("/api/twin/shadow", json={}, headers=headers[Role.ADMIN]
                       ).status_code == 201
    second = client.post("/api/twin/shadow", json={}, headers=headers[Role.ADMIN])
    assert second.status_code == 409
    stopped = client.delete("/api/twin/shadow", headers=headers[Role.ADMIN])
    assert stopped.status_code == 200 and stopped.json()["comparison"]["readings"] == 0
    assert client.get("/api/twin/shadow?limit=5000", headers=headers[Role.VIEWER]
                      ).status_code == 422


def test_only_operators_and_admins_change_the_shadow_and_a_viewer_reads_it(twin: Twin) -> None:
    client, headers = twin
    for role in (Role.VIEWER, Role.DEVICE):
        for method, path in (("POST", "/api/twin/shadow"), ("POST", "/api/twin/shadow/promote"),
                             ("DELETE", "/api/twin/shadow")):
            answer = client.request(method, path, json={}, headers=headers[role])
            assert answer.status_code == 403, (role, method, path)
    assert client.get("/api/twin/shadow", headers=headers[Role.DEVICE]).status_code == 403
    assert client.get("/api/twin/shadow").status_code == 401
    assert client.get("/api/twin/shadow", headers=headers[Role.VIEWER]).status_code == 200
    assert client.get("/api/twin/shadow", headers=headers[Role.VIEWER]).json()["shadow"] is None
