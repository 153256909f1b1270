"""A field measurement sent again by a phone whose answer was lost: with the same
measurement id it is recorded once and the retry is answered as the first was, concurrent
or after a restart; the same id with another measurement is refused. And the bodies a
phone in the field gets wrong are refused, each with its reason, with nothing kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import bearer, seeded_store

ROUTE = "/api/elements/L1-slab/measurements"
PROBE = {"property": "core_temperature", "value": 21.5, "unit": "degC", "uncertainty": 0.3,
         "instrument": "probe HT-2", "id": "phone-7/0001"}


@pytest.fixture
def store(tmp_path: Path) -> str:
    return seeded_store(tmp_path)


@pytest.fixture
def client(store: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=store)),
                    headers=bearer(store, Role.OPERATOR)) as test_client:
        yield test_client


def recorded(client: TestClient) -> list[dict[str, Any]]:
    """The slab's events that record a field measurement, oldest first."""
    events = client.get("/api/events?element_id=L1-slab&limit=1000").json()["events"]
    return [e for e in events if e["kind"] == "property_changed" and "measured" in e["data"]]


def measured_value(client: TestClient) -> dict[str, Any]:
    """The slab's fused temperature without the field measurement's age (which grows)."""
    shown: dict[str, Any] = client.get("/api/elements/L1-slab").json()["properties"][
        "core_temperature"]
    shown["field"].pop("age")
    return shown


def audited(client: TestClient, store: str) -> list[dict[str, Any]]:
    entries = client.get("/api/audit?element_id=L1-slab&limit=1000",
                         headers=bearer(store, Role.ADMIN)).json()["entries"]
    return [e for e in entries if e["operation"] == "record_measurement"]


def test_a_measurement_sent_three_times_is_recorded_once_and_each_retry_answers_the_first(
        client: TestClient, store: str) -> None:
    first = client.post(ROUTE, json=PROBE)
    assert first.status_code == 201, first.text
    time.sleep(0.05)  # a retry comes later: a time stamped again would show
    retries = [client.post(ROUTE, json=PROBE) for _ in range(2)]
    for retry in retries:
        assert retry.status_code == 201, retry.text
        assert retry.json()["event"] == first.json()["event"]
        assert retry.json()["replayed"] is True
    assert first.json()["replayed"] is False
    assert len(recorded(client)) == 1 and len(audited(client, store)) == 1


def test_a_retry_without_a_time_keeps_the_first_ones_time_so_it_ages_from_then(
        client: TestClient) -> None:
    body = {key: value for key, value in PROBE.items() if key != "time"}
    first = client.post(ROUTE, json=body).json()
    time.sleep(0.05)
    retry = client.post(ROUTE, json=body).json()
    assert retry["event"]["time"] == first["event"]["time"]
    assert retry["property"]["field"]["time"] == first["event"]["time"]


def test_concurrent_retries_of_one_measurement_record_it_once(
        client: TestClient, store: str) -> None:
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: client.post(ROUTE, json=PROBE), range(3)))
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert len({a.json()["event"]["seq"] for a in answers}) == 1
    assert sorted(a.json()["replayed"] for a in answers) == [False, True, True]
    assert len(recorded(client)) == 1 and len(audited(client, store)) == 1


def test_a_retry_after_a_restart_answers_what_the_first_answered(store: str) -> None:
    headers = bearer(store, Role.OPERATOR)
    with TestClient(create_app(Settings(store=store)), headers=headers) as client:
        first = client.post(ROUTE, json=PROBE)
        assert first.status_code == 201, first.text
    with TestClient(create_app(Settings(store=store)), headers=headers) as client:
        retry = client.post(ROUTE, json=PROBE)
        assert retry.status_code == 201, retry.text
        assert retry.json()["event"] == first.json()["event"] and retry.json()["replayed"]
        assert len(recorded(client)) == 1


