"""The store at scale: PostgreSQL, through psycopg 3 (synchronous; the service calls the
store from a worker thread).

The layout is the SQLite store's tiered one (see ``tiers``): each ingest batch is one
journal row (its readings packed into ``bytea``), committed in the same transaction as its
dead letters and events; committed readings are also hot rows in memory, rebuilt from the
journal when the store opens; once enough have gathered a background thread sorts them into
one sealed segment. Segments are partitioned by month (see ``postgres_schema``).

Three connections: one for ingest and twin writes (serialised on it), one that writes
sealed segments (a seal's multi-megabyte write runs beside ingest commits, which touch
other rows), and one that reads, so charts never wait behind a commit. One store writes a
schema at a time: the writer holds a session advisory lock on the schema's name, and a
second store opened on the same schema is refused.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import psycopg
from numpy.typing import NDArray
from psycopg import sql

from ..errors import StoreError
from ..model import Binding, Element, Event, Sensor
from ..pipeline import Batch, DeadLetter
from .base import SensorAggregates
from .postgres_rows import insert_dead_letters, insert_events
from .postgres_schema import (
    Connection,
    create,
    drop_partitions_before,
    ensure_partition,
    lock_key,
    redacted,
    target_of,
)
from .reads import TieredReads, aggregate_tiers, sequences_in
from .rows import (
    dead_letters_query,
    dumps,
    event_of,
    events_query,
    payload_value,
    recent_events_query,
    twin_of,
)
from .sealing import Sealing
from .summary import history_of
from .tiers import ROW_DTYPE, HotRows, Segment, blob, rows_of, seal

log = logging.getLogger(__name__)

#: Hot rows to gather before a seal, as in the SQLite store (at least the fleet size).
SEAL_ROWS = 262_144


class PostgresStore(Sealing, TieredReads):
    """A Store in one schema of a PostgreSQL database. Thread-safe."""

    def __init__(self, url: str, *, seal_rows: int = SEAL_ROWS) -> None:
        self.url = url
        target = target_of(url)
        self.schema = target.schema
        self.seal_rows = target.seal_rows or seal_rows
        # Autocommit on every connection: writes are explicit transaction blocks, so a
        # connection never sits inside a transaction left open by a read.
        self._write = self._connect(target.conninfo)
        try:
            locked = self._write.execute("SELECT pg_try_advisory_lock(%s)",
                                         (lock_key(self.schema),)).fetchone()
            if not (locked and locked[0]):
                raise StoreError(f"schema {self.schema!r} is open for writing elsewhere")
            create(self._write, self.schema)
            # Reads see each committed statement at once and hold no snapshot between them.
            self._read = self._connect(target.conninfo)
            # Sealing writes a segment of several megabytes; on its own connection that
            # write runs beside ingest commits instead of holding them up.
            self._sealing = self._connect(target.conninfo)
            self._sources: dict[str, int] = {
                name: key for key, name in self._write.execute("SELECT key, name FROM sources")}
            self._hot = HotRows()
            for journal_id, packed in self._write.execute(
                    "SELECT id, rows FROM journal ORDER BY id", binary=True):
                self._hot.append(np.frombuffer(packed, dtype=ROW_DTYPE).copy(), journal_id)
        except BaseException as exc:
            for connection in (getattr(self, "_read", None), getattr(self, "_sealing", None),
                               self._write):
                if connection is not None:
                    connection.close()
            if isinstance(exc, psycopg.Error):
                raise StoreError(f"cannot open {redacted(url)}: {exc}") from exc
            raise
        self._partitions: set[str] = set()
        # Lock order, everywhere: the seal lock, the write (or read) lock, the hot lock.
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._init_sealing("twinsync-pg-seal")
        self._closed = False

    def _connect(self, conninfo: str) -> Connection:
        try:
            connection = psycopg.connect(conninfo, autocommit=True)
            # Unqualified names mean this store's schema; pg_catalog still comes first.
            connection.execute(sql.SQL("SET search_path TO {}").format(
                sql.Identifier(self.schema)))
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {redacted(self.url)}: {exc}") from exc
        return connection

    def close(self) -> None:
        if self._closed:
            return
        # A seal under way finishes first; hot rows left are safe in the journal.
        self._join_sealer()
        with self._seal_lock, self._write_lock, self._read_lock:
            self._closed = True
            self._sealing.close()
            self._read.close()
            # Release the schema's lock before closing: closing ends the session only when
            # the server gets round to it, and a store reopened at once would find it held.
            with contextlib.suppress(psycopg.Error):
                self._write.execute("SELECT pg_advisory_unlock(%s)", (lock_key(self.schema),))
            self._write.close()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._write_lock:
            try:
                with self._write.transaction():
                    yield self._write
            except psycopg.Error as exc:
                raise StoreError(f"store write failed: {exc}") from exc

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self._read_lock:
            try:
                yield self._read
            except psycopg.Error as exc:
                raise StoreError(f"store read failed: {exc}") from exc

    # -- the twin --------------------------------------------------------------------------

    def load_twin(self) -> tuple[list[Element], list[tuple[int, Sensor]], list[Binding]]:
        with self._reading() as c:
            return twin_of(c.execute("SELECT body FROM elements ORDER BY id"),
                           c.execute("SELECT row, body FROM sensors ORDER BY row"),
                           c.execute("SELECT body FROM bindings ORDER BY sensor_id"))

    def save_changes(
        self,
        events: Sequence[Event],
        *,
        elements: Sequence[Element] = (),
        sensors: Sequence[tuple[int, Sensor]] = (),
        bindings: Sequence[Binding] = (),
        unbound: Sequence[str] = (),
    ) -> None:
        with self._transaction() as c, c.cursor() as cursor:
            if elements:
                cursor.executemany(
                    "INSERT INTO elements VALUES (%s, %b) "
                    "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                    [(e.id, dumps(e.to_dict())) for e in elements])
            if sensors:
                # A sensor row is its identity in the history: both keys are replaced together.
                cursor.executemany("DELETE FROM sensors WHERE id = %s AND row <> %s",
                                   [(s.id, row) for row, s in sensors])
                cursor.executemany(
                    "INSERT INTO sensors VALUES (%s, %s, %b) ON CONFLICT (row) "
                    "DO UPDATE SET id = excluded.id, body = excluded.body",
                    [(row, s.id, dumps(s.to_dict())) for row, s in sensors])
            if bindings:
                cursor.executemany(
                    "INSERT INTO bindings VALUES (%s, %b) "
                    "ON CONFLICT (sensor_id) DO UPDATE SET body = excluded.body",
                    [(b.sensor_id, dumps(b.to_dict())) for b in bindings])
            if unbound:
                cursor.execute("DELETE FROM bindings WHERE sensor_id = ANY(%s)", (list(unbound),))
            insert_events(cursor, events)

    # -- the reading path -------------------------------------------------------------------

    def _source_key(self, c: Connection, name: str) -> int:
        key = self._sources.get(name)
        if key is None:
            # The name may be there already if this transaction's twin rolled back before.
            row = c.execute("INSERT INTO sources (name) VALUES (%s) ON CONFLICT (name) "
                            "DO UPDATE SET name = excluded.name RETURNING key",
                            (name,)).fetchone()
            key = int(row[0]) if row else 0
            self._sources[name] = key
        return key

    def commit(self, batch: Batch, dead_letters: Sequence[DeadLetter],
               events: Sequence[Event] = ()) -> None:
        rows = rows_of(batch, 0) if len(batch) else None
        with self._write_lock:
            try:
                with self._write.transaction(), self._write.cursor() as cursor:
                    if rows is not None:
                        rows["source"] = self._source_key(self._write, batch.source)
                        cursor.execute("INSERT INTO journal (rows) VALUES (%b) RETURNING id",
                                       (blob(rows),))
                        journal_id = int(cursor.fetchone()[0])  # type: ignore[index]
                    insert_dead_letters(cursor, dead_letters)
                    insert_events(cursor, events)
            except psycopg.Error as exc:
                # A source key learned in the failed transaction was rolled back with it.
                self._sources.pop(batch.source, None)
                raise StoreError(f"store write failed: {exc}") from exc
            if rows is None:
                return
            # Still under the write lock: hot rows stay in journal order, which is what
            # lets a seal drop the journal rows up to the last one it took.
            with self._hot_lock:
                self._hot.append(rows, journal_id)
                hot = self._hot.size
        self._after_commit(hot)

    def add_dead_letters(self, dead_letters: Sequence[DeadLetter]) -> None:
        with self._transaction() as c, c.cursor() as cursor:
            insert_dead_letters(cursor, dead_letters)

    def _seal_once(self, background: bool) -> int:
        with self._seal_lock:
            with self._hot_lock:
                rows, through = self._hot.oldest()
                span = self._hot.sensor_span
            if len(rows) == 0:
                return 0
            # The sort runs without a lock: ingest commits beside it.
            segment = seal(rows, span)
            c = self._sealing
            try:
                ensure_partition(c, self.schema, segment.t_end, self._partitions)
                # Spelled out, not a transaction block: the COMMIT must run under
                # the hot lock, the insert before it must not.
                c.execute("BEGIN")
                _insert_segment(c, segment)
                c.execute("DELETE FROM journal WHERE id <= %s", (through,))
                # Commit and forget the hot rows at once: a reader sees each reading
                # in exactly one tier.
                with self._hot_lock:
                    c.execute("COMMIT")
                    self._hot.drop_oldest(len(rows))
            except BaseException as exc:
                _roll_back(c)
                if isinstance(exc, psycopg.Error):
                    raise StoreError(f"store write failed: {exc}") from exc
                raise
            return len(rows)

    def drop_history_before(self, cutoff: float) -> list[str]:
        """Drop the monthly partitions of sealed history wholly older than ``cutoff``
        (epoch seconds); returns their names. Hot and journal readings are kept."""
        with self._seal_lock:
            try:
                dropped = drop_partitions_before(self._sealing, self.schema, cutoff)
            except psycopg.Error as exc:
                raise StoreError(f"cannot drop old history: {exc}") from exc
            self._partitions.difference_update(dropped)
        return dropped

    # -- reads -------------------------------------------------------------------------------

    def _readings_of(self, row: int, start: float, end: float) -> NDArray[np.void]:
        width = ROW_DTYPE.itemsize
        with self._reading() as c:
            with self._hot_lock:
                # Each segment's two directory entries for this sensor come with the list.
                listed = c.execute(
                    "SELECT id, t_end, substring(offsets FROM %s::int FOR 16) FROM segments "
                    "WHERE t_start < %s AND t_end >= %s AND span > %s ORDER BY id",
                    (row * 8 + 1, end, start, row), binary=True).fetchall()
                hot = self._hot.of_sensor(row)
            # Sealed segments never change, so their runs are read outside the hot lock.
            runs = [(segment_id, t_end, *np.frombuffer(pair, dtype="<i8").tolist())
                    for segment_id, t_end, pair in listed]
            runs = [r for r in runs if r[3] > r[2]]
            parts: list[NDArray[np.void]] = []
            if runs:
                fetched = c.execute(
                    "SELECT s.id, substring(s.data FROM r.first::int FOR r.size::int) "
                    "FROM segments s "
                    "JOIN unnest(%s::bigint[], %s::float8[], %s::bigint[], %s::bigint[]) "
                    "AS r(id, t_end, first, size) ON s.id = r.id AND s.t_end = r.t_end "
                    "ORDER BY s.id",
                    ([r[0] for r in runs], [r[1] for r in runs],
                     [r[2] * width + 1 for r in runs], [(r[3] - r[2]) * width for r in runs]),
                    binary=True).fetchall()
                parts = [np.frombuffer(data, dtype=ROW_DTYPE) for _, data in fetched]
        if len(hot):
            parts.append(hot)
        return history_of(parts, start, end, ROW_DTYPE)

    def recent_sequences(self, segments: int = 1) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(sensor row, sequence number) of the numbered readings in the hot rows and the
        newest sealed segments: what a restarted pipeline needs to recognise readings a
        broker redelivers because their acknowledgement was lost in a crash."""
        with self._reading() as c:
            packed = c.execute("SELECT data FROM segments ORDER BY id DESC LIMIT %s",
                               (segments,), binary=True).fetchall()
        with self._hot_lock:
            hot = self._hot.all()
        return sequences_in([data for (data,) in packed], hot)

    def aggregates(self) -> SensorAggregates:
        with self._reading() as c, self._hot_lock:
            sealed = c.execute("SELECT summary FROM segments ORDER BY id",
                               binary=True).fetchall()
            hot = self._hot.all()
            span = self._hot.sensor_span
        return aggregate_tiers([summary for (summary,) in sealed], hot, span)

    def events(self, *, after: int = 0, element_id: str | None = None,
               limit: int = 100, kind: str | None = None) -> list[Event]:
        query, params = events_query("%s", after, element_id, kind, limit)
        with self._reading() as c:
            records = c.execute(query, params).fetchall()
        return [event_of(r) for r in records]

    def recent_events(self, limit: int = 20, kind: str | None = None) -> list[Event]:
        query, params = recent_events_query("%s", kind, limit)
        with self._reading() as c:
            records = c.execute(query, params).fetchall()
        return [event_of(r) for r in records]

    def dead_letters(self, *, limit: int = 100, after: int = 0,
                     reason: str | None = None) -> list[DeadLetter]:
        query, params = dead_letters_query("%s", after, reason, limit)
        with self._reading() as c:
            records = c.execute(query, params).fetchall()
        return [DeadLetter(received_at, source, why, detail, payload_value(payload), id=key)
                for key, received_at, source, why, detail, payload in records]

    def counts(self) -> dict[str, int]:
        with self._reading() as c:
            with self._hot_lock:
                (sealed,) = c.execute(
                    "SELECT COALESCE(SUM(readings), 0) FROM segments").fetchone() or (0,)
                hot = self._hot.size
            (elements, sensors, events, letters) = c.execute(
                "SELECT (SELECT COUNT(*) FROM elements), (SELECT COUNT(*) FROM sensors), "
                "(SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM dead_letters)"
            ).fetchone() or (0, 0, 0, 0)
        return {"elements": int(elements), "sensors": int(sensors),
                "readings": int(sealed) + hot, "events": int(events),
                "dead_letters": int(letters)}

    # -- snapshots ----------------------------------------------------------------------------

    def save_snapshot(self, name: str, body: bytes) -> None:
        with self._transaction() as c:
            c.execute("INSERT INTO snapshots VALUES (%s, %b) "
                      "ON CONFLICT (name) DO UPDATE SET body = excluded.body", (name, body))

    def load_snapshot(self, name: str) -> bytes | None:
        with self._reading() as c:
            row = c.execute("SELECT body FROM snapshots WHERE name = %s", (name,),
                            binary=True).fetchone()
        return None if row is None else bytes(row[0])


def _roll_back(c: Connection) -> None:
    if c.closed or c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return
    try:
        c.execute("ROLLBACK")
    except psycopg.Error:
        log.exception("rollback after a failed seal failed")


def _insert_segment(c: Connection, segment: Segment) -> None:
    c.execute(
        "INSERT INTO segments (t_start, t_end, readings, span, summary, offsets, data)"
        " VALUES (%s, %s, %s, %s, %b, %b, %b)",
        (segment.t_start, segment.t_end, len(segment.data), segment.span,
         blob(segment.summary), blob(segment.offsets), blob(segment.data)))
