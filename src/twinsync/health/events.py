"""Declared site events: spans in which a sensor's peers are known not to be one process.

A pour's hydration heat reaches each sensor of a slab by its own depth and for days; a load
step loads each gauge of a column by its own share while it ramps. Within such a span a
sensor's residual against its peers' consensus says little about the sensor, and the drift
check (which charts that residual) neither moves nor judges its chart (what it learns in a
sensor's first days it learns on), and a run of repeated values is judged by the sensor's
own history of repeats, not by how far the peers moved; spikes, noise and
stuck are judged as always (a sensor that freezes during a pour is still stuck). Outside
any span nothing changes.

Events are declared through the twin (``POST /api/site-events``) or to the replay
(``--events``) and reach the monitor as spans per sensor row (``HealthMonitor.set_events``).
Each row's table columns ``event_start``/``event_end`` hold the span that concerns its
readings now: before a batch, each of its rows that has spans gets the first span not over
by its own earliest reading in the batch (so one batch spanning the end of one span and
the start of the next sees the first only; batches are seconds long).

>>> events = DeclaredEvents()
>>> events.set(np.array([3, 3]), np.array([100.0, 500.0]), np.array([200.0, 600.0]))
>>> start, end = np.full(4, np.nan), np.full(4, np.nan)
>>> events.apply(np.array([3, 1]), np.array([300.0, 300.0]), start, end)
>>> float(start[3]), float(end[3]), bool(np.isnan(start[1]))
(500.0, 600.0, True)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DeclaredEvents"]

#: Up to this many readings ``apply`` loops over them in Python (``apply_few``): NumPy's
#: sorts and searches cost microseconds each whatever the size. Measured on 40 spans over
#: 60 rows, batches of readings of those rows, 2 shared cores under load 7.8: 1 µs (loop)
#: against 42 µs (NumPy) at 2 readings, 13 µs against 40 µs at 64; the loop grows by about
#: 0.2 µs a reading, so the two would meet at some two hundred.
FEW = 64


class DeclaredEvents:
    """Spans ``[start, end]`` (epoch seconds) per sensor row, as last set."""

    def __init__(self) -> None:
        self._rows = np.empty(0, dtype=np.int64)
        self._starts = np.empty(0)
        self._ends = np.empty(0)
        # Which rows have a span, by row: the test every batch makes (``np.isin`` on a
        # batch of one reading cost more than the rest of this method).
        self._has_span = np.zeros(0, dtype=np.bool_)
        # The same spans as Python numbers, by row, for ``apply_few``.
        self._spans_of: dict[int, list[tuple[float, float]]] = {}

    def __len__(self) -> int:
        return int(self._rows.size)

    def set(self, rows: ArrayLike, starts: ArrayLike, ends: ArrayLike) -> None:
        """Replace every span with these (one per row and span; a row may have several)."""
        rows_ = np.asarray(rows, dtype=np.int64).ravel()
        starts_ = np.asarray(starts, dtype=np.float64).ravel()
        ends_ = np.asarray(ends, dtype=np.float64).ravel()
        if not rows_.size == starts_.size == ends_.size:
            raise ValueError("one start and one end for each row")
        if rows_.size and (rows_.min() < 0 or not np.all(np.isfinite(starts_))
                           or not np.all(ends_ >= starts_)):
            raise ValueError("spans need a row, a finite start and an end not before it")
        order = np.lexsort((starts_, rows_))
        self._rows, self._starts, self._ends = rows_[order], starts_[order], ends_[order]
        self._has_span = np.zeros(int(rows_.max()) + 1 if rows_.size else 0, dtype=np.bool_)
        self._has_span[rows_] = True
        self._spans_of = {}
        for row, start, end in zip(self._rows.tolist(), self._starts.tolist(),
                                   self._ends.tolist(), strict=True):
            self._spans_of.setdefault(row, []).append((start, end))

    def rows(self) -> NDArray[np.int64]:
        """The rows that have a span."""
        return np.unique(self._rows)

    def apply(self, rows: NDArray[np.int64], times: NDArray[np.float64],
              event_start: NDArray[np.float64], event_end: NDArray[np.float64]) -> None:
        """Set the columns of the batch's rows (table rows, not negative) that have spans
        to their first span not over at the row's own earliest reading of the batch (NaN
        when all are over). Each row by its own readings: a batch that also holds a device
        whose clock runs an hour behind must not give every other row the span of an hour
        ago.

        ``apply_few`` and ``apply_many`` do the same (a test says so); a batch of up to
        ``FEW`` readings takes the first (the offline replay's batches hold two readings or
        so, docs/HEALTH.md "Offline replay")."""
        if self._rows.size == 0:
            return
        if rows.shape[0] <= FEW:
            self.apply_few(rows, times, event_start, event_end)
        else:
            self.apply_many(rows, times, event_start, event_end)

    def apply_few(self, rows: NDArray[np.int64], times: NDArray[np.float64],
                  event_start: NDArray[np.float64], event_end: NDArray[np.float64]) -> None:
        """``apply``, as a loop over the readings in Python."""
        spans_of = self._spans_of
        earliest: dict[int, float] = {}
        for row, time in zip(rows.tolist(), times.tolist(), strict=True):
            if row in spans_of and math.isfinite(time) and time < earliest.get(row, math.inf):
                earliest[row] = time
        for row, time in earliest.items():
            start = end = math.nan
            for span_start, span_end in spans_of[row]:  # by start
                if span_end >= time:
                    start, end = span_start, span_end
                    break
            event_start[row] = start
            event_end[row] = end

    def apply_many(self, rows: NDArray[np.int64], times: NDArray[np.float64],
                   event_start: NDArray[np.float64], event_end: NDArray[np.float64]) -> None:
        """``apply``, vectorised over the batch and the spans."""
        if self._rows.size == 0:
            return
        has_span = self._has_span
        # Rows past the last with a span are clipped onto it and then left out.
        chosen = (np.take(has_span, rows, mode="clip") & (rows < has_span.size)
                  & np.isfinite(times))
        if not np.count_nonzero(chosen):
            return
        batch_rows, batch_times = rows[chosen], times[chosen]
        order = np.lexsort((batch_times, batch_rows))
        batch_rows, batch_times = batch_rows[order], batch_times[order]
        first_of_row = np.r_[True, batch_rows[1:] != batch_rows[:-1]]
        mine, earliest = batch_rows[first_of_row], batch_times[first_of_row]
        # Each span's row among ``mine`` (sorted), and the earliest time of that row.
        where = np.minimum(np.searchsorted(mine, self._rows), mine.size - 1)
        ours = mine[where] == self._rows
        current = ours & (self._ends >= earliest[where])
        event_start[mine] = np.nan
        event_end[mine] = np.nan
        # The first current span of each row (the spans are sorted by row, then start).
        at = np.flatnonzero(current)
        first = at[np.unique(self._rows[at], return_index=True)[1]]
        event_start[self._rows[first]] = self._starts[first]
        event_end[self._rows[first]] = self._ends[first]