def test_a_late_retry_does_not_put_back_a_measurement_recorded_after_it(
        client: TestClient) -> None:
    assert client.post(ROUTE, json=PROBE).status_code == 201
    newer = {**PROBE, "value": 23.0, "id": "phone-7/0002"}
    assert client.post(ROUTE, json=newer).status_code == 201
    retry = client.post(ROUTE, json=PROBE)
    assert retry.status_code == 201 and retry.json()["replayed"]
    shown = client.get("/api/elements/L1-slab").json()["properties"]["core_temperature"]
    assert shown["value"] == 23.0 and len(recorded(client)) == 2


@pytest.mark.parametrize("change", [
    {"value": 22.5}, {"uncertainty": 0.5}, {"instrument": "probe HT-3"},
    {"time": 1_700_000_000.0}, {"property": "surface_temperature"}])
def test_the_same_id_with_another_measurement_is_a_conflict_with_nothing_kept(
        client: TestClient, change: dict[str, object]) -> None:
    assert client.post(ROUTE, json=PROBE).status_code == 201
    before = measured_value(client)
    answer = client.post(ROUTE, json={**PROBE, **change})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "measurement_id_reused"
    assert "phone-7/0001" in answer.json()["detail"]
    assert measured_value(client) == before
    assert len(recorded(client)) == 1


def test_the_idempotency_key_header_is_the_measurement_id(client: TestClient) -> None:
    body = {key: value for key, value in PROBE.items() if key != "id"}
    keyed = {"Idempotency-Key": "phone-7/0009"}
    first = client.post(ROUTE, json=body, headers=keyed)
    retry = client.post(ROUTE, json=body, headers=keyed)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["event"] == first.json()["event"] and retry.json()["replayed"]
    assert first.json()["event"]["data"]["measured"]["id"] == "phone-7/0009"
    both = client.post(ROUTE, json={**body, "id": "phone-7/0010"}, headers=keyed)
    assert both.status_code == 422 and both.json()["error"] == "bad_measurement_id"


def test_without_an_id_each_post_is_a_measurement_of_its_own(client: TestClient) -> None:
    body = {key: value for key, value in PROBE.items() if key != "id"}
    assert client.post(ROUTE, json=body).status_code == 201
    assert client.post(ROUTE, json=body).status_code == 201
    assert len(recorded(client)) == 2


@pytest.mark.parametrize(("raw", "error"), [
    ('"value": NaN', "not_finite"),
    ('"value": Infinity', "not_finite"),
    ('"value": -Infinity', "not_finite"),
    ('"value": 1e999', "not_finite"),
    ('"uncertainty": NaN', "bad_uncertainty"),
    ('"uncertainty": Infinity', "bad_uncertainty"),
    ('"uncertainty": 1e200', "bad_uncertainty"),
    ('"uncertainty": 1e-200', "bad_uncertainty"),
    ('"unit": "furlong"', "incompatible_unit"),
    ('"unit": "degQ"', "unknown_unit"),
    ('"unit": "kg"', "incompatible_unit"),
    ('"property": "no_such_thing"', "not_sensor_fed"),
    ('"id": ""', "bad_measurement_id"),
    ('"id": 7', "bad_measurement_id"),
])
def test_a_body_a_phone_gets_wrong_is_refused_with_its_reason_and_nothing_kept(
        client: TestClient, raw: str, error: str) -> None:
    key = raw.split(":")[0].strip('"')
    rest = ", ".join(f'"{k}": ' + (f'"{v}"' if isinstance(v, str) else str(v))
                     for k, v in PROBE.items() if k != key)
    before = client.get("/api/elements/L1-slab").json()
    answer = client.post(ROUTE, content=("{" + rest + ", " + raw + "}").encode(),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["error"] == error, answer.text
    assert client.get("/api/elements/L1-slab").json() == before
    assert recorded(client) == []


def test_a_phone_whose_clock_is_an_hour_ahead_is_told_so_and_nothing_is_kept(
        client: TestClient) -> None:
    answer = client.post(ROUTE, json={**PROBE, "time": time.time() + 3600.0})
    assert answer.status_code == 422 and answer.json()["error"] == "future_time"
    assert "ahead of the server's clock" in answer.json()["detail"]
    assert recorded(client) == []
    # The same id, with the phone's clock put right, is then taken: a refusal keeps no id.
    assert client.post(ROUTE, json={**PROBE, "time": time.time()}).status_code == 201
