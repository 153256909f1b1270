"""A write the twin cannot keep is refused with 422 and a reason, and nothing is left behind
that breaks a later read or the next start."""

from __future__ import annotations

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
