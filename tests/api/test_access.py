"""Who may call what, over real HTTP through the app: every route is in the access table,
only the health check and signing in are open, and every route answers each role (and no
token) as the table says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from twinsync.api import ws
from twinsync.api.access import OPEN, ROUTES, WS_COMMANDS, route_keys
from twinsync.api.app import create_app
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import bearer, seeded_store

#: Path parameters filled in to call each route.
PARAMETERS = {"element_id": "L1-slab", "sensor_id": "L1-slab-t1", "key": "no-such-alarm",
              "name": "no-such-connector", "token_id": "no-such-token",
              "activity_id": "no-such-activity", "user_id": "no-such-user",
              "event_id": "no-such-event", "mark_id": "no-such-mark"}
ROLES: list[Role | None] = [None, *Role]


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[Any, Any]]]:
    """An app over the demo project (with the dashboard's npm folder, so /vendor is served)
    and a header for each role; the client itself sends no token."""
    folder = tmp_path_factory.mktemp("access")
    url = seeded_store(folder)
    vendor = folder / "node_modules"
    (vendor / "three").mkdir(parents=True)
    (vendor / "three" / "x.js").write_text("export {};\n")
    headers: dict[Any, Any] = {None: {}}
    for role in Role:
        options = {"sensors": ("L1-*",)} if role is Role.DEVICE else {}
        headers[role] = bearer(url, role, **options)
    with TestClient(create_app(Settings(store=url, web_vendor=vendor))) as client:
        yield client, headers


def test_every_route_of_the_app_has_an_access_rule_and_every_rule_a_route(
        twin: tuple[TestClient, dict[Any, Any]]) -> None:
    client, _ = twin
    served = route_keys(client.app.routes)  # type: ignore[attr-defined]
    assert [key for key in served if key not in ROUTES] == []
    assert [key for key in ROUTES if key not in served] == []


def test_every_websocket_command_has_an_access_rule() -> None:
    assert set(ws.COMMANDS) == set(WS_COMMANDS)


def test_only_the_health_check_and_signing_in_are_open() -> None:
    assert {key for key, access in ROUTES.items() if access is OPEN} == {
        ("GET", "/healthz"), ("GET", "/login"), ("POST", "/api/session")}


def url_of(method: str, path: str) -> str:
    if method == "MOUNT":
        return path + ("/js/api.js" if path == "/static" else "/three/x.js")
    # A parameter with its convertor too ({sensor_id:id}): the id, never the name sent.
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMETERS[m.group(1)], path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = url_of(method, path)
    if method == "MOUNT":
        return client.get(url, headers=headers).status_code
    if method in ("POST", "PUT", "PATCH"):
        return client.request(method, url, json={}, headers=headers).status_code
    return client.request(method, url, headers=headers, follow_redirects=False).status_code


HTTP_ROUTES = sorted(key for key in ROUTES if key[0] != "WS")


@pytest.mark.parametrize(("method", "path"), HTTP_ROUTES,
                         ids=[f"{m} {p}" for m, p in HTTP_ROUTES])
def test_each_route_answers_each_role_as_the_table_says(
        twin: tuple[TestClient, dict[Any, Any]], method: str, path: str) -> None:
    client, headers = twin
    access = ROUTES[(method, path)]
    for role in ROLES:
        status = call(client, method, path, headers[role])
        if access.roles is None:
            expected = "allowed"
        elif role is None:
            expected = "401" if path != "/" else "303"  # the dashboard sends to sign in
        else:
            expected = "allowed" if role in access.roles else "403"
        got = str(status) if status in (401, 403, 303) else "allowed"
        if expected == "allowed":
            assert got == "allowed", f"{role} {method} {path}: {status}"
        else:
            assert got == expected, f"{role} {method} {path}: {status}"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r))
def test_the_websocket_and_its_commands_answer_each_role_as_the_table_says(
        twin: tuple[TestClient, dict[Any, Any]], role: Role | None) -> None:
    client, headers = twin
    if role is None or role not in ROUTES[("WS", "/ws")].roles:  # type: ignore[operator]
        with pytest.raises(WebSocketDisconnect) as refused, \
                client.websocket_connect("/ws", headers=headers[role]):
            pass
        assert refused.value.code == 1008
        return
    with client.websocket_connect("/ws", headers=headers[role]) as socket:
        for number, (kind, access) in enumerate(WS_COMMANDS.items()):
            message = {"type": kind, "id": number, "elements": "L1-slab",
                       "element_id": "L1-slab", "properties": {"note": "checked"}}
            socket.send_json(message)
            while True:
                answer = socket.receive_json()
                if answer.get("id") == number:
                    break
            refused = answer["type"] == "error" and answer["error"] == "forbidden"
            assert refused == (role not in access.roles), (role, kind, answer)  # type: ignore[operator]


@pytest.mark.parametrize("params", [{"dry_run": "1"}, {"force": "1"}], ids=["dry_run", "force"])
def test_a_dry_run_or_a_forced_model_upload_is_an_admins_like_any_upload(
        twin: tuple[TestClient, dict[Any, Any]], params: dict[str, str]) -> None:
    # A dry run changes nothing but still reads the whole twin against the file; force
    # overrides the refusal that protects the model. Neither opens the route to more roles.
    client, headers = twin
    for role in ROLES:
        answer = client.post("/api/models", params=params, content=b"ISO-10303-21;",
                             headers={**headers[role], "content-type": "application/octet-stream"})
        # The admin's file is read, and is not a whole IFC file.
        expected = 401 if role is None else 422 if role is Role.ADMIN else 403
        assert answer.status_code == expected, (role, answer.text)


def test_an_unknown_path_is_not_found_for_everyone(
        twin: tuple[TestClient, dict[Any, Any]]) -> None:
    client, headers = twin
    assert client.get("/api/nothing-here").status_code == 404
    assert client.get("/api/nothing-here", headers=headers[Role.ADMIN]).status_code == 404


def test_the_health_check_says_nothing_of_the_twin(
        twin: tuple[TestClient, dict[Any, Any]]) -> None:
    client, _ = twin
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_token_that_is_not_bearer_or_not_known_is_refused(
        twin: tuple[TestClient, dict[Any, Any]]) -> None:
    client, headers = twin
    token = headers[Role.ADMIN]["Authorization"].split()[1]
    for header in (f"Basic {token}", "Bearer", "Bearer tws_unknown", f"Bearer {token}x"):
        answer = client.get("/api/project", headers={"Authorization": header})
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert token not in answer.text  # a token is never echoed


def test_the_openapi_document_is_for_readers_and_fastapis_pages_are_gone(
        twin: tuple[TestClient, dict[Any, Any]], tmp_path: Path) -> None:
    client, headers = twin
    assert client.get("/openapi.json").status_code == 401
    assert "/api/readings" in client.get("/openapi.json", headers=headers[Role.VIEWER]).json()[
        "paths"]
    for page in ("/docs", "/redoc"):
        assert client.get(page, headers=headers[Role.ADMIN]).status_code == 404
