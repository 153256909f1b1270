"""Anomalies over HTTP: a reading's score comes back with its history (raw and
downsampled), an operator marks an element's anomalies as expected (audited under the
token, its alarm cleared), a viewer lists them and may not mark them, and a mark that
cannot be is refused in the API's one error shape with nothing kept."""

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
READINGS = 600


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[tuple[TestClient, dict[Role, dict[str, str]]]]:
    url = seeded_store(tmp_path)
    headers = {}
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
        secret, _ = create_token(url, f"tests {role.value}", role)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(store=url))) as client:
        yield client, headers


def test_a_jump_is_scored_stored_charted_alarmed_and_then_marked_expected_by_an_operator(
        twin: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    client, headers = twin
    now = time.time()
    start = now - READINGS * STEP
    times = start + STEP * np.arange(READINGS)
    values = 20 + 3 * np.sin(2 * np.pi * times / 86_400)
    values[-1] += 10.0  # the last reading jumps
    batch = [{"sensor_id": SENSOR, "value": round(float(v), 3), "time": float(t)}
             for t, v in zip(times, values, strict=True)]
    answer = client.post("/api/readings", json=batch, headers=headers[Role.ADMIN])
    assert answer.status_code == 200 and answer.json()["accepted"] == READINGS, answer.text

    raw = client.get(f"/api/sensors/{SENSOR}/readings", params={"start": start - 1},
                     headers=headers[Role.VIEWER]).json()
    assert len(raw["anomaly"]) == len(raw["value"]) == READINGS
    assert raw["anomaly"][-1] >= 0.6 and max(raw["anomaly"][:-1]) < 0.33
    buckets = client.get(f"/api/sensors/{SENSOR}/readings",
                         params={"start": start - 1, "every": 86_400},
                         headers=headers[Role.VIEWER]).json()
    assert max(buckets["anomaly"]) == raw["anomaly"][-1]  # the highest of its bucket
    alarms = client.get("/api/alarms", headers=headers[Role.VIEWER]).json()["alarms"]
    assert [a["key"] for a in alarms if a["key"].startswith("anomaly:")] == [f"anomaly:{SENSOR}"]

    mark = {"element_id": "L1-slab", "start": times[-2], "end": now + 3600,
            "reason": "pour of bay 2"}
    refused = client.post("/api/anomalies/expected", json=mark, headers=headers[Role.VIEWER])
    assert refused.status_code == 403
    answer = client.post("/api/anomalies/expected", json=mark, headers=headers[Role.OPERATOR])
    assert answer.status_code == 201, answer.text
    marked = answer.json()
    assert SENSOR in [span["sensor_id"] for span in marked["expected"]]
    assert {span["by"] for span in marked["expected"]} == {"tests operator"}
    assert marked["cleared"] == [f"anomaly:{SENSOR}"]
    alarms = client.get("/api/alarms", headers=headers[Role.VIEWER]).json()["alarms"]
    assert not [a for a in alarms if a["key"].startswith("anomaly:")]
    listed = client.get("/api/anomalies/expected", params={"sensor_id": SENSOR},
                        headers=headers[Role.VIEWER]).json()
    assert listed["expected"] == [span for span in marked["expected"]
                                  if span["sensor_id"] == SENSOR]
    entries = client.get("/api/audit?limit=1000", headers=headers[Role.ADMIN]).json()["entries"]
    (entry,) = [e for e in entries if e["operation"] == "mark_anomaly_expected"]
    assert entry["by"]["name"] == "tests operator" and entry["element_id"] == "L1-slab"


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"sensor_id": "nope", "start": 0, "end": 1, "reason": "x"}, 404, "not_found"),
    ({"sensor_id": SENSOR, "start": 5, "end": 1, "reason": "x"}, 422, "bad_span"),
    ({"sensor_id": SENSOR, "start": 0, "end": 1, "reason": " "}, 422, "no_reason"),
    ({"sensor_id": SENSOR, "element_id": "L1-slab", "start": 0, "end": 1, "reason": "x"},
     422, "bad_request"),
    ({"sensor_id": SENSOR, "start": "someday", "end": 1, "reason": "x"}, 422, None),
])
def test_a_mark_that_cannot_be_is_refused_and_keeps_nothing(
        twin: tuple[TestClient, dict[Role, dict[str, str]]], body: dict[str, object],
        status: int, error: str | None) -> None:
    client, headers = twin
    answer = client.post("/api/anomalies/expected", json=body, headers=headers[Role.OPERATOR])
    assert answer.status_code == status, answer.text
    if error is not None:
        assert answer.json()["error"] == error
    listed = client.get("/api/anomalies/expected", headers=headers[Role.VIEWER]).json()
    assert listed == {"expected": []}


def test_an_operator_withdraws_a_mark_made_in_error_and_a_viewer_may_not(
        twin: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    client, headers = twin
    mark = {"element_id": "L1-slab", "start": 0, "end": 3600, "reason": "pour of bay 2"}
    marked = client.post("/api/anomalies/expected", json=mark,
                         headers=headers[Role.OPERATOR]).json()
    (mark_id,) = {span["id"] for span in marked["expected"]}
    sensors = sorted(span["sensor_id"] for span in marked["expected"])
    path = f"/api/anomalies/expected/{mark_id}"
    why = {"reason": "marked the wrong slab"}

    refused = client.request("DELETE", path, json=why, headers=headers[Role.VIEWER])
    assert refused.status_code == 403
    no_reason = client.request("DELETE", path, json={"reason": " "},
                               headers=headers[Role.OPERATOR])
    assert no_reason.status_code == 422 and no_reason.json()["error"] == "no_reason"
    unknown = client.request("DELETE", "/api/anomalies/expected/nope", json=why,
                             headers=headers[Role.OPERATOR])
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    listed = client.get("/api/anomalies/expected", headers=headers[Role.VIEWER]).json()
    assert len(listed["expected"]) == len(sensors)  # the refused ones took nothing back

    answer = client.request("DELETE", path, json=why, headers=headers[Role.OPERATOR])
    assert answer.status_code == 200, answer.text
    withdrawn = answer.json()
    assert withdrawn["id"] == mark_id and sorted(withdrawn["sensors"]) == sensors
    assert withdrawn["withdrawn_by"] == "tests operator"
    assert withdrawn["reason"] == "marked the wrong slab"
    assert client.get("/api/anomalies/expected",
                      headers=headers[Role.VIEWER]).json() == {"expected": []}
    again = client.request("DELETE", path, json=why, headers=headers[Role.ADMIN])
    assert again.status_code == 409 and again.json()["error"] == "conflict"

    entries = client.get("/api/audit?limit=1000", headers=headers[Role.ADMIN]).json()["entries"]
    (entry,) = [e for e in entries if e["operation"] == "withdraw_anomaly_expected"]
    assert entry["by"]["name"] == "tests operator" and entry["target"] == f"expected:{mark_id}"
    events = client.get("/api/events", params={"element_id": "L1-slab", "limit": 10_000},
                        headers=headers[Role.VIEWER]).json()["events"]
    gone = [e for e in events if e["kind"] == "anomaly_expected_withdrawn"]
    assert sorted(e["data"]["sensor"] for e in gone) == sensors
    assert {(e["data"]["by"], e["data"]["reason"]) for e in gone} == {
        ("tests operator", "marked the wrong slab")}
