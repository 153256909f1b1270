"""Tiered history: hot rows in memory, sealed per-sensor blocks in storage.

Why: an index keyed by sensor makes every stored reading land on its sensor's page of a
B-tree. With a hundred sensors a batch dirties a hundred pages; with a hundred thousand it
dirties ten thousand, and the cost per reading grows with the fleet. So a reading is made
durable by appending it to a journal (sequential pages, no per-sensor index), kept in
memory as a hot row, and only later — when enough have gathered — sorted by sensor and
sealed into one block per sensor. A seal writes one index entry per sensor, however many
readings the block holds, and the journal rows it covered are dropped.

Everything here is pure NumPy; the stores do the I/O.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..pipeline import Batch, Flag

#: One stored reading. The sensor row is kept outside a block (it is the block's key).
ROW_DTYPE = np.dtype([
    ("sensor", "<i8"),
    ("event_time", "<f8"),
    ("value", "<f8"),
    ("raw_value", "<f8"),
    ("received_at", "<f8"),
    ("seq", "<i8"),
    ("source", "<i4"),
    ("quality", "<f4"),
    ("flags", "<i4"),
])
BLOCK_DTYPE = np.dtype([(name, ROW_DTYPE.fields[name][0]) for name in ROW_DTYPE.names
                        if name != "sensor"])


def rows_of(batch: Batch, source: int) -> NDArray[np.void]:
    """A batch as stored rows."""
    n = len(batch)
    rows = np.empty(n, dtype=ROW_DTYPE)
    rows["sensor"] = batch.rows
    rows["event_time"] = batch.event_time
    rows["value"] = batch.value
    rows["raw_value"] = batch.raw_value
    rows["received_at"] = batch.received_at
    rows["seq"] = batch.seq
    rows["source"] = source
    rows["quality"] = 1.0 if batch.quality is None else batch.quality
    rows["flags"] = 0 if batch.flags is None else batch.flags
    return rows


#: Columns of a sealed block row, in the order ``seal`` returns them.
BLOCK_COLUMNS = ("sensor", "t_start", "t_end", "count", "total", "total_squares", "minimum",
                 "maximum", "last_value", "last_time", "last_received", "data")
BlockRow = tuple[int, float, float, int, float, float, float, float,
                 float | None, float | None, float | None, bytes]


def seal(rows: NDArray[np.void]) -> list[BlockRow]:
    """Sort rows by (sensor, event time) and cut them into one block per sensor.

    Vectorised over the whole seal: the only per-block Python work is slicing the packed
    bytes and building the row tuple.
    """
    if len(rows) == 0:
        return []
    ordered = rows[np.lexsort((rows["event_time"], rows["sensor"]))]
    sensors = ordered["sensor"]
    starts = np.flatnonzero(np.r_[True, sensors[1:] != sensors[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    values = ordered["value"]
    times = ordered["event_time"]
    # The newest reading that was live (not flagged late) in each block, or none.
    live_index = np.where((ordered["flags"] & Flag.LATE) == 0, np.arange(len(ordered)), -1)
    last_live = np.maximum.reduceat(live_index, starts)
    has_live = last_live >= starts
    pick = np.where(has_live, last_live, 0)
    body = np.empty(len(ordered), dtype=BLOCK_DTYPE)
    for name in BLOCK_DTYPE.names or ():
        body[name] = ordered[name]
    packed = body.tobytes()
    width = BLOCK_DTYPE.itemsize

    def optional(column: NDArray[np.float64]) -> list[float | None]:
        return [v if ok else None for v, ok in zip(column[pick].tolist(), has_live.tolist(),
                                                   strict=True)]

    return list(zip(
        sensors[starts].tolist(),
        times[starts].tolist(),
        times[ends - 1].tolist(),
        (ends - starts).tolist(),
        np.add.reduceat(values, starts).tolist(),
        np.add.reduceat(values * values, starts).tolist(),
        np.minimum.reduceat(values, starts).tolist(),
        np.maximum.reduceat(values, starts).tolist(),
        optional(values),
        optional(times),
        optional(ordered["received_at"]),
        [packed[a * width:b * width] for a, b in zip(starts.tolist(), ends.tolist(),
                                                     strict=True)],
        strict=True,
    ))


def unpack(data: bytes) -> NDArray[np.void]:
    return np.frombuffer(data, dtype=BLOCK_DTYPE)


class HotRows:
    """Readings committed to the journal but not yet sealed, in memory, oldest first.

    Appends are O(batch); a per-sensor read scans the hot rows with one vectorised mask,
    and the number of hot rows is bounded by the seal threshold.
    """

    def __init__(self) -> None:
        self._chunks: list[NDArray[np.void]] = []
        self._merged: NDArray[np.void] | None = np.empty(0, dtype=ROW_DTYPE)
        self.size = 0
        self.last_journal_id = 0
        self.sensor_span = 0
        """One more than the highest sensor row seen: a cheap bound on distinct sensors."""

    def append(self, rows: NDArray[np.void], last_journal_id: int) -> None:
        if len(rows):
            self._chunks.append(rows)
            self._merged = None
            self.size += len(rows)
            self.sensor_span = max(self.sensor_span, int(rows["sensor"].max()) + 1)
        self.last_journal_id = max(self.last_journal_id, last_journal_id)

    def all(self) -> NDArray[np.void]:
        if self._merged is None:
            self._merged = np.concatenate(self._chunks) if self._chunks else np.empty(
                0, dtype=ROW_DTYPE)
            self._chunks = [self._merged] if len(self._merged) else []
        return self._merged

    def of_sensor(self, sensor: int) -> NDArray[np.void]:
        rows = self.all()
        return rows[rows["sensor"] == sensor]

    def clear(self) -> None:
        self._chunks = []
        self._merged = np.empty(0, dtype=ROW_DTYPE)
        self.size = 0
