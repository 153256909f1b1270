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

Each connection comes back by itself after the server or the network has gone
(``postgres_link``): a write that raises ``StoreError`` has committed nothing (a COMMIT
whose answer was lost is asked about, and taken back if it happened), the caller retries,
and the first operation after the server is back works. ``health()`` shows the outage.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import psycopg
from numpy.typing import NDArray

from ..errors import StoreError
from ..model import Binding, Element, Event, Sensor
from ..model.plan_records import PlanRow
from ..model.site_events import SiteEvent
from ..pipeline import Batch, DeadLetter
from . import audit, checkpoint, event_keys, plan_rows, site_event_rows, totals
from .audit import AuditEntry, AuditQuery
from .base import SensorAggregates
from .dead_letters import (
    PruneCountdown,
    limits_of,
    open_letters,
    page_of,
    page_query,
    prune,
)
from .health import StoreHealth
from .postgres_link import Connection, Link
from .postgres_rows import InDoubt, insert_audit, insert_dead_letters, insert_events
from .postgres_schema import (
    create,
    drop_partitions_before,
    ensure_partition,
    lock_key,
    redacted,
    target_of,
)
from .problems import LoadProblem, LoadProblems
from .reads import TieredReads, aggregate_tiers, journal_rows, sequences_in
from .rows import dumps, events_of, events_query, recent_events_query, snapshot_body, twin_of
from .sealing import Sealing
from .summary import history_of
from .tiers import ROW_DTYPE, HotRows, Segment, blob, rows_of, seal, widened

log = logging.getLogger(__name__)

#: Hot rows to gather before a seal, as in the SQLite store (at least the fleet size).
SEAL_ROWS = 262_144
#: Seconds a reconnecting writer waits for its old session's lock to be released.
SCHEMA_LOCK_WAIT = 5.0

T = TypeVar("T")
Cursor = psycopg.Cursor[tuple[Any, ...]]


