"""Tokens through the API, the dashboard's session cookie with its CSRF value, bodies that
must say they are JSON, and provenance set by who writes, never by the body."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.store.tokens import open_token_store
from twinsync.tokens import Role, TokenRecord, digest

from .conftest import bearer, seeded_store


@pytest.fixture
def store(tmp_path: Path) -> str:
    return seeded_store(tmp_path)


@pytest.fixture
def app_client(store: str) -> Iterator[TestClient]:
    """A client that sends no token of its own (each test chooses), cookies kept."""
    with TestClient(create_app(Settings(store=store))) as client:
        yield client


def sign_in(client: TestClient, token_header: dict[str, str]) -> str:
    """Sign in with a token; the CSRF value the page would send back."""
    answer = client.post("/api/session", json={"token": token_header["Authorization"][7:]})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["csrf"])


def test_an_admin_creates_a_token_that_is_shown_once_and_works_until_revoked(
        store: str, app_client: TestClient) -> None:
    admin = bearer(store)
    made = app_client.post("/api/tokens", json={"name": "tablet 3", "role": "operator"},
                           headers=admin)
    assert made.status_code == 201
    secret, token_id = made.json()["token"], made.json()["id"]
    listed = app_client.get("/api/tokens", headers=admin).json()["tokens"]
    [entry] = [t for t in listed if t["id"] == token_id]
    assert entry["name"] == "tablet 3" and entry["role"] == "operator"
    assert secret not in str(listed) and "digest" not in entry
    operator = {"Authorization": f"Bearer {secret}"}
    assert app_client.patch("/api/elements/L1-slab", json={"status": "issue"},
                            headers=operator).status_code == 200
    assert app_client.post("/api/tokens", json={"name": "x", "role": "admin"},
                           headers=operator).status_code == 403
    assert app_client.delete(f"/api/tokens/{token_id}", headers=admin).status_code == 200
    assert app_client.get("/api/project", headers=operator).status_code == 401


def test_tokens_are_stored_as_digests_only(store: str, app_client: TestClient) -> None:
    admin = bearer(store)
    secret = app_client.post("/api/tokens", json={"name": "gw", "role": "device",
                                                  "sensors": ["L1-*"]},
                             headers=admin).json()["token"]
    file = Path(store.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in file.parent.glob(file.name + "*"))
    assert secret.encode() not in stored
    tokens = open_token_store(store)
    try:
        assert digest(secret) in {r.digest for r in tokens.records()}
    finally:
        tokens.close()


def test_an_expired_token_is_refused(store: str, app_client: TestClient) -> None:
    tokens = open_token_store(store)
    now = time.time()
    tokens.add(TokenRecord("old1", "old", Role.ADMIN, digest("tws_old-secret"), now - 100,
                           expires_at=now - 1))
    tokens.close()
    answer = app_client.get("/api/project", headers={"Authorization": "Bearer tws_old-secret"})
    assert answer.status_code == 401


def test_a_token_created_in_another_process_is_accepted_without_a_restart(
        store: str, app_client: TestClient) -> None:
    late = bearer(store, Role.VIEWER)  # written to the store directly, as the CLI does
    assert app_client.get("/api/project", headers=late).status_code == 200


def test_signing_in_sets_an_httponly_strict_cookie_and_changes_need_the_csrf_header(
        store: str, app_client: TestClient) -> None:
    answer = app_client.post("/api/session", json={"token": bearer(store, Role.OPERATOR)[
        "Authorization"][7:]})
    cookies = answer.headers.get_list("set-cookie")
    [session] = [c for c in cookies if c.startswith("twinsync_session=")]
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    [csrf_cookie] = [c for c in cookies if c.startswith("twinsync_csrf=")]
    assert "HttpOnly" not in csrf_cookie  # the page reads it to send it back
    csrf = answer.json()["csrf"]
    assert app_client.get("/api/project").status_code == 200  # reading needs no CSRF
    body = {"status": "issue"}
    assert app_client.patch("/api/elements/L1-slab", json=body).json()["error"] == "csrf"
    assert app_client.patch("/api/elements/L1-slab", json=body,
                            headers={"x-csrf-token": "0" * 64}).status_code == 403
    assert app_client.get("/api/elements/L1-slab").json()["status"] != "issue"
    assert app_client.patch("/api/elements/L1-slab", json=body,
                            headers={"x-csrf-token": csrf}).status_code == 200


def test_a_session_is_not_a_bearer_token_and_dies_with_its_token(
        store: str, app_client: TestClient) -> None:
    admin = bearer(store)
    made = app_client.post("/api/tokens", json={"name": "tablet", "role": "viewer"},
                           headers=admin).json()
    sign_in(app_client, {"Authorization": f"Bearer {made['token']}"})
    session = app_client.cookies["twinsync_session"]
    assert app_client.get("/api/project").status_code == 200
    other = TestClient(app_client.app)  # no cookies of its own
    assert other.get("/api/project", headers={
        "Authorization": f"Bearer {session}"}).status_code == 401
    app_client.delete(f"/api/tokens/{made['id']}", headers=admin)
    assert app_client.get("/api/project").status_code == 401


def test_signing_out_ends_the_session(store: str, app_client: TestClient) -> None:
    csrf = sign_in(app_client, bearer(store, Role.VIEWER))
    session = app_client.cookies["twinsync_session"]
    assert app_client.delete("/api/session", headers={"x-csrf-token": csrf}).status_code == 200
    app_client.cookies.set("twinsync_session", session)  # kept by a thief: of no use now
    assert app_client.get("/api/project").status_code == 401


def test_a_wrong_token_does_not_sign_in(app_client: TestClient) -> None:
    answer = app_client.post("/api/session", json={"token": "tws_wrong"})
    assert answer.status_code == 401 and "set-cookie" not in answer.headers


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_a_body_that_is_not_declared_json_is_not_ingested(
        store: str, app_client: TestClient, content_type: str | None) -> None:
    """What a page of another site can send without asking (a "simple" request) is refused
    before it is read, even with a valid token, and nothing of it is kept."""
    admin = bearer(store)
    before = app_client.get("/api/dead-letters", headers=admin).json()["count"]
    headers = {**admin, **({"content-type": content_type} if content_type else {})}
    answer = app_client.post("/api/readings", headers=headers,
                             content=b'[{"sensor_id": "L1-slab-t1", "value": 99.5}]')
    assert answer.status_code == 415 and answer.json()["error"] == "unsupported_media_type"
    assert app_client.get("/api/sensors/L1-slab-t1", headers=admin).json()["value"] != 99.5
    assert app_client.get("/api/dead-letters", headers=admin).json()["count"] == before
    anonymous = app_client.post("/api/readings", content=b"[]",
                                headers={"content-type": "text/plain"})
    assert anonymous.status_code == 401


def test_a_model_upload_with_the_cookie_needs_the_csrf_header(
        store: str, app_client: TestClient) -> None:
    sign_in(app_client, bearer(store))
    answer = app_client.post("/api/models", files={"file": ("m.ifc", b"ISO-10303-21;")})
    assert (answer.status_code, answer.json()["error"]) == (403, "csrf")


def test_a_field_update_is_recorded_as_field_whatever_the_body_claims(
        store: str, app_client: TestClient) -> None:
    operator = bearer(store, Role.OPERATOR)
    forged = app_client.patch("/api/elements/L1-slab", headers=operator, json={
        "properties": {"strength": 40}, "source": "bim"})
    assert (forged.status_code, forged.json()["error"]) == (403, "source_not_yours")
    element = app_client.get("/api/elements/L1-slab", headers=operator).json()
    assert "strength" not in element["properties"]
    answer = app_client.patch("/api/elements/L1-slab", headers=operator,
                              json={"properties": {"strength": 40}})
    assert answer.json()["element"]["properties"]["strength"]["source"] == "field"


def test_an_operators_websocket_update_is_field_and_a_claim_of_bim_is_refused(
        store: str, app_client: TestClient) -> None:
    with app_client.websocket_connect("/ws", headers=bearer(store, Role.OPERATOR)) as socket:
        socket.send_json({"type": "update", "element_id": "L2-slab", "id": 1,
                          "properties": {"pour": "done"}, "source": "bim"})
        assert socket.receive_json()["error"] == "source_not_yours"
        socket.send_json({"type": "update", "element_id": "L2-slab", "id": 2,
                          "properties": {"pour": "done"}})
        ack = socket.receive_json()
        assert ack["type"] == "ack" and ack["events"][0]["source"] == "field"


def test_an_alarm_is_acknowledged_by_the_token_not_by_the_body(
        store: str, app_client: TestClient) -> None:
    # No alarm is raised in the seeded twin: an unknown one answers 404 to an operator and
    # 403 to a viewer, whatever "by" says.
    body = {"by": "someone else"}
    assert app_client.post("/api/alarms/x/ack", json=body,
                           headers=bearer(store, Role.OPERATOR)).status_code == 404
    assert app_client.post("/api/alarms/x/ack", json=body,
                           headers=bearer(store, Role.VIEWER)).status_code == 403


def test_a_device_posts_only_for_its_sensors_and_its_values_are_iot(
        store: str, app_client: TestClient) -> None:
    device = bearer(store, Role.DEVICE, sensors=("L1-slab-*",))
    admin = bearer(store)
    answer = app_client.post("/api/readings", headers=device, json=[
        {"sensor_id": "L1-slab-t1", "value": 21.5},
        {"sensor_id": "L2-slab-t1", "value": 99.0}])
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 1
    assert answer.json()["rejected"] == [{
        "index": 1, "reason": "sensor_not_granted",
        "detail": "this token may not post readings of 'L2-slab-t1'"}]
    assert app_client.get("/api/sensors/L2-slab-t1", headers=admin).json()["value"] is None
    slab = app_client.get("/api/elements/L1-slab", headers=admin).json()
    assert slab["properties"]["core_temperature"]["source"] == "iot"
    # Its readings' clock is its own: a header naming another source is not believed.
    app_client.post("/api/readings", headers={**device, "x-twinsync-source": "gateway-7"},
                    json=[{"sensor_id": "L1-slab-t2", "value": 21.0, "time": time.time()}])
    sources = str(app_client.get("/api/sources", headers=admin).json()["sources"])
    assert "device:tests device" in sources and "gateway-7" not in sources
    assert app_client.get("/api/project", headers=device).status_code == 403
    assert app_client.patch("/api/elements/L1-slab", json={"status": "issue"},
                            headers=device).status_code == 403


def test_cors_is_closed_by_default(app_client: TestClient) -> None:
    answer = app_client.options("/api/project", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in answer.headers


def test_an_open_websocket_is_closed_once_its_token_is_revoked(
        store: str, app_client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    admin = bearer(store)
    made = app_client.post("/api/tokens", json={"name": "wall screen", "role": "viewer"},
                           headers=admin).json()
    with app_client.websocket_connect(
            "/ws", headers={"Authorization": f"Bearer {made['token']}"}) as socket:
        socket.send_json({"type": "ping", "id": 1})
        assert socket.receive_json()["type"] == "pong"
        app_client.delete(f"/api/tokens/{made['id']}", headers=admin)
        socket.send_json({"type": "ping", "id": 2})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 1008


def test_an_open_websocket_is_closed_once_its_token_is_revoked_by_another_process(
        store: str, app_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.websockets import WebSocketDisconnect

    from twinsync.api import auth

    secret, record = create_token(store, "wall screen", Role.VIEWER)
    with app_client.websocket_connect(
            "/ws", headers={"Authorization": f"Bearer {secret}"}) as socket:
        socket.send_json({"type": "ping", "id": 1})
        assert socket.receive_json()["type"] == "pong"
        tokens = open_token_store(store)  # as ``twinsync token revoke`` does
        try:
            assert tokens.revoke(record.id, time.time())
        finally:
            tokens.close()
        # The cache is now stale, and no HTTP request comes to reload it: the socket must.
        monkeypatch.setattr(auth, "RELOAD_SECONDS", 0.0)
        socket.send_json({"type": "ping", "id": 2})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 1008


def add_user(store: str, name: str, role: Role, password: str) -> str:
    from twinsync.tokens import new_user

    tokens = open_token_store(store)
    try:
        user = new_user(name, role, password, now=time.time())
        tokens.add(user)
    finally:
        tokens.close()
    return user.id


def test_a_user_signs_in_with_a_password_and_a_wrong_one_or_name_is_refused_alike(
        store: str, app_client: TestClient) -> None:
    add_user(store, "site engineer", Role.OPERATOR, "correct horse battery")
    wrong = app_client.post("/api/session", json={"user": "site engineer",
                                                   "password": "wrong horse battery"})
    unknown = app_client.post("/api/session", json={"user": "nobody",
                                                     "password": "correct horse battery"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers
    answer = app_client.post("/api/session", json={"user": "site engineer",
                                                    "password": "correct horse battery"})
    assert answer.status_code == 200 and answer.json()["role"] == "operator"
    assert app_client.patch("/api/elements/L1-slab", json={"status": "issue"},
                            headers={"x-csrf-token": answer.json()["csrf"]}).status_code == 200
    assert app_client.get("/api/session").json()["name"] == "site engineer"


def test_a_removed_users_sessions_end_and_a_password_is_kept_hashed(
        store: str, app_client: TestClient) -> None:
    user_id = add_user(store, "visitor", Role.VIEWER, "a long enough secret")
    assert app_client.post("/api/session", json={
        "user": "visitor", "password": "a long enough secret"}).status_code == 200
    assert app_client.get("/api/project").status_code == 200
    file = Path(store.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in file.parent.glob(file.name + "*"))
    assert b"a long enough secret" not in stored and b"$argon2id$" in stored
    app_client.delete(f"/api/tokens/{user_id}", headers=bearer(store))
    assert app_client.get("/api/project").status_code == 401
    assert app_client.post("/api/session", json={
        "user": "visitor", "password": "a long enough secret"}).status_code == 401
