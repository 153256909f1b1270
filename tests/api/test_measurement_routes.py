"""Field measurements over HTTP: an operator or an admin records one, a viewer reads the
fused value with the field's share beside the sensors' and may not record; a measurement
that cannot be used is refused in the API's one error shape with nothing kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import seeded_store

PROBE = {"property": "core_temperature", "value": 21.5, "unit": "degC", "uncertainty": 0.3,
         "instrument": "probe HT-2"}
ROUTE = "/api/elements/L1-slab/measurements"


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[tuple[TestClient, dict[Role, dict[str, str]]]]:
    """An app over the demo project (its slab loggers have not reported: the field
    measurement alone carries the value), and a header per role."""
    url = seeded_store(tmp_path)
    headers: dict[Role, dict[str, str]] = {}
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
        secret, _ = create_token(url, f"tests {role.value}", role)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(Settings(store=url))) as client:
        yield client, headers


def temperature(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.get("/api/elements/L1-slab", headers=headers)
    assert answer.status_code == 200, answer.text
    value: dict[str, Any] = answer.json()["properties"]["core_temperature"]
    return value


def test_an_operator_records_a_measurement_and_a_viewer_reads_its_share(
        twin: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    client, headers = twin
    answer = client.post(ROUTE, json=PROBE, headers=headers[Role.OPERATOR])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["event"]["kind"] == "property_changed" and body["event"]["seq"] is not None
    assert body["event"]["data"]["measured"]["uncertainty"] == 0.3
    shown = temperature(client, headers[Role.VIEWER])
    assert shown["field"].pop("age") >= body["property"]["field"].pop("age") >= 0.0
    assert shown == body["property"]
    assert shown["value"] == 21.5 and shown["uncertainty"] == pytest.approx(0.3)
    assert shown["weights"] == {"field": 1.0}
    assert shown["field"]["instrument"] == "probe HT-2" and shown["field"]["used"]
    audit = client.get("/api/audit?element_id=L1-slab&limit=100",
                       headers=headers[Role.ADMIN]).json()["entries"]
    assert audit[-1]["operation"] == "record_measurement"
    assert audit[-1]["by"]["role"] == "operator"


def test_an_admin_may_record_and_a_viewer_may_not(
        twin: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    client, headers = twin
    refused = client.post(ROUTE, json=PROBE, headers=headers[Role.VIEWER])
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert "core_temperature" not in client.get(
        "/api/elements/L1-slab", headers=headers[Role.VIEWER]).json()["properties"]
    assert client.post(ROUTE, json=PROBE, headers=headers[Role.ADMIN]).status_code == 201


@pytest.mark.parametrize(("change", "status", "error"), [
    ({"uncertainty": None}, 422, "missing_uncertainty"),
    ({"uncertainty": -1.0}, 422, "bad_uncertainty"),
    ({"unit": "m"}, 422, "incompatible_unit"),
    ({"time": "2999-01-01T00:00:00Z"}, 422, "future_time"),
    ({"property": "strain"}, 422, "not_sensor_fed"),
])
def test_a_measurement_that_cannot_be_used_is_refused_with_nothing_kept(
        twin: tuple[TestClient, dict[Role, dict[str, str]]], change: dict[str, object],
        status: int, error: str) -> None:
    client, headers = twin
    body = {key: value for key, value in {**PROBE, **change}.items() if value is not None}
    before = client.get("/api/elements/L1-slab", headers=headers[Role.VIEWER]).json()
    answer = client.post(ROUTE, json=body, headers=headers[Role.OPERATOR])
    assert answer.status_code == status and answer.json()["error"] == error, answer.text
    assert client.get("/api/elements/L1-slab", headers=headers[Role.VIEWER]).json() == before


def test_a_measurement_of_an_unknown_element_is_not_found(
        twin: tuple[TestClient, dict[Role, dict[str, str]]]) -> None:
    client, headers = twin
    answer = client.post("/api/elements/nowhere/measurements", json=PROBE,
                         headers=headers[Role.OPERATOR])
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
