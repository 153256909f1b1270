"""The OpenAPI document describes what the app answers: a client generated from it posts a
batch of readings and reads the snapshot, the schedule and the model, and each answer (and
each kind of refusal) matches the schema the document declares for its status. The
document types every JSON answer, declares each route's error statuses in the one error
shape, and documents the bodies the routes read themselves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from tests.schedule.plan_files import tower_elements, tower_xer

from twinsync.api.access import DOCUMENTED
from twinsync.api.app import create_app
from twinsync.bim import generate_building
from twinsync.config import Settings
from twinsync.service import TwinService
from twinsync.tokens import Role

from .conftest import bearer, seeded_store, signed_in

FILE = {"content-type": "application/octet-stream"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings(store="sqlite://unused")).openapi()


@pytest.fixture(scope="module")
def contract(document: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_dict(document)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with signed_in(Settings(store=seeded_store(tmp_path), rate_requests=0)) as test_client:
        yield test_client


def conforms(contract: Any, method: str, path: str, answer: httpx.Response) -> httpx.Response:
    """``answer`` as it is, once checked against the document's status, type and schema."""
    contract[path][method].validate_response(answer)
    return answer


def test_a_batch_of_readings_in_each_documented_shape_is_answered_as_documented(
    client: TestClient, contract: Any, document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    example = schemas["ReadingIn"]["examples"][0]
    bodies = [
        example,
        [example, {"sensor_id": "no-such-sensor", "value": 1.0}],
        {"readings": [{"sensor_id": "L1-slab-t2", "value": 20.5, "seq": 1}]},
        [{"bn": "L1-slab-", "bu": "degC", "n": "t3", "v": 19.0}],
    ]
    for body in bodies:
        answer = conforms(
            contract, "POST", "/api/readings", client.post("/api/readings", json=body)
        )
        assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    refused = client.post(
        "/api/readings", content=b"[", headers={"content-type": "application/json"}
    )
    assert conforms(contract, "POST", "/api/readings", refused).status_code == 400
    assert refused.json()["rejected"][0]["index"] is None


def test_the_snapshot_and_what_it_links_to_are_answered_as_documented(
    client: TestClient, contract: Any
) -> None:
    client.post("/api/readings", json=[{"sensor_id": "L1-slab-t1", "value": 21.5}])
    client.post("/api/readings", content=b"not json", headers={"content-type": "application/json"})
    client.patch("/api/elements/L1-slab", json={"status": "in_progress"})
    # A sync carries the server's own recent times, as GET /api/time answered them.
    sent = time.time()
    server = client.get("/api/time", params={"t0": sent}).json()
    synced = client.post(
        "/api/time",
        json={
            "source": "gw",
            "t0": sent,
            "t1": server["t1"],
            "t2": server["t2"],
            "t3": time.time(),
        },
    )
    assert synced.status_code == 200, synced.text
    for path, url in [
        ("/api/project", "/api/project"),
        ("/api/elements", "/api/elements?limit=3"),
        ("/api/elements/{element_id}", "/api/elements/L1-slab"),
        ("/api/sensors", "/api/sensors"),
        ("/api/sensors/{sensor_id}", "/api/sensors/L1-slab-t1"),
        ("/api/sensors/{sensor_id}/readings", "/api/sensors/L1-slab-t1/readings"),
        ("/api/sensors/{sensor_id}/readings", "/api/sensors/L1-slab-t1/readings?every=60"),
        ("/api/sensors/{sensor_id}/health", "/api/sensors/L1-slab-t1/health"),
        ("/api/events", "/api/events?limit=5"),
        ("/api/dead-letters", "/api/dead-letters"),
        ("/api/health", "/api/health"),
        ("/api/sources", "/api/sources"),
        ("/api/alarms", "/api/alarms"),
        ("/api/time", "/api/time?t0=1.5"),
        ("/api/audit", "/api/audit?limit=2"),
        ("/api/tokens", "/api/tokens"),
        ("/api/session", "/api/session"),
        ("/api/connectors", "/api/connectors"),
        ("/healthz", "/healthz"),
    ]:
        answer = conforms(contract, "GET", path, client.get(url))
        assert answer.status_code == 200, (url, answer.text)
    assert client.get("/api/sources").json()["sources"], "a source to check the shape of"
    assert client.get("/api/dead-letters").json()["dead_letters"][0]["payload_encoding"] == "bytes"


def test_changes_and_their_refusals_are_answered_as_documented(
    client: TestClient, contract: Any
) -> None:
    calls = [
        ("POST", "/api/elements", "/api/elements", {"id": "X1", "type": "IfcWall"}, 201),
        ("POST", "/api/elements", "/api/elements", {"id": "X1", "type": "IfcWall"}, 409),
        ("POST", "/api/sensors", "/api/sensors", {"id": "S1", "unit": "degC"}, 201),
        (
            "PUT",
            "/api/sensors/{sensor_id}/binding",
            "/api/sensors/S1/binding",
            {"element_id": "X1", "property": "temperature"},
            200,
        ),
        ("DELETE", "/api/sensors/{sensor_id}/binding", "/api/sensors/S1/binding", None, 200),
        ("PATCH", "/api/elements/{element_id}", "/api/elements/X1", {"status": "issue"}, 200),
        ("PATCH", "/api/elements/{element_id}", "/api/elements/no-such", {"status": "issue"}, 404),
        ("PATCH", "/api/elements/{element_id}", "/api/elements/X1", {"status": "sideways"}, 422),
        (  # not the server's recent times: a replayed exchange
            "POST",
            "/api/time",
            "/api/time",
            {"source": "gw", "t0": 1.0, "t1": 2.0, "t2": 2.1, "t3": 3.0},
            422,
        ),
        ("POST", "/api/tokens", "/api/tokens", {"name": "tablet", "role": "viewer"}, 201),
        ("DELETE", "/api/tokens/{token_id}", "/api/tokens/no-such-token", None, 404),
        ("POST", "/api/alarms/{key}/ack", "/api/alarms/no-such/ack", None, 404),
        ("DELETE", "/api/connectors/{name}", "/api/connectors/no-such", None, 404),
        (
            "POST",
            "/api/connectors",
            "/api/connectors",
            {"kind": "mqtt", "name": "gw", "host": "elsewhere.example"},
            403,
        ),
    ]
    for method, path, url, body, status in calls:
        answer = client.request(method, url, json=body)
        assert answer.status_code == status, (method, url, answer.text)
        conforms(contract, method, path, answer)
    stale = client.patch(
        "/api/elements/X1", json={"status": "planned"}, headers={"If-Match": '"1"'}
    )
    assert conforms(contract, "PATCH", "/api/elements/{element_id}", stale).status_code == 412


def test_users_passwords_and_the_audit_chain_are_answered_as_documented(
    tmp_path: Path, contract: Any
) -> None:
    store = seeded_store(tmp_path)
    admin = bearer(store)
    password = "correct horse battery"
    with TestClient(create_app(Settings(store=store, rate_requests=0))) as client:
        user = {"name": "ana", "role": "viewer", "password": password}
        calls: list[tuple[str, str, str, dict[str, Any], int]] = [
            ("POST", "/api/users", "/api/users", {"json": user}, 201),
            ("POST", "/api/users", "/api/users", {"json": user}, 409),
            (
                "POST",
                "/api/users",
                "/api/users",
                {"json": {**user, "name": "bo", "password": "short"}},
                422,
            ),
            ("GET", "/api/users", "/api/users", {}, 200),
            ("DELETE", "/api/users/{user_id}", "/api/users/no-such-user", {}, 404),
            ("GET", "/api/audit/verify", "/api/audit/verify", {}, 200),
            ("GET", "/api/audit/verify", "/api/audit/verify?expect=1:" + "0" * 64, {}, 200),
            ("GET", "/api/audit/verify", "/api/audit/verify?expect=12", {}, 422),
            (  # a token is not a user signed in with a password
                "POST",
                "/api/session/password",
                "/api/session/password",
                {"json": {"current": password, "new": "a brand new secret"}},
                403,
            ),
        ]
        for method, path, address, options, status in calls:
            answer = client.request(method, address, headers=admin, **options)
            assert answer.status_code == status, (method, address, answer.text[:300])
            conforms(contract, method, path, answer)
        [ana] = [
            u for u in client.get("/api/users", headers=admin).json()["users"] if u["name"] == "ana"
        ]
        signed = client.post("/api/session", json={"user": "ana", "password": password})
        changed = client.post(
            "/api/session/password",
            json={"current": password, "new": "a brand new secret"},
            headers={"x-csrf-token": signed.json()["csrf"]},
        )
        assert changed.status_code == 200, changed.text
        conforms(contract, "POST", "/api/session/password", changed)
        removed = client.delete(f"/api/users/{ana['id']}", headers=admin)
        assert removed.status_code == 200, removed.text
        conforms(contract, "DELETE", "/api/users/{user_id}", removed)
        verdict = conforms(
            contract, "GET", "/api/audit/verify", client.get("/api/audit/verify", headers=admin)
        ).json()
        assert verdict["ok"] and verdict["checked"] > 0


def test_site_events_are_answered_as_documented(client: TestClient, contract: Any) -> None:
    pour = {"kind": "pour", "start": "2026-03-04T08:00:00Z", "element_ids": ["L1-slab"]}
    calls: list[tuple[str, str, str, dict[str, Any], int]] = [
        ("POST", "/api/site-events", "/api/site-events", {"json": pour}, 201),
        (
            "POST",
            "/api/site-events",
            "/api/site-events",
            {"json": {**pour, "element_ids": ["no-such-element"]}},
            422,
        ),
        ("GET", "/api/site-events", "/api/site-events?element_id=L1-slab", {}, 200),
        ("GET", "/api/site-events", "/api/site-events?since=yesterday", {}, 422),
        ("DELETE", "/api/site-events/{event_id}", "/api/site-events/no-such-event", {}, 404),
    ]
    for method, path, address, options, status in calls:
        answer = client.request(method, address, **options)
        assert answer.status_code == status, (method, address, answer.text[:300])
        conforms(contract, method, path, answer)
    [declared] = client.get("/api/site-events").json()["events"]
    withdrawn = client.delete(f"/api/site-events/{declared['id']}")
    assert withdrawn.status_code == 200, withdrawn.text
    conforms(contract, "DELETE", "/api/site-events/{event_id}", withdrawn)
    listed = client.get("/api/site-events", params={"withdrawn": "true"})
    assert conforms(contract, "GET", "/api/site-events", listed).json()["events"][0]["withdrawn_at"]


def test_mixes_and_maturity_are_answered_as_documented(
    client: TestClient, contract: Any, document: dict[str, Any]
) -> None:
    [mix] = document["components"]["schemas"]["MixIn"]["examples"]
    json_headers = {"content-type": "application/json"}
    calls: list[tuple[str, str, str, dict[str, Any], int]] = [
        ("GET", "/api/elements/{element_id}/maturity", "/api/elements/L1-slab/maturity", {}, 404),
        ("POST", "/api/mixes", "/api/mixes", {"json": mix}, 201),
        ("POST", "/api/mixes", "/api/mixes", {"json": {**mix, "curve": {"form": "cubic"}}}, 422),
        ("POST", "/api/mixes", "/api/mixes", {"content": b"{", "headers": json_headers}, 422),
        ("GET", "/api/mixes", "/api/mixes", {}, 200),
        ("GET", "/api/elements/{element_id}/maturity", "/api/elements/L1-slab/maturity", {}, 200),
    ]
    for method, path, address, options, status in calls:
        answer = client.request(method, address, **options)
        assert answer.status_code == status, (method, address, answer.text[:300])
        conforms(contract, method, path, answer)


def test_a_forecast_and_its_refusals_are_answered_as_documented(
    client: TestClient, contract: Any
) -> None:
    path, address = "/api/elements/{element_id}/forecast", "/api/elements/L1-slab/forecast"
    asked = {"property": "core_temperature", "horizon": 3600, "quantiles": "0.25,0.75"}
    now = time.time()
    readings = [{"sensor_id": "L1-slab-t1", "value": 20.0 + 0.01 * k + 0.1 * (k % 3),
                 "time": now - 600.0 * (30 - k)} for k in range(30)]
    calls: list[tuple[str, dict[str, Any], int]] = [
        ("/api/elements/no-such/forecast", asked, 404),
        (address, asked, 409),
        (address, {**asked, "horizon": 0}, 422),
        (address, {**asked, "quantiles": "2"}, 422),
    ]
    for where, params, status in calls:
        answer = client.get(where, params=params)
        assert answer.status_code == status, (where, params, answer.text[:300])
        conforms(contract, "GET", path, answer)
    assert client.post("/api/readings", json=readings).json()["accepted"] == 30
    for extra in ({}, {"threshold": 1000.0}):
        answer = client.get(address, params={**asked, **extra})
        assert answer.status_code == 200, answer.text[:300]
        conforms(contract, "GET", path, answer)
    # a room's air temperature: its thermal zone answers, in the same shape
    zone = [{"sensor_id": sensor, "value": value, "time": now - 900.0 * (30 - k)}
            for k in range(30)
            for sensor, value in (("weather-temp", 5.0 + 0.1 * k),
                                  ("L0-room1-temp", 20.0 - 0.05 * k))]
    assert client.post("/api/readings", json=zone).json()["accepted"] == 60
    answer = client.get("/api/elements/L0-room1/forecast",
                        params={**asked, "property": "air_temperature", "threshold": 19.0})
    assert answer.status_code == 200 and answer.json()["model"] == "thermal_zone", answer.text
    conforms(contract, "GET", path, answer)


def test_refusals_before_a_route_runs_are_answered_as_documented(
    tmp_path: Path, contract: Any
) -> None:
    store = seeded_store(tmp_path)
    settings = Settings(store=store, rate_requests=0, max_readings=2)
    with TestClient(create_app(settings)) as anonymous:
        nobody = anonymous.get("/api/project")
        assert conforms(contract, "GET", "/api/project", nobody).status_code == 401
        viewer = bearer(store, Role.VIEWER)
        refused = anonymous.post(
            "/api/elements", json={"id": "X", "type": "IfcWall"}, headers=viewer
        )
        assert conforms(contract, "POST", "/api/elements", refused).status_code == 403
        admin = bearer(store)
        text = anonymous.post(
            "/api/sensors", content=b"{}", headers={**admin, "content-type": "text/plain"}
        )
        assert conforms(contract, "POST", "/api/sensors", text).status_code == 415
        batch = [{"sensor_id": "L1-slab-t1", "value": 1.0}] * 3
        too_many = anonymous.post("/api/readings", json=batch, headers=admin)
        assert conforms(contract, "POST", "/api/readings", too_many).status_code == 413


def test_the_schedule_and_the_model_are_answered_as_documented(
    tmp_path: Path, contract: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"

    async def seed() -> None:
        service = TwinService.open(url)
        await service.import_project(tower_elements(), [], [])
        await service.aclose()

    asyncio.run(seed())
    model = generate_building(tmp_path / "m.ifc", storeys=1, bays_x=1, bays_y=1).path.read_bytes()
    with signed_in(Settings(store=url, rate_requests=0)) as client:
        calls: list[tuple[str, str, str, dict[str, Any], int]] = [
            ("GET", "/api/schedule", "/api/schedule", {}, 404),
            ("GET", "/api/schedule/elements", "/api/schedule/elements", {}, 404),
            (
                "POST",
                "/api/schedules",
                "/api/schedules?name=tower.xer",
                {"content": tower_xer(), "headers": FILE},
                201,
            ),
            (
                "PUT",
                "/api/schedule/activities/{activity_id}/elements",
                "/api/schedule/activities/A100/elements",
                {"json": {"elements": ["slab-1"]}},
                200,
            ),
            (
                "POST",
                "/api/schedule/link-rules",
                "/api/schedule/link-rules",
                {"json": {"property": "ActivityCode"}},
                201,
            ),
            ("GET", "/api/schedule/link-rules", "/api/schedule/link-rules", {}, 200),
            (
                "POST",
                "/api/schedule/activities/{activity_id}/progress",
                "/api/schedule/activities/A100/progress",
                {"json": {"percent_complete": 25, "date": "2026-03-04 12:00"}},
                201,
            ),
            (
                "POST",
                "/api/schedule/surveys",
                "/api/schedule/surveys?date=2026-03-17 12:00",
                {"json": {"elements": [{"element": "slab-2", "percent_complete": 30}]}},
                201,
            ),
            ("GET", "/api/schedule", "/api/schedule?as_of=2026-03-04 12:00", {}, 200),
            (
                "GET",
                "/api/schedule/elements",
                "/api/schedule/elements?as_of=2026-03-04 12:00",
                {},
                200,
            ),
            (
                "GET",
                "/api/schedule/activities/{activity_id}",
                "/api/schedule/activities/A100",
                {},
                200,
            ),
            (
                "GET",
                "/api/schedule/activities/{activity_id}",
                "/api/schedule/activities/Z9",
                {},
                404,
            ),
            ("GET", "/api/elements/{element_id}", "/api/elements/slab-1", {}, 200),
            ("GET", "/api/schedule/report.csv", "/api/schedule/report.csv", {}, 200),
            ("GET", "/api/schedule/report.xlsx", "/api/schedule/report.xlsx", {}, 200),
            ("GET", "/api/model", "/api/model", {}, 404),
            (
                "POST",
                "/api/models",
                "/api/models?dry_run=1",
                {"content": model, "headers": FILE},
                200,
            ),
            ("POST", "/api/models", "/api/models", {"content": model, "headers": FILE}, 409),
            (
                "POST",
                "/api/models",
                "/api/models?force=1",
                {"content": model, "headers": FILE},
                201,
            ),
            (
                "POST",
                "/api/models",
                "/api/models",
                {"content": b"ISO-10303-21;", "headers": FILE},
                422,
            ),
            ("GET", "/api/model", "/api/model", {}, 200),
            ("GET", "/api/model.glb", "/api/model.glb", {}, 200),
        ]
        for method, path, address, options, status in calls:
            answer = client.request(method, address, **options)
            assert answer.status_code == status, (method, address, answer.text[:300])
            conforms(contract, method, path, answer)


def test_every_json_answer_has_a_schema_and_every_error_the_one_shape(
    document: dict[str, Any],
) -> None:
    untyped = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                for media, content in answer.get("content", {}).items():
                    schema = content.get("schema", {})
                    if media == "application/json" and schema in ({}, {"type": "string"}):
                        untyped.append((method, path, status))
                    if status >= "400" and media == "application/json":
                        ref = schema.get("$ref", "")
                        shape = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
                        assert {"error", "detail"} <= set(shape["required"]), (method, path)
    assert untyped == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_each_route_declares_the_errors_its_access_rule_can_answer(
    document: dict[str, Any],
) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            access = DOCUMENTED[(method.upper(), path)]
            declared = set(operation["responses"])
            if access.roles is not None:
                assert {"401", "403", "429"} <= declared, (method, path)
                assert operation["security"] == [{"bearer": []}]
            if "requestBody" in operation:
                assert {"415", "422"} <= declared, (method, path)


def test_the_bodies_routes_read_themselves_are_in_the_document(document: dict[str, Any]) -> None:
    paths = document["paths"]
    readings = paths["/api/readings"]["post"]["requestBody"]["content"]["application/json"]
    assert readings["schema"] == {"$ref": "#/components/schemas/ReadingsBody"}
    shapes = document["components"]["schemas"]["ReadingsBody"]["anyOf"]
    assert len(shapes) == 4  # a reading, a list, {"readings": [...]}, a SenML pack
    for upload in ("/api/models", "/api/schedules"):
        content = paths[upload]["post"]["requestBody"]["content"]
        assert set(content) == {"application/octet-stream", "multipart/form-data"}
    assert "application/json" in paths["/api/schedule/surveys"]["post"]["requestBody"]["content"]
    assert "requestBody" in paths["/api/schedule/link-rules"]["post"]


def test_each_operation_is_named_by_its_handler_once(document: dict[str, Any]) -> None:
    names = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(names) == len(set(names))
    assert document["paths"]["/api/readings"]["post"]["operationId"] == "post_readings"
    assert document["paths"]["/api/project"]["get"]["tags"] == ["twin"]
