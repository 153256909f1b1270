"""The embedded store: one SQLite file in WAL mode.

Readings follow the tiered layout of ``tiers``: each ingest batch is one journal row (its
readings packed), committed in the same transaction as its dead letters and events;
committed readings are also kept in memory as hot rows, and sealed into a segment once
enough have gathered. The seal's sorting runs in a background thread beside ingest; its
write is serialised with every other write and drops the journal rows it covered in the
same transaction. After a restart the journal is read back into memory.

``synchronous=NORMAL`` in WAL mode: a committed transaction survives a crash of the
process; add ``?synchronous=full`` to the URL to survive power loss as well.

One process per file: ``<file>.lock`` is locked (``file_lock``) for the store's life, and
a second opener is refused at once with the holder's PID. Dead letters are bounded as
``dead_letters`` says; rows that no longer decode are skipped and reported (``problems``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidInput, StoreError
from ..model import Binding, Element, Event, Sensor
from ..model.plan_records import PlanRow
from ..model.site_events import SiteEvent
from ..pipeline import Batch, DeadLetter
from . import audit, audit_chain, checkpoint, event_keys, plan_rows, site_event_rows, totals
from .audit import AuditEntry, AuditQuery
from .base import SensorAggregates
from .dead_letters import (
    PruneCountdown,
    limits_of,
    open_letters,
    page_of,
    page_query,
    prune,
    stored_row,
)
from .file_lock import FileLock
from .health import StoreHealth
from .problems import LoadProblem, LoadProblems
from .reads import TieredReads, aggregate_tiers, journal_rows, sequences_in
from .rows import (
    dumps,
    events_of,
    events_query,
    recent_events_query,
    snapshot_body,
    twin_of,
)
from .sealing import Sealing
from .sqlite_segments import (
    PART_BYTES,
    SegmentField,
    drop_unfinished_parts,
    insert_part,
    insert_segment,
    next_segment_id,
    parts_of,
)
from .sqlite_segments import SCHEMA as SEGMENT_PARTS_SCHEMA
from .summary import history_of
from .tiers import ROW_DTYPE, ROW_DTYPE_V3, HotRows, Segment, blob, rows_of, run_of, seal, widened
from .upgrades import widen_journal

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS elements (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sensors (row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL,
                                    body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (sensor_id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sources (key INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
-- Committed ingest batches, one row per batch, the readings packed: kept until sealed
-- and covered by a save of the learned state (``checkpoint``). AUTOINCREMENT: an id is
-- never used again, so ids stay in commit order when the table empties.
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, rows BLOB NOT NULL);
-- Sealed history: one row per seal. The small columns come first so a scan for the
-- segments of a time window never reads the blobs; offsets[s]..offsets[s+1] are the rows
-- of sensor s in data, read with incremental blob I/O. With part_bytes 0 summary, offsets
-- and data are the row's columns; else they are in segment_parts, in parts of that many
-- bytes (see sqlite_segments). row_bytes is the width of a reading in data: 60 for the
-- layout before anomaly scores (read in place, never rewritten), 64 since.
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    t_start REAL NOT NULL,
    t_end REAL NOT NULL,
    readings INTEGER NOT NULL,
    span INTEGER NOT NULL,
    summary BLOB NOT NULL,
    offsets BLOB NOT NULL,
    data BLOB NOT NULL,
    part_bytes INTEGER NOT NULL DEFAULT 0,
    row_bytes INTEGER NOT NULL DEFAULT 60
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    time REAL NOT NULL,
    element_id TEXT,
    source TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_element ON events (element_id, seq);
-- The newest event of a kind (the dashboard's anomaly storm, the last model import) is
-- one look-up, not a scan back through every event since (PostgreSQL has it too).
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters (reason, id);
-- State kept in memory and saved now and then (the health table): one blob per name.
CREATE TABLE IF NOT EXISTS snapshots (name TEXT PRIMARY KEY, body BLOB NOT NULL);
-- Running totals, each added to in the transaction of what it counts (store/totals.py).
CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

SCHEMA_VERSION = "6"
#: Hot rows to gather before a seal. A seal writes a directory entry per sensor of the
#: fleet, so the threshold is at least the fleet size: that work stays below one entry
#: per reading. Bigger segments mean fewer for a history read to visit.
SEAL_ROWS = 262_144
#: WAL pages (16 KiB) past which a commit checkpoints itself: only if the checkpoints after
#: seals fall behind (normally the WAL holds a seal's worth of pages or less).
FALLBACK_CHECKPOINT_PAGES = 16_384
#: Seconds a seal pauses between the parts it writes, for a waiting commit to take the lock.
PAUSE_BETWEEN_PARTS = 0.001


def path_of(url: str) -> tuple[str, dict[str, str]]:
    """``sqlite:///rel/path`` → ``rel/path``; ``sqlite:////abs/path`` → ``/abs/path``;
    ``sqlite://:memory:`` → an in-memory database."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise InvalidInput(f"not a SQLite URL: {url!r}", "bad_store_url")
    path = parts.netloc + parts.path
    if path.startswith("/"):
        path = path[1:]
    if not path:
        raise InvalidInput(f"SQLite URL names no file: {url!r}", "bad_store_url")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return path, options


