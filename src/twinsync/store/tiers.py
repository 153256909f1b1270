"""Tiered history: hot rows in memory, sealed segments in storage.

Why: an index keyed by (sensor, time) makes every stored reading land on its sensor's page
of a B-tree. With a hundred sensors a batch dirties a hundred pages; with a hundred
thousand it dirties ten thousand, and the cost per reading grows with the fleet. So a
reading is made durable by appending its batch to a journal (sequential pages, no
per-sensor index) and kept in memory as a hot row. Once enough have gathered they are
sealed into one *segment*: the rows stably sorted by sensor (so each sensor's readings are
one contiguous run, still in arrival order), a dense directory of where each sensor's run
starts, and a per-sensor summary. A seal writes one row however many sensors it covers, so
no step costs more per reading when the fleet grows; the journal rows it covered are
dropped in the same transaction.

Runs are in arrival order, not event-time order: readers sort the few rows they return.

Everything here is pure NumPy; the stores do the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..pipeline import Batch
from .summary import summarise

_FIELDS_BEFORE_ANOMALY = [
    ("sensor", "<i8"),
    ("event_time", "<f8"),
    ("value", "<f8"),
    ("raw_value", "<f8"),
    ("received_at", "<f8"),
    ("seq", "<i8"),
    ("source", "<i4"),
    ("quality", "<f4"),
    ("flags", "<i4"),
]
#: One stored reading (64 bytes): journal rows and a segment's data are these back to back.
#: ``anomaly`` is the reading's anomaly score in [0, 1], NaN when it was not scored.
ROW_DTYPE = np.dtype([*_FIELDS_BEFORE_ANOMALY, ("anomaly", "<f4")])
#: A stored reading before anomaly scores were kept (60 bytes): SQLite schema versions 1
#: to 3, PostgreSQL schema version 1. Segments of that layout are read in place, never
#: rewritten (a segment records its ``row_bytes``); journal rows are widened on upgrade.
ROW_DTYPE_V3 = np.dtype(_FIELDS_BEFORE_ANOMALY)
#: The layouts a stored run of readings may be in, by the width of a row.
LAYOUTS = {ROW_DTYPE.itemsize: ROW_DTYPE, ROW_DTYPE_V3.itemsize: ROW_DTYPE_V3}


def widened(packed: bytes | memoryview, row_bytes: int) -> NDArray[np.void]:
    """Packed rows of any stored layout as rows of this one: a score the older layout
    does not have is NaN (not scored). Raises ``ValueError`` for an unknown width or
    bytes that are not whole rows."""
    layout = LAYOUTS.get(row_bytes)
    if layout is None:
        raise ValueError(f"{len(packed)} bytes in rows of {row_bytes} bytes, which no "
                         f"stored layout has")
    if len(packed) % row_bytes:
        raise ValueError(f"{len(packed)} bytes is not whole readings of {row_bytes} bytes")
    rows = np.frombuffer(packed, dtype=layout)
    if layout is ROW_DTYPE:
        return rows
    wide = np.empty(len(rows), dtype=ROW_DTYPE)
    for name in layout.names or ():
        wide[name] = rows[name]
    wide["anomaly"] = np.nan
    return wide


def blob(array: NDArray[Any]) -> memoryview:
    """An array's bytes as a database driver takes them (binary, no copy in Python)."""
    return array.data.cast("B")


def rows_of(batch: Batch, source: int) -> NDArray[np.void]:
    """A batch as stored rows."""
    rows = np.zeros(len(batch), dtype=ROW_DTYPE)
    rows["sensor"] = batch.rows
    rows["event_time"] = batch.event_time
    rows["value"] = batch.value
    rows["raw_value"] = batch.raw_value
    rows["received_at"] = batch.received_at
    rows["seq"] = batch.seq
    rows["source"] = source
    rows["quality"] = 1.0 if batch.quality is None else batch.quality
    if batch.flags is not None:
        rows["flags"] = batch.flags
    rows["anomaly"] = np.nan if batch.anomaly is None else batch.anomaly
    return rows


