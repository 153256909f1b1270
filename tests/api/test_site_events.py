"""Declared site events over HTTP: an operator declares and withdraws them, a viewer lists
them, each change is audited under the token that made it, and a declaration that cannot
be is refused in the API's one error shape with nothing kept."""

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

START = "2026-03-02T06:00:00Z"
EPOCH_START = 1_772_431_200.0
POUR = {"kind": "pour", "start": START, "element_ids": ["L1-slab"], "note": "bay 2"}


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[tuple[TestClient, dict[Role, dict[str, str]], str]]:
    """An app over the demo project, a header per role, and the operator token's id."""
    url = seeded_store(tmp_path)
    headers: dict[Role, dict[str, str]] = {}
    ids: dict[Role, str] = {}
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
        secret, record = create_token(url, f"tests {role.value}", role)
        headers[role], ids[role] = {"Authorization": f"Bearer {secret}"}, record.id
    with TestClient(create_app(Settings(store=url))) as client:
        yield client, headers, ids[Role.OPERATOR]


def audit(client: TestClient, headers: dict[Role, dict[str, str]]) -> list[dict[str, Any]]:
    answer = client.get("/api/audit?limit=1000", headers=headers[Role.ADMIN])
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def test_an_operator_declares_a_pour_a_viewer_lists_it_and_the_operator_withdraws_it(
    twin: tuple[TestClient, dict[Role, dict[str, str]], str],
) -> None:
    client, headers, operator_id = twin
    answer = client.post("/api/site-events", json=POUR, headers=headers[Role.OPERATOR])
    assert answer.status_code == 201, answer.text
    pour = answer.json()
    assert pour["id"] and pour["start"] == EPOCH_START
    assert pour["end"] == EPOCH_START + 72 * 3600  # a pour's default length
    assert pour["declared_by"] == "tests operator" and pour["withdrawn_at"] is None
    listed = client.get("/api/site-events", headers=headers[Role.VIEWER])
    assert listed.status_code == 200 and listed.json() == {"events": [pour]}

    answer = client.delete(f"/api/site-events/{pour['id']}", headers=headers[Role.OPERATOR])
    assert answer.status_code == 200, answer.text
    assert answer.json()["withdrawn_at"] is not None
    assert client.get("/api/site-events", headers=headers[Role.VIEWER]).json() == {"events": []}
    kept = client.get("/api/site-events?withdrawn=true", headers=headers[Role.VIEWER]).json()
    assert [e["id"] for e in kept["events"]] == [pour["id"]]
    again = client.delete(f"/api/site-events/{pour['id']}", headers=headers[Role.OPERATOR])
    assert again.status_code == 404 and again.json()["error"] == "not_found"

    declared, withdrawn = audit(client, headers)[-2:]
    assert declared["operation"] == "declare_event"
    assert declared["target"] == f"site_event:{pour['id']}"
    assert declared["element_id"] == "L1-slab" and declared["after"] == pour
    assert declared["by"] == {"name": "tests operator", "role": "operator", "token_id": operator_id}
    assert withdrawn["operation"] == "withdraw_event"
    assert withdrawn["after"] == {"withdrawn_at": answer.json()["withdrawn_at"]}


def test_a_viewer_may_not_declare_or_withdraw(
    twin: tuple[TestClient, dict[Role, dict[str, str]], str],
) -> None:
    client, headers, _ = twin
    pour = client.post("/api/site-events", json=POUR, headers=headers[Role.ADMIN]).json()
    refused = client.post("/api/site-events", json=POUR, headers=headers[Role.VIEWER])
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    refused = client.delete(f"/api/site-events/{pour['id']}", headers=headers[Role.VIEWER])
    assert refused.status_code == 403
    assert len(client.get("/api/site-events", headers=headers[Role.VIEWER]).json()["events"]) == 1


def test_the_list_is_filtered_by_time_and_element(
    twin: tuple[TestClient, dict[Role, dict[str, str]], str],
) -> None:
    client, headers, _ = twin
    operator = headers[Role.OPERATOR]
    pour = client.post("/api/site-events", json=POUR, headers=operator).json()
    heating = client.post(
        "/api/site-events",
        headers=operator,
        json={
            "kind": "heating",
            "start": EPOCH_START + 10 * 86_400,
            "end": EPOCH_START + 12 * 86_400,
            "sensor_ids": ["L2-slab-t1", "L2-slab-t2"],
        },
    ).json()

    def ids(query: str) -> list[str]:
        answer = client.get(f"/api/site-events{query}", headers=headers[Role.VIEWER])
        assert answer.status_code == 200, answer.text
        return [e["id"] for e in answer.json()["events"]]

    assert ids("") == [pour["id"], heating["id"]]
    assert ids("?element_id=L1-slab") == [pour["id"]]
    assert ids("?element_id=L2-slab") == [heating["id"]]  # through its bound sensors
    assert ids("?element_id=L3-slab") == []
    assert ids(f"?since={EPOCH_START + 5 * 86_400}") == [heating["id"]]
    assert ids("?until=2026-03-02T06:00:01Z") == [pour["id"]]
    assert ids("?since=2026-03-04T00:00:00Z&until=2026-03-05T00:00:00Z") == [pour["id"]]
    bad = client.get("/api/site-events?since=yesterday", headers=headers[Role.VIEWER])
    assert bad.status_code == 422 and bad.json()["error"] == "bad_time"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"element_ids": ["no-such-element"]}, "unknown_element"),
        ({"sensor_ids": ["no-such-sensor"]}, "unknown_sensor"),
        ({"kind": "heating"}, "end_required"),
        ({"end": "2026-03-01T00:00:00Z"}, "bad_span"),
        ({"end": "2026-07-01T00:00:00Z"}, "span_too_long"),
        ({"element_ids": []}, "no_target"),
        ({"start": "the day after the pour"}, "bad_time"),
        ({"start": None}, "bad_request"),
        ({"colour": "red"}, "bad_request"),
    ],
)
def test_a_declaration_that_cannot_be_is_refused_in_the_one_error_shape(
    twin: tuple[TestClient, dict[Role, dict[str, str]], str],
    body: dict[str, Any],
    reason: str,
) -> None:
    client, headers, _ = twin
    before = audit(client, headers)
    answer = client.post("/api/site-events", json={**POUR, **body}, headers=headers[Role.OPERATOR])
    assert answer.status_code == 422, answer.text
    assert set(answer.json()) == {"error", "detail"}
    assert answer.json()["error"] == reason
    assert client.get("/api/site-events?withdrawn=true", headers=headers[Role.VIEWER]).json() == {
        "events": []
    }
    assert audit(client, headers) == before
