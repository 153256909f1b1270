"""A write the twin cannot keep is refused with 422 and a reason, and nothing is left behind
that breaks a later read or the next start."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twinsync.config import Settings

from .conftest import seeded_store, signed_in


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store seeded with the code-defined demo project."""
    return seeded_store(tmp_path)


@pytest.fixture
def client(store: str) -> Iterator[TestClient]:
    with signed_in(Settings(store=store)) as test_client:
        yield test_client


@pytest.mark.parametrize(("gain", "reason"), [
    (b"NaN", "not_finite"), (b"Infinity", "not_finite"), (b"-Infinity", "not_finite"),
    (b'"NaN"', "bad_request"),  # text where a number belongs: refused as the wrong type
    (b'"2"', "bad_request"), (b"0", "out_of_range")])
def test_a_binding_with_a_gain_that_is_not_a_finite_nonzero_number_is_refused_and_the_store_starts(
        store: str, gain: bytes, reason: str) -> None:
    with signed_in(Settings(store=store)) as client:
        sensor = client.get("/api/sensors/weather-temp").json()
        body = (b'{"element_id": "site", "property": "ambient_temperature", '
                b'"transform": {"gain": ' + gain + b"}}")
        answer = client.put("/api/sensors/weather-temp/binding", content=body,
                            headers={"content-type": "application/json"})
        assert answer.status_code == 422
        assert answer.json()["error"] == reason
        assert client.get("/api/sensors/weather-temp").json()["binding"] == sensor["binding"]

    with signed_in(Settings(store=store)) as restarted:
        again = restarted.get("/api/sensors/weather-temp")
        assert again.status_code == 200
        assert again.json()["binding"] == sensor["binding"]


def test_a_property_over_64_bits_is_refused_and_elements_stay_readable(
        store: str) -> None:
    with signed_in(Settings(store=store)) as client:
        before = client.get("/api/elements/site").json()
        answer = client.patch("/api/elements/site",
                              json={"status": "issue", "properties": {"big": 2**70, "ok": 1}})
        assert answer.status_code == 422
        assert answer.json()["error"] == "int_too_large"
        assert client.get("/api/elements").status_code == 200
        # Refused whole: neither the status nor the good property was applied.
        assert client.get("/api/elements/site").json() == before

    with signed_in(Settings(store=store)) as restarted:
        assert restarted.get("/api/elements").status_code == 200
        assert restarted.get("/api/elements/site").json()["properties"] == before["properties"]


@pytest.mark.parametrize(("properties", "reason"), [
    (b'{"x": NaN}', "not_finite"),
    (b'{"x": {"value": 1, "confidence": 7}}', "bad_confidence"),
    (b'{"x": {"value": 1, "unit": 123}}', "bad_text"),
    (b'{"x\\u0000": 1}', "bad_property"),
])
def test_a_field_update_the_twin_cannot_keep_is_refused_with_its_reason(
        client: TestClient, properties: bytes, reason: str) -> None:
    answer = client.patch("/api/elements/site", content=b'{"properties": ' + properties + b"}",
                          headers={"content-type": "application/json"})
    assert (answer.status_code, answer.json()["error"]) == (422, reason)
    assert client.get("/api/elements").status_code == 200


def test_a_sensor_with_a_control_character_in_its_id_is_refused(client: TestClient) -> None:
    answer = client.post("/api/sensors", json={"id": "t\u0000x", "kind": "temperature",
                                               "unit": "degC"})
    assert (answer.status_code, answer.json()["error"]) == (422, "bad_id")
    answer = client.post("/api/sensors", json={"id": "t" * 300, "kind": "temperature"})
    assert (answer.status_code, answer.json()["error"]) == (422, "bad_id")


# Found by schemathesis (tests/api/test_schemathesis.py); each answered 500 or left the
# one error shape before.


def test_a_body_that_is_not_utf8_is_refused_in_the_one_error_shape(client: TestClient) -> None:
    answer = client.post(
        "/api/sensors", content=b"\xff", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "bad_request",
        "detail": "body: There was an error parsing the body",
    }


def test_a_missing_body_is_named_without_quoting_the_routes_source(client: TestClient) -> None:
    answer = client.post("/api/sensors", content=b"", headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json() == {"error": "bad_request", "detail": "body: Field required"}


def test_a_link_rule_whose_body_is_not_json_is_refused_not_a_server_error(
    client: TestClient,
) -> None:
    for body in (b"", b"{", b"\xff"):
        answer = client.post(
            "/api/schedule/link-rules", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422, body
        assert answer.json()["error"] == "bad_json"


def test_a_mix_whose_body_is_not_json_is_refused_not_a_server_error(client: TestClient) -> None:
    for body in (b"", b"{", b"\xff"):
        answer = client.post(
            "/api/mixes", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422, body
        assert answer.json()["error"] == "bad_json"


@pytest.mark.parametrize("path", ["/api/events", "/api/dead-letters", "/api/audit"])
def test_a_page_start_past_64_bits_is_refused_not_sent_to_the_store(
    client: TestClient, path: str
) -> None:
    for after in (2**63, -(2**70)):
        answer = client.get(path, params={"after": after})
        assert answer.status_code == 422, (after, answer.text)
        assert answer.json()["error"] == "bad_request" and "after" in answer.json()["detail"]
    assert client.get(path, params={"after": 2**63 - 1}).status_code == 200


def test_a_time_sync_t0_that_is_not_a_number_is_refused(client: TestClient) -> None:
    answer = client.get("/api/time", params={"t0": "noon"})
    assert answer.status_code == 422 and "t0" in answer.json()["detail"]
    assert client.get("/api/time", params={"t0": "12.5"}).json()["t0"] == 12.5
    assert client.get("/api/time", params={"t0": ""}).json()["t0"] is None  # as it always was


def test_a_static_file_that_is_not_there_is_not_found_in_the_one_error_shape(
    client: TestClient,
) -> None:
    answer = client.get("/static/js/no-such-file.js")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_a_bucket_too_small_for_its_window_is_refused_not_merged_into_one(
    client: TestClient,
) -> None:
    now = time.time()
    readings = [{"sensor_id": "L1-slab-t1", "value": 20.0 + i, "time": now - 10 + i}
                for i in range(3)]
    client.post("/api/readings", json=readings)
    history = "/api/sensors/L1-slab-t1/readings"
    for every in ("1e-300", "5e-324"):
        answer = client.get(history, params={"every": every})
        assert answer.status_code == 422 and "buckets" in answer.json()["detail"], every
    fine = client.get(history, params={"every": "0.5", "start": now - 60}).json()
    assert fine["count"] == [1, 1, 1]

