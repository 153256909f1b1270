"""The REST API answers with the twin's state and refuses bad input clearly."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient


def test_the_project_snapshot_summarises_the_twin(client: TestClient) -> None:
    project = client.get("/api/project").json()
    assert project["element_count"] == 44
    assert project["sensor_count"] == 50
    assert sum(project["status_summary"].values()) == 44
    assert [s["id"] for s in project["storeys"]] == ["L0", "L1", "L2", "L3"]
    assert project["recent_events"]


def test_elements_filter_by_type_status_and_storey(client: TestClient) -> None:
    slabs = client.get("/api/elements", params={"type": "IfcSlab"}).json()
    assert slabs["count"] == 4
    on_l1 = client.get("/api/elements", params={"storey": "L1", "type": "IfcColumn"}).json()
    assert {e["id"] for e in on_l1["elements"]} == {f"L1-col{i}" for i in range(1, 7)}
    completed = client.get("/api/elements", params={"status": "completed"}).json()
    # Rooms have a status too (their fit-out), though they are not counted as physical.
    assert completed["count"] == 28
    assert client.get("/api/elements", params={"status": "done"}).status_code == 422


def test_a_reading_batch_answers_what_was_accepted_and_why_the_rest_was_not(
        client: TestClient) -> None:
    now = time.time()
    answer = client.post("/api/readings", json={"readings": [
        {"sensor_id": "L1-slab-t1", "value": 30.5, "time": now - 1, "seq": 1},
        {"sensor_id": "ghost", "value": 1},
        {"sensor_id": "L1-slab-t1"},
        "not an object",
        {"sensor_id": "L1-slab-t1", "value": 86.0, "unit": "degF", "seq": 2},
    ]}).json()
    assert answer["accepted"] == 2
    assert [(r["index"], r["reason"]) for r in answer["rejected"]] == [
        (1, "unknown_sensor"), (2, "no_value"), (3, "bad_shape")]
    letters = client.get("/api/dead-letters").json()
    assert letters["count"] == 3
    assert {d["reason"] for d in letters["dead_letters"]} == {
        "unknown_sensor", "no_value", "bad_shape"}
    element = client.get("/api/elements/L1-slab").json()
    # 86 °F, the newest reading, converted to the sensor's °C.
    assert element["properties"]["core_temperature"]["value"] == pytest.approx(30.0)


def test_malformed_json_is_refused_and_kept_as_a_dead_letter(client: TestClient) -> None:
    response = client.post("/api/readings", content=b'{"readings": [1,',
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_json"
    [letter] = client.get("/api/dead-letters").json()["dead_letters"]
    assert letter["payload"] == '{"readings": [1,'
    assert letter["payload_encoding"] == "bytes"


def test_history_is_raw_or_downsampled(client: TestClient) -> None:
    start = time.time() - 100
    readings = [{"sensor_id": "L0-room1-temp", "value": float(i), "time": start + i}
                for i in range(60)]
    assert client.post("/api/readings", json=readings).json()["accepted"] == 60
    raw = client.get("/api/sensors/L0-room1-temp/readings",
                     params={"start": start, "end": start + 60}).json()
    assert raw["value"] == [float(i) for i in range(60)]
    assert raw["unit"] == "degC"
    buckets = client.get("/api/sensors/L0-room1-temp/readings",
                         params={"start": start, "end": start + 60, "every": 20}).json()
    assert buckets["count"] == [20, 20, 20]
    assert buckets["min"] == [0.0, 20.0, 40.0]
    assert buckets["max"] == [19.0, 39.0, 59.0]
    assert buckets["mean"] == [9.5, 29.5, 49.5]


def test_history_of_an_unknown_sensor_is_not_found(client: TestClient) -> None:
    response = client.get("/api/sensors/ghost/readings")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_field_update_changes_status_and_properties_with_their_source(
        client: TestClient) -> None:
    response = client.patch("/api/elements/L3-wall-north", json={
        "status": "issue", "source": "field",
        "properties": {"crack_width": {"value": 0.4, "unit": "mm", "confidence": 0.7}}})
    assert response.status_code == 200
    element = response.json()["element"]
    assert element["status"] == "issue"
    crack = element["properties"]["crack_width"]
    assert (crack["value"], crack["unit"], crack["source"], crack["confidence"]) == (
        0.4, "mm", "field", 0.7)
    kinds = [e["kind"] for e in client.get("/api/events",
                                           params={"element_id": "L3-wall-north"}).json()["events"]]
    assert kinds[-2:] == ["status_changed", "property_changed"]


def test_a_field_update_of_an_unknown_element_is_not_found(client: TestClient) -> None:
    assert client.patch("/api/elements/nope", json={"status": "issue"}).status_code == 404


def test_the_openapi_document_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/project", "/api/elements", "/api/elements/{element_id}",
                 "/api/readings", "/api/sensors/{sensor_id}/readings", "/api/dead-letters"):
        assert path in paths


def test_a_senml_pack_is_accepted_like_the_core_format(client: TestClient) -> None:
    now = time.time()
    pack = [
        {"bn": "L2-room1-", "bt": now - 10, "bu": "Cel", "n": "temp", "v": 21.0},
        {"n": "temp", "t": 5, "v": 21.5},
        {"n": "temp", "t": 6},  # no value
    ]
    answer = client.post("/api/readings", json=pack).json()
    assert answer["accepted"] == 2
    assert [r["reason"] for r in answer["rejected"]] == ["senml_no_value"]
    element = client.get("/api/elements/L2-room1").json()
    assert element["properties"]["air_temperature"]["value"] == 21.5


def test_putting_a_binding_moves_a_bound_sensor_and_a_refused_one_changes_nothing(
        client: TestClient) -> None:
    moved = client.put("/api/sensors/L1-room1-temp/binding",
                       json={"element_id": "L1-room2", "property": "air_temperature"})
    assert moved.status_code == 200
    assert moved.json()["binding"]["element_id"] == "L1-room2"
    refused = client.put("/api/sensors/L1-room1-temp/binding",
                         json={"element_id": "no-such-room", "property": "air_temperature"})
    assert refused.status_code == 404
    sensor = client.get("/api/sensors/L1-room1-temp").json()
    assert sensor["binding"]["element_id"] == "L1-room2"
