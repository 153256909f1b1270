"""POST /api/readings decodes with the one decoder: poison readings become dead letters,
the good readings of the same batch are stored, and nothing answers 500."""

from __future__ import annotations

import time

import orjson
from fastapi.testclient import TestClient

SENSOR = "L1-slab-t1"


def post(client: TestClient, body: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/api/readings", content=body,
                       headers={"content-type": "application/json", **headers})


def stored(client: TestClient, sensor_id: str = SENSOR) -> list[float]:
    values: list[float] = client.get(f"/api/sensors/{sensor_id}/readings").json()["value"]
    return values


def test_a_single_reading_object_is_a_reading_as_it_is_over_mqtt(client: TestClient) -> None:
    response = post(client, orjson.dumps({"id": SENSOR, "v": 1}))
    assert (response.status_code, response.json()["accepted"]) == (200, 1)


def test_a_mixed_batch_stores_the_good_readings_and_a_dead_letter_for_each_poison_one(
        client: TestClient) -> None:
    now = time.time()
    body = b"[" + b",".join([
        orjson.dumps({"sensor_id": SENSOR, "value": 20.0, "time": now - 5, "seq": 1}),
        orjson.dumps({"sensor_id": SENSOR, "value": 1, "unit": 123}),
        orjson.dumps({"sensor_id": SENSOR, "value": 1, "unit": ["degC"]}),
        orjson.dumps({"sensor_id": [SENSOR], "value": 1}),
        orjson.dumps({"sensor_id": SENSOR, "value": 1, "seq": 1.5}),
        orjson.dumps({"sensor_id": SENSOR, "value": 1, "time": {"at": 1}}),
        orjson.dumps({"sensor_id": SENSOR, "value": True}),
        orjson.dumps({"sensor_id": SENSOR, "value": 1e308}),
        b'{"sensor_id": "' + SENSOR.encode() + b'", "value": NaN}',
        orjson.dumps({"sensor_id": "x" * 10_000, "value": 1}),
        orjson.dumps({"sensor_id": SENSOR, "value": 21.0, "time": now - 4, "seq": 2}),
    ]) + b"]"
    response = post(client, body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 2
    assert [(r["index"], r["reason"]) for r in answer["rejected"]] == [
        (1, "bad_unit"), (2, "bad_unit"), (3, "bad_sensor_id"), (4, "bad_seq"),
        (5, "bad_time"), (6, "not_a_number"), (7, "value_out_of_range"), (8, "not_finite"),
        (9, "id_too_long")]
    assert len(response.content) < 4_000  # the 10,000-character id is not echoed
    assert stored(client) == [20.0, 21.0]
    letters = client.get("/api/dead-letters").json()
    assert letters["count"] == 9


def test_a_senml_pack_of_base_fields_only_answers_with_a_dead_letter(
        client: TestClient) -> None:
    answer = post(client, orjson.dumps([{"bn": SENSOR, "bv": 21.5}])).json()
    assert answer["accepted"] == 0
    assert [(r["index"], r["reason"]) for r in answer["rejected"]] == [(0, "senml_no_value")]
    assert client.get("/api/dead-letters").json()["count"] == 1


def test_a_body_that_holds_no_reading_is_refused_with_400_and_kept(client: TestClient) -> None:
    for body in (b'"text"', b"21.5", b'{"readings": 7}'):
        response = post(client, body)
        assert response.status_code == 400
        assert response.json()["rejected"][0]["index"] is None
    assert client.get("/api/dead-letters").json()["count"] == 3


def test_a_batch_that_fails_after_its_commit_answers_that_it_is_kept_and_not_to_resend(
        client: TestClient) -> None:
    from ..service.faults import FailingPublisher

    service = client.app.state.service  # type: ignore[attr-defined]
    publisher = FailingPublisher(service)
    publisher.fail_next = 1
    service.publisher = publisher
    now = time.time()
    response = post(client, orjson.dumps({"sensor_id": SENSOR, "value": 22.5, "time": now}))
    assert response.status_code == 500
    assert response.json()["error"] == "failed_after_commit"
    assert stored(client) == [22.5]  # kept, once
    assert client.get("/api/dead-letters").json()["count"] == 0
