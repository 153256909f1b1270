"""The embedded store: one SQLite file in WAL mode.

Readings follow the tiered layout of ``tiers``: each ingest batch is one journal row
(its readings packed), committed in the same transaction as its dead letters and events;
committed readings are also kept in memory as hot rows, and sealed into per-sensor blocks
once ``seal_rows`` have gathered. After a restart the journal is read back into memory.

``synchronous=NORMAL`` in WAL mode: a committed transaction survives a crash of the
process; add ``?synchronous=full`` to the URL to survive power loss as well.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from numpy.typing import NDArray
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import orjson

from ..errors import InvalidInput, StoreError
from ..model import Binding, Element, Event, Sensor
from ..pipeline import Batch, DeadLetter
from .base import Buckets, History, SensorAggregates, json_default
from .tiers import ROW_DTYPE, HotRows, rows_of, seal, unpack
from .summary import aggregate, bucketise, history_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS elements (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sensors (row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL,
                                    body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (sensor_id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sources (key INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
-- Committed ingest batches not yet sealed: one row per batch, the readings packed.
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY, rows BLOB NOT NULL);
-- Sealed history: one row per sensor per seal, with the summary that restarts need.
CREATE TABLE IF NOT EXISTS blocks (
    sensor INTEGER NOT NULL,
    t_start REAL NOT NULL,
    t_end REAL NOT NULL,
    count INTEGER NOT NULL,
    total REAL NOT NULL,
    total_squares REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL,
    last_value REAL,
    last_time REAL,
    last_received REAL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_sensor_time ON blocks (sensor, t_start);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    time REAL NOT NULL,
    element_id TEXT,
    source TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_element ON events (element_id, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters (reason, id);
"""

SCHEMA_VERSION = "1"
READINGS_PER_BLOCK = 32
MAX_HOT_ROWS = 4_000_000


def _dumps(value: object) -> bytes:
    return orjson.dumps(value, default=json_default, option=orjson.OPT_SERIALIZE_NUMPY)


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


