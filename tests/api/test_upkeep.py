"""The server's upkeep, running as the server runs: long-dead sessions and tokens are
removed, the audit log is cut to its retention and still verifies, and nothing younger
goes."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.config import Settings
from twinsync.store import open_store
from twinsync.store.audit import COMMAND, AuditEntry, AuditQuery
from twinsync.store.tokens import open_token_store
from twinsync.tokens import Role, new_session, new_token

from .conftest import bearer, seeded_store

DAY = 86_400.0


def test_the_upkeep_removes_dead_sessions_and_tokens_and_old_audit_entries(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    now = time.time()
    twin = open_store(url)  # the log's first entry is 40 days old
    twin.add_audit([AuditEntry("update_element", "element:L1-slab", COMMAND, now - 40 * DAY,
                               None, {"status": "issue"}, element_id="L1-slab")])
    twin.close()
    tokens = open_token_store(url)
    _, expired = new_token("expired", Role.VIEWER, now=now - 10 * DAY,
                           expires_at=now - 9 * DAY)
    _, live = new_token("live", Role.VIEWER, now=now - 10 * DAY)
    _, lately = new_session(live, now=now - 3600.0)
    _, long_ago = new_session(live, now=now - 5 * DAY)
    for record in (expired, live, lately, long_ago):
        tokens.add(record)
    tokens.close()
    admin = bearer(url)
    settings = Settings(store=url, audit_keep_days=30.0, token_grace_days=1.0,
                        upkeep_seconds=3600.0)
    with TestClient(create_app(settings), headers=admin) as client:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            entries = client.get("/api/audit?limit=1000").json()["entries"]
            if any(e["operation"] == "prune_audit" for e in entries):
                break
            time.sleep(0.05)
        operations = [e["operation"] for e in entries]
        assert "prune_audit" in operations
        assert all(e["time"] > now - 31 * DAY for e in entries)
        verdict = client.get("/api/audit/verify").json()
        assert verdict["ok"] and verdict["anchor_id"] > 0, verdict
    tokens = open_token_store(url)
    try:
        names = {(r.name, r.kind.value, r.created_at) for r in tokens.records()}
    finally:
        tokens.close()
    assert ("expired", "token", expired.created_at) not in names
    assert ("live", "session", long_ago.created_at) not in names
    assert ("live", "session", lately.created_at) in names
    assert ("live", "token", live.created_at) in names


def test_without_a_retention_the_audit_log_is_kept_whole(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    twin = open_store(url)
    twin.add_audit([AuditEntry("update_element", "element:L1-slab", COMMAND,
                               time.time() - 4000 * DAY, None, {"status": "issue"})])
    before = len(twin.audit(AuditQuery()))
    twin.close()
    with TestClient(create_app(Settings(store=url)), headers=bearer(url)) as client:
        time.sleep(0.3)
        entries = client.get("/api/audit?limit=1000").json()["entries"]
    assert len(entries) == before + 1  # and the token the test signed in with
    assert not any(e["operation"] == "prune_audit" for e in entries)
