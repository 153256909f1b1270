"""One connection of the PostgreSQL store that comes back after the server has gone.

A terminated backend, a restarted server or a dropped network leaves a psycopg connection
closed for good; before, the store kept it and answered every call with an error until the
process restarted. A ``Link`` notices a connection-level failure (``failed``), drops the
connection, and the next ``connection()`` opens a new one (at most one attempt per
``RETRY_SECONDS``, so a store whose server is down answers at once instead of waiting a
connect timeout per call; ``DEFAULT_OPTIONS`` bound how long a silent server can hold a
call). ``on_connect`` runs on each new connection (the writer takes
the schema's lock there). What happened shows in the store's ``health()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from ..errors import StoreError
from .health import StoreHealth
from .postgres_schema import redacted

Connection = psycopg.Connection[tuple[Any, ...]]

#: Seconds between two attempts to reconnect one link.
RETRY_SECONDS = 0.25
#: libpq options used when the URL sets none. A server that does not answer a connect in
#: 5 s is down; TCP keepalives (and a 30 s bound on unacknowledged sends) notice a peer
#: gone without a word (a cable, a failover) in about half a minute, where the system
#: defaults would leave a commit waiting for hours.
DEFAULT_OPTIONS: dict[str, Any] = {
    "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
    "keepalives_count": 3, "tcp_user_timeout": 30_000,
}


def lost(exc: BaseException, connection: Connection | None) -> bool:
    """Whether an error means the connection itself is gone (not a statement's fault)."""
    if connection is not None and (connection.closed or connection.broken):
        return True
    return isinstance(exc, psycopg.OperationalError)


class Link:
    """A connection that reconnects after a failure. Not thread-safe: each is used under
    one of the store's locks."""

    def __init__(self, name: str, conninfo: str, schema: str, url: str,
                 health: StoreHealth,
                 on_connect: Callable[[Connection, bool], None] | None = None) -> None:
        self.name = name
        self._conninfo = conninfo
        given = conninfo_to_dict(conninfo)
        self._options = {k: v for k, v in DEFAULT_OPTIONS.items() if k not in given}
        self._schema = schema
        self._url = url
        self._health = health
        self._on_connect = on_connect
        self._connection: Connection | None = None
        self._next_attempt = 0.0
        self._opened_before = False
        self._guard = threading.Lock()  # connection() from health() beside the owner

    @property
    def up(self) -> bool:
        connection = self._connection
        return connection is not None and not connection.closed and not connection.broken

    def connection(self) -> Connection:
        """The open connection, a new one if the last failed; StoreError if the server
        cannot be reached now."""
        with self._guard:
            if self.up:
                assert self._connection is not None
                return self._connection
            now = time.monotonic()
            if now < self._next_attempt and self._opened_before:
                raise StoreError(f"store unavailable: {self._health.last_error}")
            self._next_attempt = now + RETRY_SECONDS
            self._drop()
            try:
                connection = psycopg.connect(self._conninfo, autocommit=True,
                                             **self._options)
            except psycopg.Error as exc:
                message = f"cannot connect to {redacted(self._url)}: {exc}"
                self._health.error(message, lost_connection=True)
                raise StoreError(message) from exc
            try:
                # Unqualified names mean this store's schema; pg_catalog still comes first.
                connection.execute(sql.SQL("SET search_path TO {}").format(
                    sql.Identifier(self._schema)))
                if self._on_connect is not None:
                    self._on_connect(connection, self._opened_before)
            except BaseException as exc:
                connection.close()
                if isinstance(exc, psycopg.Error):
                    message = f"cannot set up a connection to {redacted(self._url)}: {exc}"
                    self._health.error(message, lost_connection=True)
                    raise StoreError(message) from exc
                raise
            if self._opened_before:
                self._health.reconnected()
            self._health.up()
            self._opened_before = True
            self._connection = connection
            return connection

    def failed(self, exc: BaseException) -> bool:
        """Note an error met on this link; drop the connection if the error means it is
        gone, so the next use reconnects. Returns whether it was dropped."""
        with self._guard:
            gone = lost(exc, self._connection)
            self._health.error(f"{self.name}: {exc}", lost_connection=gone)
            if gone:
                self._drop()
                # A connection found dead may be retried at once: the server may be up.
                self._next_attempt = 0.0
            return gone

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        with self._guard:
            self._drop()
