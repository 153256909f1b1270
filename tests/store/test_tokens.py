"""Tokens kept beside the twin, in SQLite and in PostgreSQL alike: digests only, revoking
a token ends its sessions, and a running store's lock does not keep them out."""

from __future__ import annotations

from twinsync.store import open_store
from twinsync.store.tokens import open_token_store
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
