"""The embedded store: one SQLite file in WAL mode.

Readings go in with ``executemany`` in one transaction per ingest batch. The history table
is indexed on (sensor, event_time) for per-sensor queries; that index is what limits the
insert rate, so batches are large and the page cache is big enough to keep the index's
hot pages in memory (see docs/PERFORMANCE.md).

``synchronous=NORMAL`` in WAL mode: a committed transaction survives a crash of the
process; add ``?synchronous=full`` to the URL to survive power loss as well.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import orjson

from ..errors import InvalidInput, StoreError
from ..model import Binding, Element, Event, Sensor
from ..pipeline import Batch, DeadLetter
from .base import Buckets, History, SensorAggregates, json_default

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS elements (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sensors (row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL,
                                    body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (sensor_id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sources (key INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS readings (
    sensor INTEGER NOT NULL,
    event_time REAL NOT NULL,
    value REAL NOT NULL,
    raw_value REAL NOT NULL,
    received_at REAL NOT NULL,
    seq INTEGER NOT NULL,
    source INTEGER NOT NULL,
    quality REAL NOT NULL,
    flags INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS readings_sensor_time ON readings (sensor, event_time);
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

    def __init__(self, url: str) -> None:
        self.url = url
        path, options = path_of(url)
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
        n = len(batch)
        quality = batch.quality if batch.quality is not None else np.ones(n)
        flags = batch.flags if batch.flags is not None else np.zeros(n, dtype=np.int64)
        with self._transaction() as c:
            if n:
                source = self._source_key(c, batch.source)
                c.executemany(
                    "INSERT INTO readings VALUES (?,?,?,?,?,?,?,?,?)",
                    zip(batch.rows.tolist(), batch.event_time.tolist(), batch.value.tolist(),
                        batch.raw_value.tolist(), batch.received_at.tolist(),
                        batch.seq.tolist(), [source] * n, quality.tolist(), flags.tolist(),
                        strict=True),
                )
            self._insert_dead_letters(c, dead_letters)
            self._insert_events(c, events)

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

    def history(self, row: int, start: float, end: float, limit: int = 100_000) -> History:
        with self._read_lock:
            records = self._read.execute(
                "SELECT event_time, value, raw_value, received_at, seq, quality, flags "
                "FROM readings WHERE sensor = ? AND event_time >= ? AND event_time < ? "
                "ORDER BY event_time LIMIT ?", (row, start, end, limit)).fetchall()
        columns = list(zip(*records, strict=True)) if records else [()] * 7
        return History(
            event_time=np.array(columns[0], dtype=np.float64),
            value=np.array(columns[1], dtype=np.float64),
            raw_value=np.array(columns[2], dtype=np.float64),
            received_at=np.array(columns[3], dtype=np.float64),
            seq=np.array(columns[4], dtype=np.int64),
            quality=np.array(columns[5], dtype=np.float64),
            flags=np.array(columns[6], dtype=np.int64),
        )

    def downsample(self, row: int, start: float, end: float, every: float) -> Buckets:
        if every <= 0:
            raise InvalidInput("bucket width must be positive", "bad_interval")
        with self._read_lock:
            records = self._read.execute(
                "SELECT CAST((event_time - ?) / ? AS INTEGER) AS bucket, MIN(value), MAX(value),"
                " AVG(value), COUNT(*) FROM readings"
                " WHERE sensor = ? AND event_time >= ? AND event_time < ?"
                " GROUP BY bucket ORDER BY bucket", (start, every, row, start, end)).fetchall()
        columns = list(zip(*records, strict=True)) if records else [()] * 5
        return Buckets(
            start=start + np.array(columns[0], dtype=np.float64) * every,
            minimum=np.array(columns[1], dtype=np.float64),
            maximum=np.array(columns[2], dtype=np.float64),
            mean=np.array(columns[3], dtype=np.float64),
            count=np.array(columns[4], dtype=np.int64),
        )

    def aggregates(self) -> SensorAggregates:
        with self._read_lock:
            stats = self._read.execute(
                "SELECT sensor, COUNT(*), AVG(value), SUM(value * value), MIN(value), MAX(value),"
                " MIN(event_time) FROM readings GROUP BY sensor ORDER BY sensor").fetchall()
            # SQLite returns the other columns from the row holding MAX(): the newest reading.
            # Late readings never became live, so they do not count here either.
            latest = self._read.execute(
                "SELECT sensor, value, MAX(event_time), received_at FROM readings"
                " WHERE (flags & 1) = 0 GROUP BY sensor ORDER BY sensor").fetchall()
        n = len(stats)
        s = list(zip(*stats, strict=True)) if stats else [()] * 7
        rows = np.array(s[0], dtype=np.int64)
        count = np.array(s[1], dtype=np.int64)
        mean = np.array(s[2], dtype=np.float64)
        sumsq = np.array(s[3], dtype=np.float64)
        last_value = np.full(n, np.nan)
        last_time = np.full(n, -np.inf)
        last_received = np.full(n, -np.inf)
        position = {int(r): i for i, r in enumerate(rows.tolist())}
        for sensor, value, event_time, received_at in latest:
            i = position[int(sensor)]
            last_value[i], last_time[i], last_received[i] = value, event_time, received_at
        return SensorAggregates(
            rows=rows, count=count, last_value=last_value, last_event_time=last_time,
            last_received_at=last_received, mean=mean,
            m2=np.maximum(sumsq - count * mean * mean, 0.0),
            minimum=np.array(s[4], dtype=np.float64), maximum=np.array(s[5], dtype=np.float64),
            first_event_time=np.array(s[6], dtype=np.float64),
        )

    def events(self, *, after: int = 0, element_id: str | None = None,
               limit: int = 100) -> list[Event]:
        query = "SELECT seq, kind, time, element_id, source, data FROM events WHERE seq > ?"
        params: list[object] = [after]
        if element_id is not None:
            query += " AND element_id = ?"
            params.append(element_id)
        query += " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self._read_lock:
            records = self._read.execute(query, params).fetchall()
        return [_event(r) for r in records]

    def recent_events(self, limit: int = 20) -> list[Event]:
        with self._read_lock:
            records = self._read.execute(
                "SELECT seq, kind, time, element_id, source, data FROM events"
                " ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
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
                "readings": c.execute("SELECT COUNT(*) FROM readings").fetchone()[0],
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
