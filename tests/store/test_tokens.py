"""Tokens kept beside the twin, in SQLite and in PostgreSQL alike: digests only, revoking
a token ends its sessions, and a running store's lock does not keep them out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from twinsync.errors import StoreError
from twinsync.store import open_store
from twinsync.store.audit import Actor, AuditQuery
from twinsync.store.tokens import created, open_token_store, revoked
from twinsync.tokens import Kind, Role, new_session, new_token, new_user


def test_tokens_are_kept_listed_found_and_revoked_with_their_sessions(store_url: str) -> None:
    # The twin's store is open for writing (and holds its lock) all along, as a server's.
    twin = open_store(store_url)
    tokens = open_token_store(store_url)
    try:
        secret, device = new_token("gateway", Role.DEVICE, now=100.0, expires_at=1e10,
                                   sensors=("L1-*", "WEATHER-T"))
        _, viewer = new_token("tablet", Role.VIEWER, now=101.0)
        tokens.add(device)
        tokens.add(viewer)
        _, session = new_session(device, now=102.0)
        tokens.add(session)
        assert tokens.records() == [device, viewer, session]
        assert tokens.find(device.digest) == device
        assert tokens.find(b"\0" * 32) is None
        assert secret not in str(tokens.records())
        assert tokens.revoke(device.id, 200.0)
        assert not tokens.revoke("no-such-id", 200.0)
        after = {r.id: r for r in tokens.records()}
        assert after[device.id].revoked_at == 200.0
        assert after[session.id].revoked_at == 200.0 and after[session.id].kind is Kind.SESSION
        assert after[viewer.id].revoked_at is None
        tokens.close()
        again = open_token_store(store_url)  # they outlive the connection
        assert [r.id for r in again.records()] == [device.id, viewer.id, session.id]
        again.close()
    finally:
        twin.close()


def test_a_user_is_found_by_name_until_removed(store_url: str) -> None:
    tokens = open_token_store(store_url)
    try:
        user = new_user("ana", Role.ADMIN, "long enough here", now=1.0)
        tokens.add(user)
        found = tokens.find_user("ana")
        assert found == user and found.password is not None
        assert found.password.startswith("$argon2id$") and "long enough" not in found.password
        assert tokens.find_user("bob") is None
        tokens.revoke(user.id, 2.0)
        assert tokens.find_user("ana") is None
    finally:
        tokens.close()


def test_a_token_change_and_its_audit_entry_commit_together_or_not_at_all(
        store_url: str) -> None:
    admin = Actor("ops", "admin", "a0")
    twin = open_store(store_url)
    tokens = open_token_store(store_url)
    try:
        _, gateway = new_token("gateway", Role.VIEWER, now=100.0)
        tokens.add(gateway, created(gateway, admin, 100.0))
        # A second record with the same digest breaks the table's rule: the insert fails,
        # and the entry written before it in the transaction goes with it.
        clash = replace(gateway, id="another-id", name="clash")
        with pytest.raises(StoreError):
            tokens.add(clash, created(clash, admin, 101.0))
        assert tokens.revoke(gateway.id, 102.0, revoked(gateway.id, admin, 102.0))
        # Revoking it again finds it but changes nothing, and records nothing.
        assert tokens.revoke(gateway.id, 104.0, revoked(gateway.id, admin, 104.0))
        assert tokens.records()[0].revoked_at == 102.0
        # Nor does revoking what does not exist.
        assert not tokens.revoke("no-such-id", 103.0, revoked("no-such-id", admin, 103.0))
        entries = twin.audit(AuditQuery())
        assert [(e.operation, e.target, e.actor) for e in entries] == [
            ("create_token", f"token:{gateway.id}", admin),
            ("revoke_token", f"token:{gateway.id}", admin)]
        assert entries[0].after == {"id": gateway.id, "name": "gateway", "role": "viewer",
                                    "expires_at": None, "sensors": []}
        assert [r.id for r in tokens.records()] == [gateway.id]
    finally:
        tokens.close()
        twin.close()
