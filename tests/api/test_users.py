"""Users through the API: an admin lists, adds and removes them (a name is taken once),
and a signed-in user changes their own password, which ends their other sessions; each
change is in the audit log, never a password or its hash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.config import Settings

from .conftest import bearer, seeded_store

PASSWORD = "correct horse battery"


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client that sends no token of its own, and an admin's header."""
    url = seeded_store(tmp_path)
    admin = bearer(url)
    with TestClient(create_app(Settings(store=url))) as client:
        yield client, admin


def sign_in(client: TestClient, name: str, password: str) -> Any:
    return client.post("/api/session", json={"user": name, "password": password})


def audit_of(client: TestClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    answer = client.get("/api/audit?limit=1000", headers=admin)
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def test_an_admin_adds_lists_and_removes_users_and_a_name_is_taken_once(
        twin: tuple[TestClient, dict[str, str]]) -> None:
    client, admin = twin
    made = client.post("/api/users", headers=admin,
                       json={"name": "site engineer", "role": "operator", "password": PASSWORD})
    assert made.status_code == 201, made.text
    user = made.json()
    assert user["kind"] == "user" and user["role"] == "operator"
    again = client.post("/api/users", headers=admin,
                        json={"name": "site engineer", "role": "viewer",
                              "password": "another password"})
    assert again.status_code == 409
    assert again.json() == {"error": "conflict",
                            "detail": "there is a user 'site engineer' already"}
    listed = client.get("/api/users", headers=admin).json()
    assert [u["id"] for u in listed["users"]] == [user["id"]]
    assert listed["duplicates"] == {} and "argon2" not in str(listed)
    assert sign_in(client, "site engineer", PASSWORD).status_code == 200
    assert client.get("/api/project").status_code == 200
    assert client.delete(f"/api/users/{user['id']}", headers=admin).status_code == 200
    assert client.get("/api/project").status_code == 401  # their session ended at once
    assert sign_in(client, "site engineer", PASSWORD).status_code == 401
    assert client.delete(f"/api/users/{user['id']}", headers=admin).status_code == 404
    # Once removed, the name may be given to someone new.
    assert client.post("/api/users", headers=admin, json={
        "name": "site engineer", "role": "viewer", "password": "another password"
    }).status_code == 201
    operations = [(e["operation"], e["target"]) for e in audit_of(client, admin)]
    assert ("create_user", f"user:{user['id']}") in operations
    assert ("remove_user", f"user:{user['id']}") in operations
    assert "argon2" not in str(audit_of(client, admin))


@pytest.mark.parametrize(("body", "reason"), [
    ({"name": "x", "role": "device", "password": PASSWORD}, "bad_user"),
    ({"name": "x", "role": "admin", "password": "short"}, "bad_user"),
    ({"name": "x", "role": "root", "password": PASSWORD}, "bad_role"),
    ({"name": "  ", "role": "admin", "password": PASSWORD}, "bad_user"),
])
def test_a_user_that_cannot_be_made_is_refused_and_nothing_is_kept(
        twin: tuple[TestClient, dict[str, str]], body: dict[str, str], reason: str) -> None:
    client, admin = twin
    answer = client.post("/api/users", headers=admin, json=body)
    assert answer.status_code == 422 and answer.json()["error"] == reason
    assert client.get("/api/users", headers=admin).json()["users"] == []


def test_a_user_changes_their_password_and_their_other_sessions_end(
        twin: tuple[TestClient, dict[str, str]]) -> None:
    client, admin = twin
    client.post("/api/users", headers=admin,
                json={"name": "ana", "role": "viewer", "password": PASSWORD})
    csrf = sign_in(client, "ana", PASSWORD).json()["csrf"]
    # A second browser signed in as ana too (the app is already running: no lifespan).
    elsewhere = TestClient(client.app)
    assert sign_in(elsewhere, "ana", PASSWORD).status_code == 200
    change = {"current": "not my password", "new": "a brand new secret"}
    wrong = client.post("/api/session/password", json=change,
                        headers={"x-csrf-token": csrf})
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_password"
    assert elsewhere.get("/api/project").status_code == 200
    # Without the CSRF header a page of another site could change it: refused.
    change["current"] = PASSWORD
    assert client.post("/api/session/password", json=change).status_code == 403
    short = client.post("/api/session/password", headers={"x-csrf-token": csrf},
                        json={"current": PASSWORD, "new": "short"})
    assert short.status_code == 422 and short.json()["error"] == "bad_user"
    done = client.post("/api/session/password", json=change,
                       headers={"x-csrf-token": csrf})
    assert done.status_code == 200, done.text
    assert client.get("/api/project").status_code == 200  # this session goes on
    assert elsewhere.get("/api/project").status_code == 401  # the other one ended
    assert sign_in(client, "ana", PASSWORD).status_code == 401
    assert sign_in(client, "ana", "a brand new secret").status_code == 200
    [entry] = [e for e in audit_of(client, admin) if e["operation"] == "change_password"]
    assert entry["by"]["name"] == "ana" and "argon2" not in str(entry)
    assert "a brand new secret" not in str(entry)


def test_only_a_user_signed_in_with_a_password_changes_one(
        twin: tuple[TestClient, dict[str, str]]) -> None:
    client, admin = twin
    change = {"current": PASSWORD, "new": "a brand new secret"}
    by_token = client.post("/api/session/password", json=change, headers=admin)
    assert by_token.status_code == 403 and by_token.json()["error"] == "not_a_user"
    csrf = client.post("/api/session", json={"token": admin["Authorization"][7:]}
                       ).json()["csrf"]
    in_token_session = client.post("/api/session/password", json=change,
                                   headers={"x-csrf-token": csrf})
    assert in_token_session.status_code == 403
    assert in_token_session.json()["error"] == "not_a_user"