class SQLiteStore(Sealing, TieredReads):
    """A Store in one SQLite file. Thread-safe: one writer and one reader connection."""

    def __init__(self, url: str, *, seal_rows: int = SEAL_ROWS,
                 part_bytes: int = PART_BYTES) -> None:
        self.url = url
        path, options = path_of(url)
        self.seal_rows = int(options.get("seal_rows", seal_rows))
        # 0 writes each segment inline in one transaction (the layout of version 2).
        self.part_bytes = int(options.get("part_bytes", part_bytes))
        if self.part_bytes < 0:
            raise InvalidInput(f"bad part_bytes option {self.part_bytes}", "bad_store_url")
        synchronous = options.get("synchronous", "normal").upper()
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise InvalidInput(f"bad synchronous option {synchronous!r}", "bad_store_url")
        self.dead_letter_limits = limits_of(options)
        self._problems = LoadProblems()
        self._health = StoreHealth("sqlite")
        self._lock: FileLock | None = None
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._lock = FileLock(Path(f"{path}.lock"), f"store {path}")
        try:
            self._open(path, synchronous)
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def _open(self, path: str, synchronous: str) -> None:
        url = self.url
        try:
            self._write = self._connect(path, synchronous)
            new = self._write.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None
            self._write.executescript(SCHEMA)
            self._write.executescript(SEGMENT_PARTS_SCHEMA)
            self._write.executescript(audit.SQLITE_SCHEMA)
            audit_chain.prepare_sqlite(self._write)
            self._write.executescript(plan_rows.SQLITE_SCHEMA)
            self._write.executescript(site_event_rows.SQLITE_SCHEMA)
            self._write.executescript(event_keys.SQLITE_SCHEMA)
            self._write.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            if new:  # nothing learned yet: every batch to come can be replayed
                checkpoint.set_mark(self._write.execute, "?", checkpoint.STATE_POSITION, 0)
            _upgrade(self._write, self._problems)
            # WAL lets reads run beside the writer; an in-memory database has one connection.
            self._read = self._write if path == ":memory:" else self._connect(path, synchronous)
            # Checkpoints (copying the WAL into the file) run after each seal on a connection
            # of their own, beside the writer, not inside whichever commit crosses SQLite's
            # 1,000-page mark: a seal writes tens of MB, and the ingest commit that then did
            # the checkpoint waited for it. The writer keeps a high mark as a safety net.
            self._checkpointer = (None if path == ":memory:"
                                  else self._connect(path, synchronous))
            self._write.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {url}: {exc}") from exc
        # Lock order, everywhere: the write (or read) lock first, then the hot lock.
        self._write_lock = threading.Lock()
        self._read_lock = self._write_lock if self._read is self._write else threading.Lock()
        self._sources: dict[str, int] = {
            name: key for key, name in self._write.execute("SELECT key, name FROM sources")
        }
        self._hot = HotRows()
        self._checkpoint_lock = threading.Lock()
        self._init_sealing("twinsync-seal")
        unreadable: list[tuple[int, bytes]] = []
        self._position = checkpoint.newest(self._write.execute, "?")
        # Journal rows up to there are in segments, kept only for a replay.
        sealed = checkpoint.sealed_through(self._write.execute, "?")
        for journal_id, packed in self._write.execute(
                "SELECT id, rows FROM journal WHERE id > ? ORDER BY id", (sealed,)):
            rows = journal_rows(journal_id, packed, self._problems)
            if rows is None:
                unreadable.append((journal_id, bytes(packed)))
            else:
                self._hot.append(rows, journal_id)
        self._prune = PruneCountdown(self.dead_letter_limits)
        with self._transaction() as c:
            open_letters(c.execute, "?", self.dead_letter_limits, unreadable)

    @staticmethod
    def _connect(path: str, synchronous: str) -> sqlite3.Connection:
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # Journal rows and segments are long blobs stored as chains of overflow pages;
        # 16 KiB pages write them at about twice the rate of the 4 KiB default. It only
        # takes effect when the file is created (before WAL mode is set).
        connection.execute("PRAGMA page_size=16384")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={synchronous}")
        # 64 MiB page cache: the events and dead-letter indexes and recent pages stay in memory.
        connection.execute("PRAGMA cache_size=-65536")
        connection.execute("PRAGMA temp_store=MEMORY")
        connection.execute("PRAGMA busy_timeout=10000")
        return connection

    def close(self) -> None:
        # A seal under way finishes first; hot rows left are safe in the journal.
        self._join_sealer()
        with self._write_lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
            if self._read is not self._write:
                self._read.close()
            self._write.close()
            if self._lock is not None:
                self._lock.release()

    def health(self) -> dict[str, Any]:
        """An embedded file is always connected; the last error is the last failed write."""
        return self._health.as_dict()

    def load_problems(self) -> list[LoadProblem]:
        return self._problems.all()

    def _checkpoint(self) -> None:
        """Copy what the WAL holds into the file without waiting for readers or the writer
        (PASSIVE); the WAL starts over once a writer finds it all copied."""
        if self._checkpointer is not None:
            with self._checkpoint_lock:
                self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, self._transaction_locked() as connection:
            yield connection

    @contextmanager
    def _transaction_locked(self) -> Iterator[sqlite3.Connection]:
        """A transaction; the caller holds the write lock."""
        connection = self._write
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            self._health.error(f"store write failed: {exc}", lost_connection=False)
            raise StoreError(f"store write failed: {exc}") from exc
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    # -- the twin --------------------------------------------------------------------------

    def load_twin(self) -> tuple[list[Element], list[tuple[int, Sensor]], list[Binding]]:
        with self._read_lock:
            c = self._read
            return twin_of(c.execute("SELECT id, body FROM elements").fetchall(),
                           c.execute("SELECT row, id, body FROM sensors ORDER BY row").fetchall(),
                           c.execute("SELECT sensor_id, body FROM bindings").fetchall(),
                           self._problems)

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
        with self._transaction() as c:
            c.executemany("INSERT OR REPLACE INTO elements VALUES (?, ?)",
                          [(e.id, dumps(e.to_dict())) for e in elements])
            c.executemany("INSERT OR REPLACE INTO sensors VALUES (?, ?, ?)",
                          [(row, s.id, dumps(s.to_dict())) for row, s in sensors])
            c.executemany("INSERT OR REPLACE INTO bindings VALUES (?, ?)",
                          [(b.sensor_id, dumps(b.to_dict())) for b in bindings])
            c.executemany("DELETE FROM bindings WHERE sensor_id = ?", [(s,) for s in unbound])
            audit.upsert_revisions(c.executemany, "?", revisions or {})
            plan_rows.upsert(c.executemany, "?", plan)
            site_event_rows.upsert(c.executemany, "?", site_events)
            self._insert_events(c, events)
            self._insert_audit(c, audit_entries)

    def load_plan(self) -> list[PlanRow]:
        with self._read_lock:
            return plan_rows.rows_of(self._read.execute(plan_rows.SELECT), self._problems)

    def load_site_events(self) -> list[SiteEvent]:
        with self._read_lock:
            return site_event_rows.events_of(self._read.execute(site_event_rows.SELECT),
                                             self._problems)

    def add_audit(self, entries: Sequence[AuditEntry]) -> None:
        with self._transaction() as c:
            self._insert_audit(c, entries)

    @staticmethod
    def _insert_audit(c: sqlite3.Connection, entries: Sequence[AuditEntry]) -> None:
        audit_chain.append(c, "?", entries)

    def revisions(self) -> dict[str, int]:
        with self._read_lock:
            return dict(self._read.execute("SELECT target, revision FROM revisions"))

    def audit(self, q: AuditQuery) -> list[AuditEntry]:
        sql, params = audit.query("?", q)
        with self._read_lock:
            records = self._read.execute(sql, params).fetchall()
        return audit.entries_of(records, self._problems)

    def _insert_events(self, c: sqlite3.Connection, events: Sequence[Event]) -> None:
        for event in events:
            cursor = c.execute(
                "INSERT INTO events (kind, time, element_id, source, data) VALUES (?,?,?,?,?)",
                (event.kind, event.time, event.element_id, event.source, dumps(event.data)))
            event.seq = cursor.lastrowid
        event_keys.insert(c.executemany, "?", events)

    # -- the reading path -------------------------------------------------------------------

    def _source_key(self, c: sqlite3.Connection, name: str) -> int:
        key = self._sources.get(name)
        if key is None:
            cursor = c.execute("INSERT INTO sources (name) VALUES (?)", (name,))
            key = int(cursor.lastrowid or 0)
            self._sources[name] = key
        return key

    def commit(self, batch: Batch, dead_letters: Sequence[DeadLetter],
               events: Sequence[Event] = (), counts: Mapping[str, int] | None = None
               ) -> None:
        rows = None
        with self._write_lock:
            with self._transaction_locked() as c:
                if len(batch):
                    rows = rows_of(batch, self._source_key(c, batch.source))
                    journal_id = int(c.execute("INSERT INTO journal (rows) VALUES (?)",
                                               (blob(rows),)).lastrowid or 0)
                self._insert_dead_letters(c, dead_letters)
                self._insert_events(c, events)
                if counts:
                    totals.add(c.execute, "?", counts)
            if rows is None:
                return
            self._position = journal_id
            # Still under the write lock: hot rows stay in journal order, which a seal
            # relies on when it drops the oldest rows and the journal rows up to an id.
            with self._hot_lock:
                self._hot.append(rows, journal_id)
                hot = self._hot.size
        self._after_commit(hot)

    def _seal_once(self, background: bool) -> int:
        with self._seal_lock:
            with self._hot_lock:
                rows, through = self._hot.oldest()
                span = self._hot.sensor_span
            if len(rows) == 0:
                return 0
            # The sort runs without a lock: ingest commits beside it.
            segment = seal(rows, span)
            segment_id = self._write_parts(segment, pause=background)
            with self._write_lock:
                c = self._write
                try:
                    c.execute("BEGIN IMMEDIATE")
                    insert_segment(c, segment_id, segment, self.part_bytes)
                    checkpoint.sealed(c.execute, "?", through)
                    # Commit and forget the hot rows at once: a reader sees each reading
                    # in exactly one tier.
                    with self._hot_lock:
                        c.execute("COMMIT")
                        self._hot.drop_oldest(len(rows))
                except BaseException as exc:
                    if c.in_transaction:
                        c.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.Error):
                        raise StoreError(f"store write failed: {exc}") from exc
                    raise
            self._checkpoint()
            return len(rows)

    def _write_parts(self, segment: Segment, *, pause: bool) -> int:
        """Write a segment's fields in parts, a transaction each, so that ingest commits
        go on between them (see ``sqlite_segments``); returns the segment's id to be.
        ``pause``: let a waiting commit in between parts (a seal in the background)."""
        with self._transaction() as c:
            drop_unfinished_parts(c)
            segment_id = next_segment_id(c)
        if self.part_bytes == 0:
            return segment_id
        for field, part, piece in parts_of(segment, self.part_bytes):
            with self._transaction() as c:
                insert_part(c, segment_id, field, part, piece)
            if pause:
                # threading.Lock is not fair: without a pause this thread would take the
                # lock back before a commit woken by its release could run. A woken thread
                # runs within microseconds; the pauses add ~25 ms to a background seal.
                time.sleep(PAUSE_BETWEEN_PARTS)
        return segment_id

    def add_dead_letters(self, dead_letters: Sequence[DeadLetter]) -> None:
        with self._transaction() as c:
            self._insert_dead_letters(c, dead_letters)

    def _insert_dead_letters(self, c: sqlite3.Connection,
                             dead_letters: Sequence[DeadLetter]) -> None:
        if not dead_letters:
            return
        for letter in dead_letters:
            cursor = c.execute(
                "INSERT INTO dead_letters (received_at, source, reason, detail, payload) "
                "VALUES (?,?,?,?,?)", stored_row(letter, self.dead_letter_limits))
            letter.id = cursor.lastrowid
        totals.add(c.execute, "?", {totals.DEAD_LETTERS: len(dead_letters)})
        # Counted down under the write lock; a rolled-back insert only prunes early.
        if self._prune.due(len(dead_letters)):
            prune(c.execute, "?", self.dead_letter_limits, time.time())

    # -- reads -------------------------------------------------------------------------------

    def _readings_of(self, row: int, start: float, end: float) -> NDArray[np.void]:
        parts: list[NDArray[np.void]] = []
        with self._read_lock:
            with self._hot_lock:
                segments = self._read.execute(
                    "SELECT id, span, part_bytes, row_bytes FROM segments"
                    " WHERE t_start < ? AND t_end >= ? ORDER BY id", (end, start)).fetchall()
                hot = self._hot.of_sensor(row)
            # Sealed segments never change, so their rows are read outside the hot lock.
            for segment_id, span, part_bytes, width in segments:
                if row >= span:
                    continue
                offsets = SegmentField(self._read, segment_id, part_bytes, "offsets")
                first, after = run_of(offsets.read(row * 8, 16), row)
                if after == first:
                    continue
                data = SegmentField(self._read, segment_id, part_bytes, "data")
                parts.append(widened(data.read(first * width, (after - first) * width),
                                     width))
        if len(hot):
            parts.append(hot)
        return history_of(parts, start, end, ROW_DTYPE)

    def _whole_fields(self, field: str, newest: int | None = None
                      ) -> list[tuple[int, bytes, int]]:
        """(segment id, one field, bytes a reading) of every segment (or of the ``newest``
        few), oldest first. The caller holds the read lock."""
        query = "SELECT id, part_bytes, row_bytes FROM segments ORDER BY id DESC"
        segments = self._read.execute(query + (" LIMIT ?" if newest is not None else ""),
                                      () if newest is None else (newest,)).fetchall()
        return [(segment_id, SegmentField(self._read, segment_id, part_bytes, field).whole(),
                 row_bytes) for segment_id, part_bytes, row_bytes in reversed(segments)]

    def recent_sequences(self, segments: int = 1) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(sensor row, sequence number) of the numbered readings in the hot rows and the
        newest sealed segments: what a restarted pipeline needs to recognise readings a
        broker redelivers because their acknowledgement was lost in a crash."""
        with self._read_lock:
            packed = self._whole_fields("data", newest=segments)
        with self._hot_lock:
            hot = self._hot.all()
        return sequences_in(packed[::-1], hot, self._problems)

    def aggregates(self) -> SensorAggregates:
        with self._read_lock, self._hot_lock:
            sealed = [(i, summary) for i, summary, _ in self._whole_fields("summary")]
            hot = self._hot.all()
            span = self._hot.sensor_span
        return aggregate_tiers(sealed, hot, span, self._problems)

    def events(self, *, after: int = 0, element_id: str | None = None,
               limit: int = 100, kind: str | None = None,
               newest_first: bool = False) -> list[Event]:
        query, params = events_query("?", after, element_id, kind, limit, newest_first)
        with self._read_lock:
            records = self._read.execute(query, params).fetchall()
        return events_of(records, self._problems)

    def keyed_event(self, element_id: str, key: str) -> Event | None:
        query, params = event_keys.query("?", element_id, key)
        with self._read_lock:
            records = self._read.execute(query, params).fetchall()
        return event_keys.first_of(records, self._problems)

    def recent_events(self, limit: int = 20, kind: str | None = None) -> list[Event]:
        query, params = recent_events_query("?", kind, limit)
        with self._read_lock:
            records = self._read.execute(query, params).fetchall()
        return events_of(records, self._problems)

    def dead_letters(self, *, limit: int = 100, after: int = 0,
                     reason: str | None = None) -> list[DeadLetter]:
        query, params = page_query("?", after, reason, limit, self.dead_letter_limits)
        with self._read_lock:
            return page_of(self._read.execute(query, params), self.dead_letter_limits)

    def _readings_count(self) -> int:
        with self._hot_lock:
            sealed = self._read.execute(
                "SELECT COALESCE(SUM(readings), 0) FROM segments").fetchone()[0]
            return int(sealed) + self._hot.size

    def counts(self) -> dict[str, int]:
        with self._read_lock:
            c = self._read
            return {
                "elements": c.execute("SELECT COUNT(*) FROM elements").fetchone()[0],
                "sensors": c.execute("SELECT COUNT(*) FROM sensors").fetchone()[0],
                "readings": self._readings_count(),
                "events": c.execute("SELECT COUNT(*) FROM events").fetchone()[0],
                "dead_letters": c.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0],
            }

    def totals(self) -> dict[str, int]:
        with self._read_lock:
            return totals.totals_of(self._read.execute("SELECT name, value FROM totals"))

    # -- snapshots ----------------------------------------------------------------------------

    def save_snapshot(self, name: str, body: bytes) -> None:
        with self._transaction() as c:
            c.execute("INSERT INTO snapshots VALUES (?, ?) "
                      "ON CONFLICT (name) DO UPDATE SET body = excluded.body", (name, body))

    def load_snapshot(self, name: str) -> bytes | None:
        with self._read_lock:
            try:
                row = self._read.execute("SELECT body FROM snapshots WHERE name = ?",
                                         (name,)).fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"store read failed: {exc}") from exc
        return snapshot_body(name, row, self._problems)

    # -- the learned state's place in the journal (``checkpoint``) ---------------------------

    def position(self) -> int:
        return self._position

    def save_state(self, snapshots: Mapping[str, bytes], position: int) -> None:
        with self._transaction() as c:
            c.executemany("INSERT INTO snapshots VALUES (?, ?) "
                          "ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                          list(snapshots.items()))
            checkpoint.saved(c.execute, "?", position)

    def state_position(self) -> int | None:
        with self._read_lock:
            return checkpoint.mark_of(self._read.execute, "?", checkpoint.STATE_POSITION)

    def batches_after(self, position: int, limit: int = 64
                      ) -> list[tuple[int, NDArray[np.void]]]:
        with self._read_lock:
            found = self._read.execute(
                "SELECT id, rows FROM journal WHERE id > ? ORDER BY id LIMIT ?",
                (position, limit)).fetchall()
        return [(journal_id, rows) for journal_id, packed in found
                if (rows := journal_rows(journal_id, packed, self._problems)) is not None]


def _upgrade(c: sqlite3.Connection, problems: LoadProblems) -> None:
    """Bring an older file to this layout in one transaction, losing nothing.

    Version 1 sealed readings into one ``blocks`` row per sensor; its readings go back
    to the journal (the next seal makes segments of them). Version 2 kept every segment's
    fields inline; those segments stay as they are, marked ``part_bytes = 0``. Versions 1
    to 3 stored readings without an anomaly score: their segments stay as they are,
    marked ``row_bytes = 60``, and read back with a score of NaN; the journal's rows (at
    most a seal's worth) are rewritten in the new layout, since a journal row does not
    say its width. Versions 1 to 4 had no index of events by key: it is filled from the
    stored events (``event_keys.fill``). Versions 1 to 5 could number a journal row
    again: the journal is rebuilt with ids that never come back (``checkpoint``); with no
    position saved, what their journal holds is not replayed.
    """
    (version,) = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if version == SCHEMA_VERSION:
        return
    if version not in ("1", "2", "3", "4", "5"):
        raise StoreError(f"store schema version {version!r} is newer than this twinsync "
                         f"({SCHEMA_VERSION})")
    c.execute("BEGIN IMMEDIATE")
    try:
        if version not in ("4", "5"):
            columns = {name for _, name, *_ in c.execute("PRAGMA table_info(segments)")}
            if "part_bytes" not in columns:
                c.execute("ALTER TABLE segments ADD COLUMN part_bytes INTEGER NOT NULL "
                          "DEFAULT 0")
            if "row_bytes" not in columns:
                c.execute("ALTER TABLE segments ADD COLUMN row_bytes INTEGER NOT NULL "
                          "DEFAULT 60")
            _journal_blocks(c)
            # Version 4's journal rows are of this layout already: a row of them may be a
            # whole number of old rows too, and must not be widened again.
            widen_journal(c.execute, "?")
        if version != "5":
            event_keys.fill(c.execute, "?", problems)
        _journal_autoincrement(c)
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))
        c.execute("COMMIT")
    except BaseException:
        c.execute("ROLLBACK")
        raise


def _journal_autoincrement(c: sqlite3.Connection) -> None:
    """Versions 1 to 5 numbered journal rows one past the largest left, so ids started
    again at 1 once a seal had emptied the table; a saved state's position
    (``checkpoint``) needs ids that never come back. The rows keep their ids."""
    c.execute("CREATE TABLE journal_v6 (id INTEGER PRIMARY KEY AUTOINCREMENT, "
              "rows BLOB NOT NULL)")
    c.execute("INSERT INTO journal_v6 (id, rows) SELECT id, rows FROM journal ORDER BY id")
    c.execute("DROP TABLE journal")
    c.execute("ALTER TABLE journal_v6 RENAME TO journal")


def _journal_blocks(c: sqlite3.Connection) -> None:
    """Version 1's per-sensor blocks back into the journal."""
    block_dtype = np.dtype([(n, ROW_DTYPE_V3[n]) for n in ROW_DTYPE_V3.names or ()
                            if n != "sensor"])
    has_blocks = c.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'blocks'").fetchone()
    if not has_blocks:
        return
    for sensor, data in c.execute("SELECT sensor, data FROM blocks ORDER BY rowid").fetchall():
        block = np.frombuffer(data, dtype=block_dtype)
        rows = np.zeros(len(block), dtype=ROW_DTYPE_V3)
        rows["sensor"] = sensor
        for name in block_dtype.names or ():
            rows[name] = block[name]
        # Below every journal row of version 1, so the journal stays in commit order.
        c.execute("INSERT INTO journal (id, rows) VALUES "
                  "((SELECT COALESCE(MIN(id), 0) - 1 FROM journal), ?)", (rows.tobytes(),))
    c.execute("DROP TABLE blocks")

