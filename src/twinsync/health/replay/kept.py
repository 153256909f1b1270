"""The readings a replay has accepted, kept just enough to recognise a repeat.

The service asks its store whether a reading its in-memory windows cannot judge was
already stored (``pipeline.repeats``); the replay keeps no store, so it asks this: every
accepted reading's sensor row, event time, sequence number and value as sent (24 bytes a
reading). Most readings are never asked about, so the log is only appended to; it is
sorted by (row, time) when first asked, and what came after is scanned until it is worth
sorting in too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...pipeline import Batch

#: Unsorted readings scanned at each look-up before they are sorted into the rest.
TAIL_SCAN = 65_536


@dataclass(slots=True)
class KeptSpan:
    seq: NDArray[np.int64]
    event_time: NDArray[np.float64]
    raw_value: NDArray[np.float64]


class KeptReadings:
    """Append-only log of accepted readings, answering ``read(row, start, end)``."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._rows = np.empty(capacity, np.int64)
        self._time = np.empty(capacity)
        self._seq = np.empty(capacity, np.int64)
        self._value = np.empty(capacity)
        self._size = 0
        self._sorted = 0
        """The first ``_sorted`` readings are in (row, time) order."""

    def __len__(self) -> int:
        return self._size

    def add(self, batch: Batch) -> None:
        n = len(batch)
        end = self._size + n
        if end > self._rows.shape[0]:
            grown = max(end, 2 * self._rows.shape[0])
            for name in ("_rows", "_time", "_seq", "_value"):
                column = getattr(self, name)
                bigger = np.empty(grown, column.dtype)
                bigger[: self._size] = column[: self._size]
                setattr(self, name, bigger)
        self._rows[self._size:end] = batch.rows
        self._time[self._size:end] = batch.event_time
        self._seq[self._size:end] = batch.seq
        self._value[self._size:end] = batch.raw_value
        self._size = end

    def read(self, row: int, start: float, end: float) -> KeptSpan:
        """Row ``row``'s readings with ``start <= event_time < end``, oldest first."""
        if self._size - self._sorted > TAIL_SCAN:
            self._sort()
        rows, times = self._rows[: self._sorted], self._time[: self._sorted]
        low = int(np.searchsorted(rows, row, "left"))
        high = int(np.searchsorted(rows, row, "right"))
        first = low + int(np.searchsorted(times[low:high], start, "left"))
        last = low + int(np.searchsorted(times[low:high], end, "left"))
        index = np.arange(first, last)
        # The row's readings first (one comparison over the tail's rows), then their times:
        # a look-up otherwise gathered and compared the whole tail's times too.
        tail = self._sorted + np.flatnonzero(self._rows[self._sorted: self._size] == row)
        tail_times = self._time[tail]
        tail = tail[(tail_times >= start) & (tail_times < end)]
        if tail.size:
            index = np.concatenate([index, tail])
            index = index[np.argsort(self._time[index], kind="stable")]
        return KeptSpan(self._seq[index], self._time[index], self._value[index])

    def _sort(self) -> None:
        n = self._size
        order = np.lexsort((self._time[:n], self._rows[:n]))
        for column in (self._rows, self._time, self._seq, self._value):
            column[:n] = column[:n][order]
        self._sorted = n