class SQLiteStore:
    """A Store in one SQLite file. Thread-safe: one writer and one reader connection."""

    def __init__(self, url: str, *, seal_rows: int = 200_000) -> None:
        self.url = url
        path, options = path_of(url)
        self.seal_rows = int(options.get("seal_rows", seal_rows))
        synchronous = options.get("synchronous", "normal").upper()
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise InvalidInput(f"bad synchronous option {synchronous!r}", "bad_store_url")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._write = self._connect(path, synchronous)
            self._write.executescript(SCHEMA)
            self._write.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            self._write.commit()
            # WAL lets reads run beside the writer; an in-memory database has one connection.
            self._read = self._write if path == ":memory:" else self._connect(path, synchronous)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {url}: {exc}") from exc
        self._write_lock = threading.Lock()
        self._read_lock = self._write_lock if self._read is self._write else threading.Lock()
        self._sources: dict[str, int] = {
            name: key for key, name in self._write.execute("SELECT key, name FROM sources")
        }
        self._hot = HotRows()
        self._hot_lock = threading.Lock()
        for journal_id, packed in self._write.execute("SELECT id, rows FROM journal ORDER BY id"):
            self._hot.append(np.frombuffer(packed, dtype=ROW_DTYPE).copy(), journal_id)

    @staticmethod
    def _connect(path: str, synchronous: str) -> sqlite3.Connection:
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={synchronous}")
        # 256 MiB page cache: keeps the (sensor, time) index's hot pages in memory.
        connection.execute("PRAGMA cache_size=-262144")
        connection.execute("PRAGMA temp_store=MEMORY")
        connection.execute("PRAGMA busy_timeout=10000")
        return connection

    def close(self) -> None:
        with self._write_lock:
            if self._read is not self._write:
                self._read.close()
            self._write.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            connection = self._write
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield connection
                connection.execute("COMMIT")
            except sqlite3.Error as exc:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise StoreError(f"store write failed: {exc}") from exc
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    # -- the twin --------------------------------------------------------------------------

    def load_twin(self) -> tuple[list[Element], list[tuple[int, Sensor]], list[Binding]]:
        with self._read_lock:
            elements = [Element.from_dict(orjson.loads(body))
                        for (body,) in self._read.execute("SELECT body FROM elements")]
            sensors = [(row, Sensor.from_dict(orjson.loads(body))) for row, body in
                       self._read.execute("SELECT row, body FROM sensors ORDER BY row")]
            bindings = [Binding.from_dict(orjson.loads(body))
                        for (body,) in self._read.execute("SELECT body FROM bindings")]
        return elements, sensors, bindings

    def save_changes(
        self,
        events: Sequence[Event],
        *,
        elements: Sequence[Element] = (),
        sensors: Sequence[tuple[int, Sensor]] = (),
        bindings: Sequence[Binding] = (),
        unbound: Sequence[str] = (),
    ) -> None:
        with self._transaction() as c:
            c.executemany("INSERT OR REPLACE INTO elements VALUES (?, ?)",
                          [(e.id, _dumps(e.to_dict())) for e in elements])
            c.executemany("INSERT OR REPLACE INTO sensors VALUES (?, ?, ?)",
                          [(row, s.id, _dumps(s.to_dict())) for row, s in sensors])
            c.executemany("INSERT OR REPLACE INTO bindings VALUES (?, ?)",
                          [(b.sensor_id, _dumps(b.to_dict())) for b in bindings])
            c.executemany("DELETE FROM bindings WHERE sensor_id = ?", [(s,) for s in unbound])
            self._insert_events(c, events)

    def _insert_events(self, c: sqlite3.Connection, events: Sequence[Event]) -> None:
        for event in events:
            cursor = c.execute(
                "INSERT INTO events (kind, time, element_id, source, data) VALUES (?,?,?,?,?)",
                (event.kind, event.time, event.element_id, event.source, _dumps(event.data)))
            event.seq = cursor.lastrowid

    # -- the reading path -------------------------------------------------------------------

    def _source_key(self, c: sqlite3.Connection, name: str) -> int:
        key = self._sources.get(name)
        if key is None:
            cursor = c.execute("INSERT INTO sources (name) VALUES (?)", (name,))
            key = int(cursor.lastrowid or 0)
            self._sources[name] = key
        return key

    def commit(self, batch: Batch, dead_letters: Sequence[DeadLetter],
               events: Sequence[Event] = ()) -> None:
        with self._transaction() as c:
            rows = rows_of(batch, self._source_key(c, batch.source)) if len(batch) else None
            journal_id = 0
            if rows is not None:
                journal_id = int(c.execute("INSERT INTO journal (rows) VALUES (?)",
                                           (rows.tobytes(),)).lastrowid or 0)
            self._insert_dead_letters(c, dead_letters)
            self._insert_events(c, events)
        if rows is not None:
            with self._hot_lock:
                self._hot.append(rows, journal_id)
            if self._hot.size >= self.seal_threshold():
                self.seal()

    def seal_threshold(self) -> int:
        """Hot rows to gather before sealing. It grows with the fleet so a block holds
        several readings on average: the cost of a seal is per block, and a seal every few
        readings per sensor would make the cost per reading grow with the fleet."""
        return min(max(self.seal_rows, READINGS_PER_BLOCK * self._hot.sensor_span),
                   MAX_HOT_ROWS)

    def seal(self) -> int:
        """Move the hot rows into per-sensor blocks; returns how many readings were sealed."""
        with self._hot_lock:
            rows = self._hot.all()
            through = self._hot.last_journal_id
        if len(rows) == 0:
            return 0
        blocks = seal(rows)
        with self._transaction() as c:
            c.executemany("INSERT INTO blocks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", blocks)
            c.execute("DELETE FROM journal WHERE id <= ?", (through,))
        with self._hot_lock:
            self._hot.clear()
        return len(rows)

    def add_dead_letters(self, dead_letters: Sequence[DeadLetter]) -> None:
        with self._transaction() as c:
            self._insert_dead_letters(c, dead_letters)

    @staticmethod
    def _insert_dead_letters(c: sqlite3.Connection, dead_letters: Sequence[DeadLetter]) -> None:
        for letter in dead_letters:
            cursor = c.execute(
                "INSERT INTO dead_letters (received_at, source, reason, detail, payload) "
                "VALUES (?,?,?,?,?)",
                (letter.received_at, letter.source, letter.reason, letter.detail,
                 _payload_bytes(letter.payload)))
            letter.id = cursor.lastrowid

    # -- reads -------------------------------------------------------------------------------

    def _readings_of(self, row: int, start: float, end: float) -> NDArray[np.void]:
        with self._read_lock:
            packed = self._read.execute(
                "SELECT data FROM blocks WHERE sensor = ? AND t_start < ? AND t_end >= ?"
                " ORDER BY t_start", (row, end, start)).fetchall()
        with self._hot_lock:
            hot = self._hot.of_sensor(row)
        parts = [unpack(data) for (data,) in packed]
        if len(hot):
            parts.append(hot)
        return history_of(parts, start, end)

    def history(self, row: int, start: float, end: float, limit: int = 100_000) -> History:
        readings = self._readings_of(row, start, end)[:limit]
        return History(
            event_time=readings["event_time"].astype(np.float64),
            value=readings["value"].astype(np.float64),
            raw_value=readings["raw_value"].astype(np.float64),
            received_at=readings["received_at"].astype(np.float64),
            seq=readings["seq"].astype(np.int64),
            quality=readings["quality"].astype(np.float64),
            flags=readings["flags"].astype(np.int64),
        )

    def downsample(self, row: int, start: float, end: float, every: float) -> Buckets:
        if every <= 0:
            raise InvalidInput("bucket width must be positive", "bad_interval")
        return bucketise(self._readings_of(row, start, end), start, every)

    def aggregates(self) -> SensorAggregates:
        with self._read_lock:
            sealed = self._read.execute(
                "SELECT sensor, SUM(count), SUM(total), SUM(total_squares), MIN(minimum),"
                " MAX(maximum), MIN(t_start) FROM blocks GROUP BY sensor").fetchall()
            # SQLite returns the other columns from the row holding MAX(): the newest block.
            latest = self._read.execute(
                "SELECT sensor, last_value, MAX(last_time), last_received FROM blocks"
                " WHERE last_time IS NOT NULL GROUP BY sensor").fetchall()
        with self._hot_lock:
            hot = self._hot.all()
        return aggregate(sealed, latest, hot)

    def events(self, *, after: int = 0, element_id: str | None = None,
               limit: int = 100, kind: str | None = None) -> list[Event]:
        query = "SELECT seq, kind, time, element_id, source, data FROM events WHERE seq > ?"
        params: list[object] = [after]
        if element_id is not None:
            query += " AND element_id = ?"
            params.append(element_id)
        if kind is not None:
            query += " AND kind = ?"
            params.append(kind)
        query += " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self._read_lock:
            records = self._read.execute(query, params).fetchall()
        return [_event(r) for r in records]

    def recent_events(self, limit: int = 20, kind: str | None = None) -> list[Event]:
        where, params = ("", (limit,)) if kind is None else (" WHERE kind = ?", (kind, limit))
        with self._read_lock:
            records = self._read.execute(
                "SELECT seq, kind, time, element_id, source, data FROM events" + where +
                " ORDER BY seq DESC LIMIT ?", params).fetchall()
        return [_event(r) for r in records]

    def dead_letters(self, *, limit: int = 100, after: int = 0,
                     reason: str | None = None) -> list[DeadLetter]:
        query = ("SELECT id, received_at, source, reason, detail, payload FROM dead_letters"
                 " WHERE id > ?")
        params: list[object] = [after]
        if reason is not None:
            query += " AND reason = ?"
            params.append(reason)
        query += " ORDER BY id LIMIT ?"
        params.append(limit)
        with self._read_lock:
            records = self._read.execute(query, params).fetchall()
        return [DeadLetter(received_at, source, why, detail, _payload_value(payload), id=key)
                for key, received_at, source, why, detail, payload in records]

    def counts(self) -> dict[str, int]:
        with self._read_lock:
            c = self._read
            return {
                "elements": c.execute("SELECT COUNT(*) FROM elements").fetchone()[0],
                "sensors": c.execute("SELECT COUNT(*) FROM sensors").fetchone()[0],
                "readings": (c.execute("SELECT COALESCE(SUM(count), 0) FROM blocks").fetchone()[0]
                             + self._hot.size),
                "events": c.execute("SELECT COUNT(*) FROM events").fetchone()[0],
                "dead_letters": c.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0],
            }


def _event(record: tuple[int, str, float, str | None, str, bytes]) -> Event:
    seq, kind, time, element_id, source, data = record
    return Event(kind, time, element_id, source, orjson.loads(data), seq=seq)


def _payload_bytes(payload: object) -> bytes:
    # Raw bytes that are not JSON (an undecodable MQTT payload) are kept as they came,
    # marked so they read back as bytes.
    if isinstance(payload, bytes | bytearray):
        return b"\x00raw:" + bytes(payload)
    return _dumps(payload)


def _payload_value(stored: bytes) -> object:
    if stored.startswith(b"\x00raw:"):
        return stored[5:]
    return orjson.loads(stored)
