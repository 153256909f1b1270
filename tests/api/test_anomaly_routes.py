"""Anomalies over HTTP: a reading's score comes back with its history (raw and
downsampled), an operator marks an element's anomalies as expected (audited under the
token, its alarm cleared), a viewer lists them and may not mark them, and a mark that
cannot be is refused in the API's one error shape with nothing kept."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import seed_demo_project, seeded_store

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
                      headers=headers[Role.VIEWER]).json()["expected"] == []
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


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The demo project in the SQLite store, and in PostgreSQL on a schema of its own."""
    if request.param == "sqlite":
        yield seeded_store(tmp_path)
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    schema = f"twinsync_test_{uuid.uuid4().hex[:12]}"
    url = f"{postgres_url}?schema={schema}"
    seed_demo_project(url)
    yield url
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(schema)))


def listed(client: TestClient, headers: dict[str, str], *, after: str | None = None,
           **query: object) -> list[dict[str, Any]]:
    """Every span the listing holds for ``query`` (past the cursor ``after``), page after
    page."""
    spans: list[dict[str, Any]] = []
    while True:
        page = client.get("/api/anomalies/expected",
                          params={**query, **({"after": after} if after else {})},
                          headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        spans += body["expected"]
        after = body.get("next")
        if after is None:
            return spans


def test_withdrawn_marks_are_listed_when_asked_with_who_withdrew_them_when_and_why_across_a_restart(
        store: str) -> None:
    headers = {}
    for role in (Role.VIEWER, Role.OPERATOR):
        secret, _ = create_token(store, f"tests {role.value}", role)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(store=store))) as client:
        pour = client.post("/api/anomalies/expected", headers=headers[Role.OPERATOR], json={
            "element_id": "L1-slab", "start": 0, "end": 3600, "reason": "pour of bay 2"})
        heater = client.post("/api/anomalies/expected", headers=headers[Role.OPERATOR], json={
            "sensor_id": "L1-slab-t2", "start": 7200, "end": 9000, "reason": "heater test"})
        assert pour.status_code == heater.status_code == 201
        (pour_id,) = {span["id"] for span in pour.json()["expected"]}
        began = time.time()
        gone = client.request("DELETE", f"/api/anomalies/expected/{pour_id}",
                              json={"reason": "marked the wrong slab"},
                              headers=headers[Role.OPERATOR])
        assert gone.status_code == 200, gone.text
        withdrawn_at = gone.json()["withdrawn_at"]
        assert began - 1 <= withdrawn_at <= time.time()

        standing = listed(client, headers[Role.VIEWER])
        assert standing == heater.json()["expected"]  # the default: standing marks only
        assert standing[0]["withdrawn_at"] is None and standing[0]["marked_at"] > 0
        only = listed(client, headers[Role.VIEWER], withdrawn="only")
        assert [span["sensor_id"] for span in only] == ["L1-slab-t1", "L1-slab-t2",
                                                         "L1-slab-t3"]
        # Each withdrawn span is the mark as it stood, with who took it back, when and why.
        assert only == [{**span, "withdrawn_at": withdrawn_at, "withdrawn_by": "tests operator",
                         "withdrawn_reason": "marked the wrong slab"}
                        for span in pour.json()["expected"]]
        every = listed(client, headers[Role.VIEWER], withdrawn="include")
        assert [(span["sensor_id"], span["reason"]) for span in every] == [
            ("L1-slab-t1", "pour of bay 2"), ("L1-slab-t2", "pour of bay 2"),
            ("L1-slab-t2", "heater test"), ("L1-slab-t3", "pour of bay 2")]
        by_sensor = listed(client, headers[Role.VIEWER], withdrawn="only", sensor_id="L1-slab-t3")
        assert by_sensor == [only[2]]
        assert listed(client, headers[Role.VIEWER], withdrawn="include",
                      element_id="L1-slab") == every
        assert listed(client, headers[Role.VIEWER], withdrawn="include",
                      element_id="L2-slab") == []

    with TestClient(create_app(Settings(store=store))) as client:
        for query in ({}, {"withdrawn": "only"}, {"withdrawn": "include"}):
            assert listed(client, headers[Role.VIEWER], **query) == {
                "": standing, "only": only, "include": every}[str(query.get("withdrawn", ""))]
        again = client.request("DELETE", f"/api/anomalies/expected/{pour_id}",
                               json={"reason": "twice"}, headers=headers[Role.OPERATOR])
        assert again.status_code == 409
        assert listed(client, headers[Role.VIEWER], withdrawn="only") == only


def test_the_listing_is_paged_by_a_cursor_that_a_mark_made_meanwhile_does_not_move(
        twin: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    client, headers = twin
    marks = []
    for k in range(5):
        answer = client.post("/api/anomalies/expected", headers=headers[Role.OPERATOR], json={
            "element_id": "L1-slab", "start": k * 3600, "end": k * 3600 + 60,
            "reason": f"test {k}"})
        marks.append(answer.json()["expected"][0]["id"])
    for mark_id in marks[:2]:
        client.request("DELETE", f"/api/anomalies/expected/{mark_id}", json={"reason": "wrong"},
                       headers=headers[Role.OPERATOR]).raise_for_status()
    whole = client.get("/api/anomalies/expected", params={"withdrawn": "include",
                                                          "limit": 10_000},
                       headers=headers[Role.VIEWER]).json()
    assert whole.keys() == {"expected"} and len(whole["expected"]) == 15  # one page: all
    first = client.get("/api/anomalies/expected", params={"withdrawn": "include", "limit": 4},
                       headers=headers[Role.VIEWER]).json()
    assert first["expected"] == whole["expected"][:4] and first["next"]
    # A mark made between two pages (of a sensor the first page read) takes its own
    # place, after the rows read: nothing read is read again and nothing is skipped.
    client.post("/api/anomalies/expected", headers=headers[Role.OPERATOR], json={
        "sensor_id": "L1-slab-t1", "start": 0, "end": 1, "reason": "late"}).raise_for_status()
    rest = listed(client, headers[Role.VIEWER], withdrawn="include", limit=4,
                  after=first["next"])
    assert [span["reason"] for span in rest].count("late") == 1
    assert [span for span in rest if span["reason"] != "late"] == whole["expected"][4:]
    assert len(listed(client, headers[Role.VIEWER], withdrawn="only", limit=1)) == 6


@pytest.mark.parametrize(("query", "error"), [
    ({"after": "not-a-cursor"}, "bad_cursor"),
    ({"after": "WzEsMiwzXQ"}, "bad_cursor"),  # [1,2,3]: JSON, but no cursor of this listing
    ({"after": "WyJ0IixOYU4sImEiXQ"}, "bad_cursor"),  # ["t",NaN,"a"]: no time to order by
    ({"limit": 0}, None),
    ({"limit": 10_001}, None),
    ({"withdrawn": "yes"}, None),
])
def test_a_listing_asked_for_with_a_bad_cursor_limit_or_withdrawn_is_refused(
        twin: tuple[TestClient, dict[Role, dict[str, str]]], query: dict[str, object],
        error: str | None) -> None:
    client, headers = twin
    answer = client.get("/api/anomalies/expected", params=query, headers=headers[Role.VIEWER])
    assert answer.status_code == 422, answer.text
    if error is not None:
        assert answer.json()["error"] == error
