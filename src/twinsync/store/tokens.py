"""Tokens and sessions kept in the twin's database, chosen by the same URL as the store.

A table ``tokens`` beside the twin's tables (SQLite file or PostgreSQL schema), opened on
a connection of its own: the twin's store admits one writing process, and tokens must be
created and revoked with ``twinsync token …`` while a server runs on the same store.
Only digests of tokens and argon2 hashes of users' passwords are stored
(``twinsync.tokens``). Creating and revoking a token writes its audit entry (``audit``)
in the same transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import orjson

from ..errors import InvalidInput, StoreError
from ..tokens import Kind, Role, TokenRecord
from . import audit
from .audit import Actor, AuditEntry

COLUMNS = ("id, name, role, digest, created_at, expires_at, revoked_at, sensors, kind, "
           "parent, password")


class TokenStore(Protocol):
    url: str

    def add(self, record: TokenRecord, entry: AuditEntry | None = None) -> None:
        """Keep a new token, user or session, and ``entry`` in the same transaction."""
        ...
    def records(self) -> list[TokenRecord]:
        """Every token and session, revoked and expired ones too."""
        ...
    def find(self, digest: bytes) -> TokenRecord | None:
        """The record of one digest (an indexed lookup), or None."""
        ...
    def find_user(self, name: str) -> TokenRecord | None:
        """The user of that name who is not removed, or None."""
        ...
    def revoke(self, token_id: str, now: float, entry: AuditEntry | None = None) -> bool:
        """Revoke a token (or a session) and the sessions opened with it, and keep
        ``entry`` in the same transaction if it was live (revoking it again records
        nothing); False if there is no such id."""
        ...
    def close(self) -> None: ...


def created(record: TokenRecord, actor: Actor, now: float) -> AuditEntry:
    """The audit entry of a new token or user (never its secret or password hash)."""
    return AuditEntry(f"create_{record.kind.value}", f"{record.kind.value}:{record.id}", actor,
                      now, None, {"id": record.id, "name": record.name,
                                  "role": record.role.value, "expires_at": record.expires_at,
                                  "sensors": list(record.sensors)})


def revoked(token_id: str, actor: Actor, now: float) -> AuditEntry:
    return AuditEntry("revoke_token", f"token:{token_id}", actor, now,
                      {"id": token_id, "revoked_at": None}, {"id": token_id, "revoked_at": now})


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


class SQLiteTokens:
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
        digest BLOB UNIQUE NOT NULL, created_at REAL NOT NULL, expires_at REAL,
        revoked_at REAL, sensors TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT,
        password TEXT)
    """

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
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the tokens of {url}: {exc}") from exc

    @contextmanager
    def _use(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection
            except sqlite3.Error as exc:
                raise StoreError(f"tokens: {exc}") from exc

    def add(self, record: TokenRecord, entry: AuditEntry | None = None) -> None:
        with self._use() as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute(f"INSERT INTO tokens ({COLUMNS}) VALUES ({', '.join('?' * 11)})",
                          _row(record))
                if entry is not None:
                    entry.id = c.execute(audit.insert_sql("?"), audit.row_of(entry)).lastrowid
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def records(self) -> list[TokenRecord]:
        with self._use() as c:
            return [_record(r) for r in c.execute(
                f"SELECT {COLUMNS} FROM tokens ORDER BY created_at, id")]

    def find(self, digest: bytes) -> TokenRecord | None:
        with self._use() as c:
            row = c.execute(f"SELECT {COLUMNS} FROM tokens WHERE digest = ?",
                            (digest,)).fetchone()
        return None if row is None else _record(row)

    def find_user(self, name: str) -> TokenRecord | None:
        with self._use() as c:
            row = c.execute(f"SELECT {COLUMNS} FROM tokens WHERE kind = 'user' AND name = ? "
                            "AND revoked_at IS NULL", (name,)).fetchone()
        return None if row is None else _record(row)

    def revoke(self, token_id: str, now: float, entry: AuditEntry | None = None) -> bool:
        with self._use() as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                # Only a live token changes and is recorded: revoking it again is no
                # change, and its entry would say it was live until now.
                changed = c.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND "
                                    "revoked_at IS NULL", (now, token_id)).rowcount > 0
                found = changed or c.execute("SELECT 1 FROM tokens WHERE id = ?",
                                             (token_id,)).fetchone() is not None
                c.execute("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) "
                          "WHERE parent = ?", (now, token_id))
                if entry is not None and changed:
                    entry.id = c.execute(audit.insert_sql("?"), audit.row_of(entry)).lastrowid
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            return found

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class PostgresTokens:
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS tokens (
        id text PRIMARY KEY, name text NOT NULL, role text NOT NULL,
        digest bytea UNIQUE NOT NULL, created_at double precision NOT NULL,
        expires_at double precision, revoked_at double precision, sensors text NOT NULL,
        kind text NOT NULL, parent text, password text)
    """

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

    def add(self, record: TokenRecord, entry: AuditEntry | None = None) -> None:
        with self._use() as c, c.transaction():
            c.execute(f"INSERT INTO tokens ({COLUMNS}) VALUES "
                      "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", _row(record))
            if entry is not None:
                entry.id = _inserted(c, entry)

    def records(self) -> list[TokenRecord]:
        with self._use() as c:
            return [_record(r) for r in c.execute(
                f"SELECT {COLUMNS} FROM tokens ORDER BY created_at, id").fetchall()]

    def find(self, digest: bytes) -> TokenRecord | None:
        with self._use() as c:
            row = c.execute(f"SELECT {COLUMNS} FROM tokens WHERE digest = %s",
                            (digest,)).fetchone()
        return None if row is None else _record(row)

    def find_user(self, name: str) -> TokenRecord | None:
        with self._use() as c:
            row = c.execute(f"SELECT {COLUMNS} FROM tokens WHERE kind = 'user' AND name = %s "
                            "AND revoked_at IS NULL", (name,)).fetchone()
        return None if row is None else _record(row)

    def revoke(self, token_id: str, now: float, entry: AuditEntry | None = None) -> bool:
        with self._use() as c, c.transaction():
            changed = c.execute("UPDATE tokens SET revoked_at = %s WHERE id = %s AND "
                                "revoked_at IS NULL", (now, token_id)).rowcount > 0
            found = changed or c.execute("SELECT 1 FROM tokens WHERE id = %s",
                                         (token_id,)).fetchone() is not None
            c.execute("UPDATE tokens SET revoked_at = COALESCE(revoked_at, %s) "
                      "WHERE parent = %s", (now, token_id))
            if entry is not None and changed:
                entry.id = _inserted(c, entry)
            return found

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def _inserted(c: Any, entry: AuditEntry) -> int:
    row = c.execute(audit.insert_sql("%s") + " RETURNING id", audit.row_of(entry)).fetchone()
    return int(row[0])