class PostgresStore(Sealing, TieredReads):
    """A Store in one schema of a PostgreSQL database. Thread-safe."""

    def __init__(self, url: str, *, seal_rows: int = SEAL_ROWS) -> None:
        self.url = url
        target = target_of(url)
        self.schema = target.schema
        self.seal_rows = target.seal_rows or seal_rows
        self.dead_letter_limits = limits_of(target.options)
        self._health = StoreHealth("postgresql")
        self._problems = LoadProblems()
        self._in_doubt: InDoubt | None = None
        self._seal_in_doubt: tuple[str, int] | None = None
        # Autocommit on every connection: writes are explicit transaction blocks, so a
        # connection never sits inside a transaction left open by a read.
        self._writer = Link("writer", target.conninfo, self.schema, url, self._health,
                            on_connect=self._take_schema)
        # Reads see each committed statement at once and hold no snapshot between them.
        self._reader = Link("reader", target.conninfo, self.schema, url, self._health)
        # Sealing writes a segment of several megabytes; on its own connection that
        # write runs beside ingest commits instead of holding them up.
        self._seal_link = Link("sealer", target.conninfo, self.schema, url, self._health)
        self._links = (self._writer, self._reader, self._seal_link)
        try:
            c = self._writer.connection()
            create(c, self.schema, self._problems)
            self._reader.connection()
            self._seal_link.connection()
            self._sources: dict[str, int] = {
                name: key for key, name in c.execute("SELECT key, name FROM sources")}
            self._hot = HotRows()
            unreadable: list[tuple[int, bytes]] = []
            self._position = checkpoint.newest(c.execute, "%s")
            # Journal rows up to there are in segments, kept only for a replay.
            sealed = checkpoint.sealed_through(c.execute, "%s")
            for journal_id, packed in c.execute(
                    "SELECT id, rows FROM journal WHERE id > %s ORDER BY id", (sealed,),
                    binary=True):
                rows = journal_rows(journal_id, packed, self._problems)
                if rows is None:
                    unreadable.append((journal_id, bytes(packed)))
                else:
                    self._hot.append(rows, journal_id)
            with c.transaction():
                open_letters(c.execute, "%s", self.dead_letter_limits, unreadable)
        except BaseException as exc:
            for link in self._links:
                link.close()
            if isinstance(exc, psycopg.Error):
                raise StoreError(f"cannot open {redacted(url)}: {exc}") from exc
            raise
        # The first letter after opening runs the retention pass.
        self._prune = PruneCountdown(self.dead_letter_limits)
        self._partitions: set[str] = set()
        # Lock order, everywhere: the seal lock, the write (or read) lock, the hot lock.
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._init_sealing("twinsync-pg-seal")
        self._closed = False

    def _take_schema(self, connection: Connection, again: bool) -> None:
        """Hold the schema's lock on the writer's session. On a reconnect the old session
        may still be ending on the server: wait for it a little."""
        deadline = time.monotonic() + (SCHEMA_LOCK_WAIT if again else 0.0)
        while True:
            locked = connection.execute("SELECT pg_try_advisory_lock(%s)",
                                        (lock_key(self.schema),)).fetchone()
            if locked and locked[0]:
                return
            if time.monotonic() >= deadline:
                raise StoreError(f"schema {self.schema!r} is open for writing elsewhere")
            time.sleep(0.05)

    def close(self) -> None:
        if self._closed:
            return
        # A seal under way finishes first; hot rows left are safe in the journal.
        self._join_sealer()
        with self._seal_lock, self._write_lock, self._read_lock:
            self._closed = True
            self._seal_link.close()
            self._reader.close()
            # Release the schema's lock before closing: closing ends the session only when
            # the server gets round to it, and a store reopened at once would find it held.
            if self._writer.up:
                with contextlib.suppress(psycopg.Error, StoreError):
                    self._writer.connection().execute("SELECT pg_advisory_unlock(%s)",
                                                      (lock_key(self.schema),))
            self._writer.close()

    def health(self) -> dict[str, Any]:
        """Connected when every connection is open. Asking only reports: reconnecting is
        for the next read or write, so a health probe never holds a store lock (a
        reconnect can take seconds while the server is away)."""
        report = self._health.as_dict()
        report["connected"] = all(link.up for link in self._links)
        report["in_doubt"] = self._in_doubt is not None or self._seal_in_doubt is not None
        return report

    def load_problems(self) -> list[LoadProblem]:
        return self._problems.all()

    # -- transactions that survive a lost connection -----------------------------------------

    def _write(self, work: Callable[[Cursor], InDoubt]) -> InDoubt:
        """``work`` in one transaction on the writer; the caller holds the write lock.

        Raises StoreError with nothing committed. A connection found dead before the
        transaction began is replaced and the transaction run once more: after an outage
        the first write works. If the connection goes while COMMIT is under way, the
        transaction's fate is asked of the server (``pg_xact_status``) on a new
        connection; if the server cannot say yet, the rows ``undo`` names are deleted as
        soon as it can, should the transaction turn out committed, before any other write.
        ``work`` names the rows it added (``InDoubt``) and may run twice.
        """
        self._settle_commit()
        for attempt in (1, 2):
            connection = self._writer.connection()
            xid: str | None = None
            committing = False
            try:
                with connection.transaction(), connection.cursor() as cursor:
                    row = cursor.execute("SELECT pg_current_xact_id()::text").fetchone()
                    xid = str(row[0]) if row else None
                    result = work(cursor)
                    committing = True
                return result
            except psycopg.Error as exc:
                gone = self._writer.failed(exc)
                if gone and xid is None and attempt == 1:
                    continue  # dead before anything was sent: nothing to undo
                if committing and xid is not None:
                    fate = self._fate(self._writer, xid)
                    if fate == "committed":
                        return result
                    if fate is None:
                        result.xid = xid
                        self._in_doubt = result
                raise StoreError(f"store write failed: {exc}") from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _fate(link: Link, xid: str) -> str | None:
        """'committed' or 'aborted' for a transaction, None if the server cannot say now."""
        try:
            row = link.connection().execute("SELECT pg_xact_status(%s::xid8)",
                                            (xid,)).fetchone()
        except (psycopg.Error, StoreError):
            return None
        status = row[0] if row else None
        return status if status in ("committed", "aborted") else None

    def _settle_commit(self) -> None:
        """Take back a commit reported failed that the server committed after all; the
        caller holds the write lock."""
        doubt = self._in_doubt
        if doubt is None:
            return
        fate = self._fate(self._writer, doubt.xid)
        if fate is None:
            raise StoreError("store unavailable: the outcome of an earlier commit is "
                             "not known yet")
        if fate == "committed":
            connection = self._writer.connection()
            try:
                with connection.transaction():
                    doubt.take_back(connection)
            except psycopg.Error as exc:
                self._writer.failed(exc)
                raise StoreError(f"store write failed: {exc}") from exc
            log.warning("a commit reported failed was committed; its rows are taken back")
        self._in_doubt = None

    def _settle_seal(self) -> None:
        """Drop the hot rows of a seal whose COMMIT was lost but happened; the caller
        holds the seal lock."""
        if self._seal_in_doubt is None:
            return
        xid, count = self._seal_in_doubt
        fate = self._fate(self._seal_link, xid)
        if fate is None:
            raise StoreError("store unavailable: the outcome of an earlier seal is not "
                             "known yet")
        if fate == "committed":
            with self._hot_lock:
                self._hot.drop_oldest(count)
        self._seal_in_doubt = None

    def _query(self, work: Callable[[Connection], T]) -> T:
        """A read; retried once on a new connection if the old one was gone."""
        if self._seal_in_doubt is not None:
            with self._seal_lock:
                self._settle_seal()
        with self._read_lock:
            for attempt in (1, 2):
                connection = self._reader.connection()
                try:
                    return work(connection)
                except psycopg.Error as exc:
                    if self._reader.failed(exc) and attempt == 1:
                        continue
                    raise StoreError(f"store read failed: {exc}") from exc
        raise AssertionError("unreachable")

    # -- the twin --------------------------------------------------------------------------

    def load_twin(self) -> tuple[list[Element], list[tuple[int, Sensor]], list[Binding]]:
        def read(c: Connection) -> tuple[list[Element], list[tuple[int, Sensor]],
                                         list[Binding]]:
            return twin_of(c.execute("SELECT id, body FROM elements ORDER BY id").fetchall(),
                           c.execute("SELECT row, id, body FROM sensors ORDER BY row"
                                     ).fetchall(),
                           c.execute("SELECT sensor_id, body FROM bindings ORDER BY sensor_id"
                                     ).fetchall(), self._problems)
        return self._query(read)

    def save_changes(
        self,
        events: Sequence[Event],
        *,
        elements: Sequence[Element] = (),
        sensors: Sequence[tuple[int, Sensor]] = (),
        bindings: Sequence[Binding] = (),
        unbound: Sequence[str] = (),
        revisions: Mapping[str, int] | None = None,
        audit_entries: Sequence[AuditEntry] = (),
        plan: Sequence[PlanRow] = (),
        site_events: Sequence[SiteEvent] = (),
    ) -> None:
        def work(cursor: Cursor) -> InDoubt:
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
            audit.upsert_revisions(cursor.executemany, "%s", revisions or {})
            plan_rows.upsert(cursor.executemany, "%s", plan, blob="%b")
            site_event_rows.upsert(cursor.executemany, "%s", site_events, blob="%b")
            insert_events(cursor, events)
            insert_audit(cursor, audit_entries)
            return InDoubt(event_seqs=[e.seq for e in events if e.seq is not None],
                           audit_ids=[a.id for a in audit_entries if a.id is not None])

        with self._write_lock:
            self._write(work)

    def load_plan(self) -> list[PlanRow]:
        return self._query(lambda c: plan_rows.rows_of(
            c.execute(plan_rows.SELECT, binary=True).fetchall(), self._problems))

    def load_site_events(self) -> list[SiteEvent]:
        return self._query(lambda c: site_event_rows.events_of(
            c.execute(site_event_rows.SELECT, binary=True).fetchall(), self._problems))

    def add_audit(self, entries: Sequence[AuditEntry]) -> None:
        def work(cursor: Cursor) -> InDoubt:
            insert_audit(cursor, entries)
            return InDoubt(audit_ids=[a.id for a in entries if a.id is not None])

        with self._write_lock:
            self._write(work)

    def revisions(self) -> dict[str, int]:
        return self._query(lambda c: {target: int(revision) for target, revision in
                                      c.execute("SELECT target, revision FROM revisions")})

    def audit(self, q: AuditQuery) -> list[AuditEntry]:
        sql, params = audit.query("%s", q)
        records = self._query(lambda c: c.execute(sql, params, binary=True).fetchall())
        return audit.entries_of(records, self._problems)

    # -- the reading path -------------------------------------------------------------------

    def _source_key(self, c: Cursor, name: str) -> int:
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
               events: Sequence[Event] = (), counts: Mapping[str, int] | None = None
               ) -> None:
        rows = rows_of(batch, 0) if len(batch) else None
        added = dict(counts or {})
        if dead_letters:
            added[totals.DEAD_LETTERS] = added.get(totals.DEAD_LETTERS, 0) + len(dead_letters)

        def work(cursor: Cursor) -> InDoubt:
            journal_id = None
            if rows is not None:
                rows["source"] = self._source_key(cursor, batch.source)
                cursor.execute("INSERT INTO journal (rows) VALUES (%b) RETURNING id",
                               (blob(rows),))
                journal_id = int(cursor.fetchone()[0])  # type: ignore[index]
            self._insert_dead_letters(cursor, dead_letters)
            insert_events(cursor, events)
            totals.add(cursor.execute, "%s", added)
            return InDoubt(journal_id, [d.id for d in dead_letters if d.id is not None],
                           [e.seq for e in events if e.seq is not None], added=added)

        with self._write_lock:
            try:
                written = self._write(work)
            except StoreError:
                # A source key learned in the failed transaction was rolled back with it.
                self._sources.pop(batch.source, None)
                raise
            if rows is None:
                return
            self._position = written.journal_id or self._position
            # Still under the write lock: hot rows stay in journal order, which is what
            # lets a seal drop the journal rows up to the last one it took.
            with self._hot_lock:
                self._hot.append(rows, written.journal_id or 0)
                hot = self._hot.size
        self._after_commit(hot)

    def add_dead_letters(self, dead_letters: Sequence[DeadLetter]) -> None:
        added = {totals.DEAD_LETTERS: len(dead_letters)}

        def work(cursor: Cursor) -> InDoubt:
            self._insert_dead_letters(cursor, dead_letters)
            totals.add(cursor.execute, "%s", added)
            return InDoubt(letter_ids=[d.id for d in dead_letters if d.id is not None],
                           added=added)

        with self._write_lock:
            self._write(work)

    def _insert_dead_letters(self, cursor: Cursor, dead_letters: Sequence[DeadLetter]) -> None:
        if not dead_letters:
            return
        insert_dead_letters(cursor, dead_letters, self.dead_letter_limits)
        # Counted down under the write lock; a rolled-back insert only prunes early.
        if self._prune.due(len(dead_letters)):
            prune(cursor.execute, "%s", self.dead_letter_limits, time.time())

    def _seal_once(self, background: bool) -> int:
        with self._seal_lock:
            self._settle_seal()
            with self._hot_lock:
                rows, through = self._hot.oldest()
                span = self._hot.sensor_span
            if len(rows) == 0:
                return 0
            # The sort runs without a lock: ingest commits beside it.
            segment = seal(rows, span)
            c = self._seal_link.connection()
            xid: str | None = None
            committing = False
            try:
                ensure_partition(c, self.schema, segment.t_end, self._partitions)
                # Spelled out, not a transaction block: the COMMIT must run under
                # the hot lock, the insert before it must not.
                c.execute("BEGIN")
                row = c.execute("SELECT pg_current_xact_id()::text").fetchone()
                xid = str(row[0]) if row else None
                _insert_segment(c, segment)
                checkpoint.sealed(c.execute, "%s", through)
                # Commit and forget the hot rows at once: a reader sees each reading
                # in exactly one tier.
                with self._hot_lock:
                    committing = True
                    c.execute("COMMIT")
                    self._hot.drop_oldest(len(rows))
            except BaseException as exc:
                cause = exc.__cause__ if isinstance(exc, StoreError) else exc
                if not (isinstance(cause, psycopg.Error) and self._seal_link.failed(cause)):
                    _roll_back(c)
                if committing and xid is not None:
                    fate = self._fate(self._seal_link, xid)
                    if fate == "committed":
                        with self._hot_lock:
                            self._hot.drop_oldest(len(rows))
                        return len(rows)
                    if fate is None:
                        self._seal_in_doubt = (xid, len(rows))
                if isinstance(exc, psycopg.Error):
                    raise StoreError(f"store write failed: {exc}") from exc
                raise
            return len(rows)

    def drop_history_before(self, cutoff: float) -> list[str]:
        """Drop the monthly partitions of sealed history wholly older than ``cutoff``
        (epoch seconds); returns their names. Hot and journal readings are kept."""
        with self._seal_lock:
            try:
                dropped = drop_partitions_before(self._seal_link.connection(), self.schema, cutoff)
            except psycopg.Error as exc:
                self._seal_link.failed(exc)
                raise StoreError(f"cannot drop old history: {exc}") from exc
            self._partitions.difference_update(dropped)
        return dropped

    # -- reads -------------------------------------------------------------------------------

    def _readings_of(self, row: int, start: float, end: float) -> NDArray[np.void]:
        def read(c: Connection) -> list[NDArray[np.void]]:
            with self._hot_lock:
                # Each segment's two directory entries for this sensor come with the list.
                listed = c.execute(
                    "SELECT id, t_end, substring(offsets FROM %s::int FOR 16), row_bytes "
                    "FROM segments "
                    "WHERE t_start < %s AND t_end >= %s AND span > %s ORDER BY id",
                    (row * 8 + 1, end, start, row), binary=True).fetchall()
                hot = self._hot.of_sensor(row)
            # Sealed segments never change, so their runs are read outside the hot lock.
            runs = [(segment_id, t_end, *np.frombuffer(pair, dtype="<i8").tolist(), width)
                    for segment_id, t_end, pair, width in listed]
            runs = [r for r in runs if r[3] > r[2]]
            widths = {r[0]: r[4] for r in runs}
            parts: list[NDArray[np.void]] = []
            if runs:
                fetched = c.execute(
                    "SELECT s.id, substring(s.data FROM r.first::int FOR r.size::int) "
                    "FROM segments s "
                    "JOIN unnest(%s::bigint[], %s::float8[], %s::bigint[], %s::bigint[]) "
                    "AS r(id, t_end, first, size) ON s.id = r.id AND s.t_end = r.t_end "
                    "ORDER BY s.id",
                    ([r[0] for r in runs], [r[1] for r in runs],
                     [r[2] * r[4] + 1 for r in runs], [(r[3] - r[2]) * r[4] for r in runs]),
                    binary=True).fetchall()
                parts = [widened(data, widths[segment_id]) for segment_id, data in fetched]
            if len(hot):
                parts.append(hot)
            return parts

        return history_of(self._query(read), start, end, ROW_DTYPE)

    def recent_sequences(self, segments: int = 1) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(sensor row, sequence number) of the numbered readings in the hot rows and the
        newest sealed segments: what a restarted pipeline needs to recognise readings a
        broker redelivers because their acknowledgement was lost in a crash."""
        packed = self._query(lambda c: c.execute(
            "SELECT id, data, row_bytes FROM segments ORDER BY id DESC LIMIT %s", (segments,),
            binary=True).fetchall())
        with self._hot_lock:
            hot = self._hot.all()
        return sequences_in([(i, bytes(data), int(width)) for i, data, width in packed], hot,
                            self._problems)

    def aggregates(self) -> SensorAggregates:
        def read(c: Connection) -> tuple[list[tuple[int, bytes]], NDArray[np.void], int]:
            with self._hot_lock:
                sealed = c.execute("SELECT id, summary FROM segments ORDER BY id",
                                   binary=True).fetchall()
                return [(i, bytes(b)) for i, b in sealed], self._hot.all(), self._hot.sensor_span

        sealed, hot, span = self._query(read)
        return aggregate_tiers(sealed, hot, span, self._problems)

    def events(self, *, after: int = 0, element_id: str | None = None,
               limit: int = 100, kind: str | None = None,
               newest_first: bool = False) -> list[Event]:
        query, params = events_query("%s", after, element_id, kind, limit, newest_first)
        records = self._query(lambda c: c.execute(query, params).fetchall())
        return events_of(records, self._problems)

    def keyed_event(self, element_id: str, key: str) -> Event | None:
        # A commit in doubt is settled first, as before a write: its event, found here,
        # would answer a retry "recorded already" and then be taken back (the retry lost).
        # Its fate not known yet, this raises StoreError: the retry is to be sent again.
        if self._in_doubt is not None:
            with self._write_lock:
                self._settle_commit()
        query, params = event_keys.query("%s", element_id, key)
        records = self._query(lambda c: c.execute(query, params).fetchall())
        return event_keys.first_of(records, self._problems)

    def recent_events(self, limit: int = 20, kind: str | None = None) -> list[Event]:
        query, params = recent_events_query("%s", kind, limit)
        records = self._query(lambda c: c.execute(query, params).fetchall())
        return events_of(records, self._problems)

    def dead_letters(self, *, limit: int = 100, after: int = 0,
                     reason: str | None = None) -> list[DeadLetter]:
        query, params = page_query("%s", after, reason, limit, self.dead_letter_limits)
        records = self._query(lambda c: c.execute(query, params).fetchall())
        return page_of(records, self.dead_letter_limits)

    def counts(self) -> dict[str, int]:
        def read(c: Connection) -> dict[str, int]:
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

        return self._query(read)

    # -- snapshots ----------------------------------------------------------------------------

    def totals(self) -> dict[str, int]:
        return self._query(lambda c: totals.totals_of(
            c.execute("SELECT name, value FROM totals").fetchall()))

    def save_snapshot(self, name: str, body: bytes) -> None:
        def work(cursor: Cursor) -> InDoubt:
            cursor.execute("INSERT INTO snapshots VALUES (%s, %b) "
                           "ON CONFLICT (name) DO UPDATE SET body = excluded.body", (name, body))
            return InDoubt()  # replacing a snapshot again is harmless

        with self._write_lock:
            self._write(work)

    def load_snapshot(self, name: str) -> bytes | None:
        row = self._query(lambda c: c.execute(
            "SELECT body FROM snapshots WHERE name = %s", (name,), binary=True).fetchone())
        return snapshot_body(name, row, self._problems)

    # -- the learned state's place in the journal (``checkpoint``) ---------------------------

    def position(self) -> int:
        return self._position

    def save_state(self, snapshots: Mapping[str, bytes], position: int) -> None:
        def work(cursor: Cursor) -> InDoubt:
            for name, body in snapshots.items():
                cursor.execute("INSERT INTO snapshots VALUES (%s, %b) ON CONFLICT (name) "
                               "DO UPDATE SET body = excluded.body", (name, body))
            checkpoint.saved(cursor.execute, "%s", position)
            return InDoubt()  # saving the same state again is harmless

        with self._write_lock:
            self._write(work)

    def state_position(self) -> int | None:
        return self._query(lambda c: checkpoint.mark_of(c.execute, "%s",
                                                        checkpoint.STATE_POSITION))

    def batches_after(self, position: int, limit: int = 64
                      ) -> list[tuple[int, NDArray[np.void]]]:
        found = self._query(lambda c: c.execute(
            "SELECT id, rows FROM journal WHERE id > %s ORDER BY id LIMIT %s",
            (position, limit), binary=True).fetchall())
        return [(journal_id, rows) for journal_id, packed in found
                if (rows := journal_rows(journal_id, packed, self._problems)) is not None]


def _roll_back(c: Connection) -> None:
    if c.closed or c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return
    try:
        c.execute("ROLLBACK")
    except psycopg.Error:
        log.exception("rollback after a failed seal failed")


def _insert_segment(c: Connection, segment: Segment) -> None:
    c.execute(
        "INSERT INTO segments (t_start, t_end, readings, span, summary, offsets, data,"
        " row_bytes) VALUES (%s, %s, %s, %s, %b, %b, %b, %s)",
        (segment.t_start, segment.t_end, len(segment.data), segment.span,
         blob(segment.summary), blob(segment.offsets), blob(segment.data),
         segment.data.dtype.itemsize))
