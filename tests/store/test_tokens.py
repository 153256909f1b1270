"""Tokens kept beside the twin, in SQLite and in PostgreSQL alike: digests only, revoking
a token ends its sessions, and a running store's lock does not keep them out."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import psycopg
import pytest

from twinsync.errors import Conflict, StoreError
from twinsync.store import open_store
from twinsync.store.audit import COMMAND, Actor, AuditEntry, AuditQuery
from twinsync.store.tokens import created, open_token_store, password_changed, revoked
from twinsync.tokens import Kind, Role, new_session, new_token, new_user

from .conftest import raw


def open_store_audit(url: str) -> list[AuditEntry]:
    twin = open_store(url)
    try:
        return twin.audit(AuditQuery())
    finally:
        twin.close()


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


def test_a_live_users_name_is_taken_once(store_url: str) -> None:
    tokens = open_token_store(store_url)
    try:
        first = new_user("ana", Role.ADMIN, "long enough here", now=1.0)
        tokens.add(first, created(first, COMMAND, 1.0))
        second = new_user("ana", Role.VIEWER, "another password", now=2.0)
        with pytest.raises(Conflict, match="there is a user 'ana' already"):
            tokens.add(second, created(second, COMMAND, 2.0))
        assert [r.id for r in tokens.records()] == [first.id]
        assert tokens.verify_audit().checked == 1  # the refused one left no entry
        tokens.revoke(first.id, 3.0)
        tokens.add(second)  # a removed user's name is free again
        assert tokens.find_user("ana") == second
    finally:
        tokens.close()


def test_a_store_with_two_live_users_of_one_name_opens_and_reports_them(
        store_url: str) -> None:
    tokens = open_token_store(store_url)
    first = new_user("ana", Role.ADMIN, "long enough here", now=1.0)
    second = replace(new_user("bob", Role.VIEWER, "another password", now=2.0), name="ana")
    tokens.add(first)
    tokens.close()
    # What a store made before the rule may hold: the index is not there, two anas are.
    with raw(store_url) as c:
        c.execute("DROP INDEX tokens_user_name")
        mark = "?" if store_url.startswith("sqlite") else "%s"
        c.execute(f"INSERT INTO tokens (id, name, role, digest, created_at, sensors, kind, "
                  f"password) VALUES ({mark}, 'ana', 'viewer', {mark}, 2.0, '[]', 'user', "
                  f"{mark})", (second.id, second.digest, second.password))
    tokens = open_token_store(store_url)
    try:
        assert tokens.duplicate_users == {"ana": [first.id, second.id]}
        assert tokens.find_user("ana") is None  # nobody signs in under an ambiguous name
        tokens.revoke(second.id, 3.0)
    finally:
        tokens.close()
    tokens = open_token_store(store_url)  # the index is made once they are gone
    try:
        assert tokens.duplicate_users == {} and tokens.find_user("ana") == first
    finally:
        tokens.close()
    with raw(store_url) as c, pytest.raises((sqlite3.IntegrityError, psycopg.Error)):
        c.execute("UPDATE tokens SET revoked_at = NULL WHERE id = "
                  f"{'?' if store_url.startswith('sqlite') else '%s'}", (second.id,))


def test_a_new_password_ends_every_other_session_of_its_user(store_url: str) -> None:
    tokens = open_token_store(store_url)
    try:
        user = new_user("ana", Role.VIEWER, "long enough here", now=1.0)
        tokens.add(user)
        _, here = new_session(user, now=2.0)
        _, there = new_session(user, now=3.0)
        tokens.add(here)
        tokens.add(there)
        entry = password_changed(user, Actor("ana", "viewer", user.id), 4.0)
        assert tokens.set_password(user.id, "$argon2id$new", here.id, 4.0, entry)
        after = {r.id: r for r in tokens.records()}
        assert after[user.id].password == "$argon2id$new"
        assert after[here.id].revoked_at is None and after[there.id].revoked_at == 4.0
        assert not tokens.set_password("no-such-user", "x", None, 5.0, entry)
        assert [e.operation for e in open_store_audit(store_url)] == ["change_password"]
    finally:
        tokens.close()


def test_sessions_and_tokens_dead_past_the_grace_are_removed_and_users_stay(
        store_url: str) -> None:
    tokens = open_token_store(store_url)
    try:
        _, old = new_token("old", Role.VIEWER, now=1.0, expires_at=10.0)
        _, revoked_lately = new_token("lately", Role.VIEWER, now=1.0)
        _, live = new_token("live", Role.VIEWER, now=1.0)
        user = new_user("ana", Role.VIEWER, "long enough here", now=1.0)
        for record in (old, revoked_lately, live, user):
            tokens.add(record)
        _, old_session = new_session(old, now=2.0)  # ends with its token, at 10
        _, gone_session = new_session(live, now=2.0)  # expires at 2 + 12 h
        _, user_session = new_session(user, now=2.0)
        for record in (old_session, gone_session, user_session):
            tokens.add(record)
        tokens.revoke(revoked_lately.id, 900_000.0)
        tokens.revoke(user.id, 100.0)  # a removed user: their record stays
        assert tokens.prune(before=500_000.0) == 4  # old, its session, both expired sessions
        assert {r.name for r in tokens.records()} == {"lately", "live", "ana"}
        assert tokens.prune(before=500_000.0) == 0
    finally:
        tokens.close()