def order_by_sensor(sensors: NDArray[np.int64], span: int) -> NDArray[np.intp]:
    """A stable order of rows by sensor, in O(n) whatever the fleet size.

    NumPy's stable sort is a radix sort for 16-bit keys, so the sensor row is sorted as
    least-significant-digit radix passes of 16 bits each: one pass up to 65,536 sensors,
    two up to 4 billion. A comparison sort would cost O(n log n) and a lexsort with time
    twice that; stability keeps each sensor's rows in arrival order for free.
    """
    keys = sensors.astype(np.uint64, copy=False)
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while (span - 1) >> shift:
        digit = ((keys[order] >> np.uint64(shift)) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order


@dataclass(slots=True)
class Segment:
    """Sealed readings: ``data`` sorted by sensor; sensor ``s`` owns rows
    ``offsets[s]:offsets[s + 1]`` (a dense directory, so a reader needs two numbers)."""

    data: NDArray[np.void]
    offsets: NDArray[np.int64]
    summary: NDArray[np.void]
    t_start: float
    t_end: float

    @property
    def span(self) -> int:
        return len(self.offsets) - 1


def seal(rows: NDArray[np.void], span: int) -> Segment:
    """Sort hot rows into a segment. ``span`` is one more than the highest sensor row."""
    if len(rows) == 0:
        raise ValueError("nothing to seal")
    sensors = rows["sensor"]
    order = order_by_sensor(sensors, span)
    # np.take copies whole 64-byte records; fancy indexing of a structured array is
    # several times slower, and gathering column by column touches each row nine times.
    data = np.take(rows, order)
    counts = np.bincount(data["sensor"], minlength=span)
    offsets = np.zeros(span + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    present = np.flatnonzero(counts)
    summary = summarise(data, offsets[present], present)
    return Segment(data, offsets, summary, float(summary["t_start"].min()),
                   float(summary["t_end"].max()))


def run_of(offsets_bytes: bytes, sensor: int) -> tuple[int, int]:
    """The row range of a sensor from the two directory entries read for it."""
    first, after = np.frombuffer(offsets_bytes, dtype="<i8")
    return int(first), int(after)


class HotRows:
    """Readings committed to the journal but not yet sealed, in memory, oldest first.

    Appends are O(batch). A seal takes the oldest rows and later drops exactly those, so
    batches committed while a seal runs stay hot. A per-sensor read scans the hot rows with
    one vectorised mask; their number is bounded by the seal threshold.
    """

    def __init__(self) -> None:
        self._chunks: list[NDArray[np.void]] = []
        self._journal_ids: list[int] = []
        self.size = 0
        self.sensor_span = 0
        """One more than the highest sensor row seen: the directory size a seal needs."""

    @property
    def last_journal_id(self) -> int:
        return self._journal_ids[-1] if self._journal_ids else 0

    def append(self, rows: NDArray[np.void], journal_id: int) -> None:
        if len(rows) == 0:
            return
        self._chunks.append(rows)
        self._journal_ids.append(journal_id)
        self.size += len(rows)
        self.sensor_span = max(self.sensor_span, int(rows["sensor"].max()) + 1)

    def all(self) -> NDArray[np.void]:
        if not self._chunks:
            return np.empty(0, dtype=ROW_DTYPE)
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
            self._journal_ids = [self._journal_ids[-1]]
        return self._chunks[0]

    def oldest(self) -> tuple[NDArray[np.void], int]:
        """All rows now hot and the last journal row they came from, for a seal."""
        through = self.last_journal_id
        return self.all(), through

    def drop_oldest(self, count: int) -> None:
        """Forget the ``count`` oldest rows: they are sealed."""
        rows = self.all()[count:]
        self._chunks = [rows] if len(rows) else []
        self._journal_ids = self._journal_ids[-1:] if len(rows) else []
        self.size = len(rows)

    def of_sensor(self, sensor: int) -> NDArray[np.void]:
        rows = self.all()
        mine: NDArray[np.void] = rows[rows["sensor"] == sensor]
        return mine
