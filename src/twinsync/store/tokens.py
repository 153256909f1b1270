"""Tokens, users and sessions kept in the twin's database, chosen by the same URL as the
store, and the audit log's upkeep (verify, prune) that may run beside a server.

A table ``tokens`` beside the twin's tables (SQLite file or PostgreSQL schema), opened on
a connection of its own: the twin's store admits one writing process, and tokens must be
created and revoked with ``twinsync token …`` while a server runs on the same store.
Only digests of tokens and argon2 hashes of users' passwords are stored
(``twinsync.tokens``). Every change writes its audit entry (``audit_chain``) in the same
transaction.

A live user's name is unique (a partial unique index). A store made before that rule may
hold two live users of one name: it still opens, the index is left out and the names are
reported (``duplicate_users``, and a warning), nobody signs in under an ambiguous name,
and the index is made at the first opening after the duplicates are removed by id.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import orjson

from ..errors import Conflict, InvalidInput, StoreError
from ..tokens import Kind, Role, TokenRecord
from . import audit, audit_chain
from .audit import Actor, AuditEntry
from .audit_chain import Pruned, Verdict

log = logging.getLogger(__name__)
COLUMNS = ("id, name, role, digest, created_at, expires_at, revoked_at, sensors, kind, "
           "parent, password")
USER_INDEX = ("CREATE UNIQUE INDEX IF NOT EXISTS tokens_user_name ON tokens (name) "
              "WHERE kind = 'user' AND revoked_at IS NULL")
PRUNE_INDEX = "CREATE INDEX IF NOT EXISTS tokens_parent ON tokens (parent)"


class TokenStore(Protocol):
    url: str
    duplicate_users: dict[str, list[str]]
    """Live users who share a name (name → ids), found at opening: to remove by id."""

    def add(self, record: TokenRecord, entry: AuditEntry | None = None) -> None:
        """Keep a new token, user or session, and ``entry`` in the same transaction. A
        user whose name a live user has already is refused with ``Conflict``."""
        ...
    def records(self) -> list[TokenRecord]:
        """Every token and session, revoked and expired ones too."""
        ...
    def find(self, digest: bytes) -> TokenRecord | None:
        """The record of one digest (an indexed lookup), or None."""
        ...
    def find_user(self, name: str) -> TokenRecord | None:
        """The live user of that name, or None (also when the name is ambiguous)."""
        ...
    def revoke(self, token_id: str, now: float, entry: AuditEntry | None = None) -> bool:
        """Revoke a token (or a session) and the sessions opened with it, and keep
        ``entry`` in the same transaction if it was live (revoking it again records
        nothing); False if there is no such id."""
        ...
    def set_password(self, user_id: str, hashed: str, keep: str | None, now: float,
                     entry: AuditEntry) -> bool:
        """A live user's new password hash; every session of theirs but ``keep`` ends.
        False if there is no such live user."""
        ...
    def prune(self, before: float) -> int:
        """Remove sessions and tokens that expired or were revoked before ``before`` (a
        token with its sessions); how many rows went."""
        ...
    def verify_audit(self, expect: tuple[int, str] | None = None) -> Verdict:
        """``audit_chain.verify`` in one snapshot."""
        ...
    def prune_audit(self, before: float, actor: Actor, now: float) -> Pruned:
        """``audit_chain.prune`` and its own entry, a transaction for each batch."""
        ...
    def close(self) -> None: ...


def created(record: TokenRecord, actor: Actor, now: float) -> AuditEntry:
    """The audit entry of a new token or user (never its secret or password hash)."""
    return AuditEntry(f"create_{record.kind.value}", f"{record.kind.value}:{record.id}", actor,
                      now, None, {"id": record.id, "name": record.name,
                                  "role": record.role.value, "expires_at": record.expires_at,
                                  "sensors": list(record.sensors)})


def revoked(token_id: str, actor: Actor, now: float, *, user: bool = False) -> AuditEntry:
    """The entry of a revoked token (``revoke_token``) or a removed user (``remove_user``)."""
    return AuditEntry("remove_user" if user else "revoke_token",
                      f"{'user' if user else 'token'}:{token_id}", actor, now,
                      {"id": token_id, "revoked_at": None}, {"id": token_id, "revoked_at": now})


def password_changed(user: TokenRecord, actor: Actor, now: float) -> AuditEntry:
    """The entry of a new password: when, and by whom; never a hash."""
    return AuditEntry("change_password", f"user:{user.id}", actor, now, None,
                      {"id": user.id, "name": user.name, "password_changed_at": now})


def open_token_store(url: str) -> TokenStore:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return SQLiteTokens(url)
    if scheme in ("postgresql", "postgres"):
        return PostgresTokens(url)
    raise InvalidInput(f"unknown store URL {url!r}: use sqlite:///path or postgresql://…",
                       "bad_store_url")


def _row(record: TokenRecord) -> tuple[Any, ...]:
    return (record.id, record.name, record.role.value, record.digest, record.created_at,
            record.expires_at, record.revoked_at, orjson.dumps(list(record.sensors)).decode(),
            record.kind.value, record.parent, record.password)


def _record(row: tuple[Any, ...]) -> TokenRecord:
    token_id, name, role, digest, created, expires, revoked, sensors, kind, parent, pw = row
    return TokenRecord(token_id, name, Role(role), bytes(digest), created, expires, revoked,
                       tuple(orjson.loads(sensors)), Kind(kind), parent, pw)


def duplicate_users(c: Any) -> dict[str, list[str]]:
    rows = c.execute("SELECT name, id FROM tokens WHERE kind = 'user' AND revoked_at IS NULL "
                     "AND name IN (SELECT name FROM tokens WHERE kind = 'user' AND "
                     "revoked_at IS NULL GROUP BY name HAVING COUNT(*) > 1) "
                     "ORDER BY name, created_at").fetchall()
    found: dict[str, list[str]] = {}
    for name, user_id in rows:
        found.setdefault(name, []).append(user_id)
    return found


def _unique_users(c: Any, url: str) -> dict[str, list[str]]:
    """The unique index of live users' names, unless duplicates stand in its way (then
    reported: the store still opens, so they can be removed)."""
    duplicates = duplicate_users(c)
    if duplicates:
        listed = "; ".join(f"{name!r}: {', '.join(ids)}" for name, ids in duplicates.items())
        log.warning("the tokens of %s hold live users who share a name (%s): nobody signs "
                    "in under those names until all but one of each are removed by id "
                    "(`twinsync user remove --id ID` or DELETE /api/users/{id}); names are "
                    "unique from the next opening after that", url, listed)
    else:
        c.execute(USER_INDEX)
    c.execute(PRUNE_INDEX)
    return duplicates


class _Tokens:
    """The SQL both stores share; a store gives its placeholder and its transactions."""

    url: str
    mark: str
    duplicate_users: dict[str, list[str]]

    def _use(self) -> AbstractContextManager[Any]:
        """The connection, for one statement of its own (autocommit)."""
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Any]:
        """A write transaction: yields what has ``execute`` (and, in PostgreSQL,
        ``executemany``)."""
        raise NotImplementedError

    def _snapshot(self) -> AbstractContextManager[Any]:
        """A read transaction that sees one state of the database throughout."""
        raise NotImplementedError

    def _is_duplicate_user(self, exc: Exception) -> bool:
        return "tokens_user_name" in str(exc)

    def add(self, record: TokenRecord, entry: AuditEntry | None = None) -> None:
        m = self.mark
        try:
            with self._transaction() as c:
                if record.kind is Kind.USER and c.execute(
                        f"SELECT 1 FROM tokens WHERE kind = 'user' AND name = {m} AND "
                        "revoked_at IS NULL", (record.name,)).fetchone() is not None:
                    raise Conflict(f"there is a user {record.name!r} already")
                c.execute(f"INSERT INTO tokens ({COLUMNS}) VALUES ({', '.join([m] * 11)})",
                          _row(record))
                if entry is not None:
                    audit_chain.append(c, m, [entry])
        except StoreError as exc:
            # Two adding the same name at once: the index refuses the second.
            if self._is_duplicate_user(exc):
                raise Conflict(f"there is a user {record.name!r} already") from exc
            raise

    def records(self) -> list[TokenRecord]:
        with self._use() as c:
            return [_record(r) for r in c.execute(
                f"SELECT {COLUMNS} FROM tokens ORDER BY created_at, id").fetchall()]

    def find(self, digest: bytes) -> TokenRecord | None:
        with self._use() as c:
            row = c.execute(f"SELECT {COLUMNS} FROM tokens WHERE digest = {self.mark}",
                            (digest,)).fetchone()
        return None if row is None else _record(row)

    def find_user(self, name: str) -> TokenRecord | None:
        with self._use() as c:
            rows = c.execute(f"SELECT {COLUMNS} FROM tokens WHERE kind = 'user' AND "
                             f"name = {self.mark} AND revoked_at IS NULL LIMIT 2",
                             (name,)).fetchall()
        # Two live users of one name (a store older than the rule): neither is believed.
        return _record(rows[0]) if len(rows) == 1 else None

    def revoke(self, token_id: str, now: float, entry: AuditEntry | None = None) -> bool:
        m = self.mark
        with self._transaction() as c:
            # Only a live token changes and is recorded: revoking it again is no
            # change, and its entry would say it was live until now.
            changed = c.execute(f"UPDATE tokens SET revoked_at = {m} WHERE id = {m} AND "
                                "revoked_at IS NULL", (now, token_id)).rowcount > 0
            found = changed or c.execute(f"SELECT 1 FROM tokens WHERE id = {m}",
                                         (token_id,)).fetchone() is not None
            c.execute(f"UPDATE tokens SET revoked_at = COALESCE(revoked_at, {m}) "
                      f"WHERE parent = {m}", (now, token_id))
            if entry is not None and changed:
                audit_chain.append(c, m, [entry])
            return found

    def set_password(self, user_id: str, hashed: str, keep: str | None, now: float,
                     entry: AuditEntry) -> bool:
        m = self.mark
        with self._transaction() as c:
            if c.execute(f"UPDATE tokens SET password = {m} WHERE id = {m} AND kind = 'user' "
                         "AND revoked_at IS NULL", (hashed, user_id)).rowcount == 0:
                return False
            c.execute(f"UPDATE tokens SET revoked_at = {m} WHERE parent = {m} AND "
                      f"revoked_at IS NULL AND id <> {m}", (now, user_id, keep or ""))
            audit_chain.append(c, m, [entry])
            return True

    def prune(self, before: float) -> int:
        m = self.mark
        dead = (f"(revoked_at IS NOT NULL AND revoked_at < {m}) OR "
                f"(expires_at IS NOT NULL AND expires_at < {m})")
        with self._transaction() as c:
            # Sessions first, then tokens past the grace with any session still left of
            # them; a user stays (their record is who did what in the audit log).
            sessions = c.execute(f"DELETE FROM tokens WHERE kind = 'session' AND ({dead})",
                                 (before, before)).rowcount
            tokens = c.execute(f"DELETE FROM tokens WHERE kind = 'token' AND ({dead})",
                               (before, before)).rowcount
            orphans = c.execute("DELETE FROM tokens WHERE kind = 'session' AND parent NOT IN "
                                "(SELECT id FROM tokens)").rowcount if tokens else 0
            return int(sessions + tokens + orphans)

    def verify_audit(self, expect: tuple[int, str] | None = None) -> Verdict:
        with self._snapshot() as c:
            return audit_chain.verify(c.execute, self.mark, expect)

    def prune_audit(self, before: float, actor: Actor, now: float) -> Pruned:
        removed = 0
        while True:  # a transaction (and its entry) per batch: writers wait for one only
            with self._transaction() as c:
                step = audit_chain.prune(c.execute, self.mark, before)
                if step.removed:
                    audit_chain.append(c, self.mark,
                                       [audit_chain.pruned(step, before, actor, now)])
            removed += step.removed
            if step.removed < audit_chain.PRUNE_BATCH:
                return Pruned(removed, step.anchor_id, step.anchor_hash)


class SQLiteTokens(_Tokens):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
        digest BLOB UNIQUE NOT NULL, created_at REAL NOT NULL, expires_at REAL,
        revoked_at REAL, sensors TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT,
        password TEXT)
    """
    mark = "?"

    def __init__(self, url: str) -> None:
        from .sqlite import SQLiteStore, path_of

        self.url = url
        path, options = path_of(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            # The twin store's own pragmas: whichever opens a new file first sets its pages.
            self._connection = SQLiteStore._connect(path, options.get("synchronous", "normal"))
            self._connection.execute(self.SCHEMA)
            self._connection.executescript(audit.SQLITE_SCHEMA)
            audit_chain.prepare_sqlite(self._connection)
            self.duplicate_users = _unique_users(self._connection, url)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the tokens of {url}: {exc}") from exc

    @contextmanager
    def _use(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection
            except sqlite3.Error as exc:
                raise StoreError(f"tokens: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._use() as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        with self._use() as c:
            c.execute("BEGIN")  # in WAL mode, the first read fixes what it sees
            try:
                yield c
            finally:
                c.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class PostgresTokens(_Tokens):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS tokens (
        id text PRIMARY KEY, name text NOT NULL, role text NOT NULL,
        digest bytea UNIQUE NOT NULL, created_at double precision NOT NULL,
        expires_at double precision, revoked_at double precision, sensors text NOT NULL,
        kind text NOT NULL, parent text, password text)
    """
    mark = "%s"

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg import sql

        from .postgres_schema import lock_key, redacted, target_of

        self.url = url
        self._target = target = target_of(url)
        self._lock = threading.Lock()
        try:
            self._connection = self._connect()
            with self._connection.transaction():
                # The lock the twin store's schema creation takes: no collision with it.
                self._connection.execute("SELECT pg_advisory_xact_lock(%s)",
                                         (lock_key(target.schema) ^ 1,))
                self._connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(target.schema)))
                self._connection.execute(sql.SQL("SET search_path TO {}").format(
                    sql.Identifier(target.schema)))
                self._connection.execute(self.SCHEMA)
                self._connection.execute(audit.POSTGRES_SCHEMA)
                self._connection.execute(audit_chain.POSTGRES_CHAIN)
                audit_chain.prepare(self._connection.execute, "%s")
                self.duplicate_users = _unique_users(self._connection, redacted(url))
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the tokens of {redacted(url)}: {exc}") from exc

    def _connect(self) -> Any:
        import psycopg
        from psycopg import sql

        connection = psycopg.connect(self._target.conninfo, autocommit=True,
                                     connect_timeout=5)
        connection.execute(sql.SQL("SET search_path TO {}").format(
            sql.Identifier(self._target.schema)))
        return connection

    @contextmanager
    def _use(self) -> Iterator[Any]:
        import psycopg

        with self._lock:
            try:
                if self._connection.closed or self._connection.broken:
                    self._connection = self._connect()  # the server came back
                yield self._connection
            except psycopg.Error as exc:
                raise StoreError(f"tokens: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._use() as connection, connection.transaction(), \
                connection.cursor() as cursor:
            yield cursor

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        with self._use() as connection, connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield connection

    def close(self) -> None:
        with self._lock:
            self._connection.close()
