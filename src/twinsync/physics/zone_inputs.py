"""What the thermal zones need to step a reading at its own event time: each input's recent
readings (``InputHistory``) and which of a zone's readings may be stepped now
(``ready_to_step``).

A zone's step from its last reading to ``t`` takes each input (outdoor temperature,
heating power) as last read *before* ``t`` in event time, not as last received: a room
logger that uploads six hours at once is stepped through those hours with the outdoor
temperature of each hour. The value is held, not interpolated: heating is switched (a
line between an off and an on reading is power that never flowed), and a value
interpolated at ``t`` needs the reading after ``t``, so every step would wait for it.

``InputHistory`` keeps the newest ``capacity`` readings of each input, by event time, as
two ``(slots, capacity)`` arrays sorted along each row (``+inf`` / NaN after the last). When
a row is full the oldest readings are dropped: a step whose time is at or before the
oldest kept reading has no known input and is left out (not stepped with a value from
after it).

>>> history = InputHistory(capacity=3)
>>> history.grow(1)
>>> history.insert(np.array([0, 0]), np.array([600.0, 0.0]), np.array([6.0, 5.0]))
>>> history.as_of(np.array([0, 0, 0]), np.array([0.0, 300.0, 900.0])).tolist()
[nan, 5.0, 6.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .contract import Array

#: Readings kept per input: three days of 15-minute readings, twelve of hourly ones.
HISTORY_CAPACITY = 288


class InputHistory:
    """The newest ``capacity`` readings of each input slot, sorted by event time."""

    COLUMNS = ("time", "value")

    def __init__(self, capacity: int = HISTORY_CAPACITY) -> None:
        self.capacity = capacity
        self.columns: dict[str, NDArray[Any]] = self._fresh(0)

    def _fresh(self, size: int) -> dict[str, NDArray[Any]]:
        return {"time": np.full((size, self.capacity), np.inf),
                "value": np.full((size, self.capacity), np.nan)}

    def __len__(self) -> int:
        return int(self.columns["time"].shape[0])

    def grow(self, size: int) -> None:
        """At least ``size`` slots; new ones empty."""
        old = len(self)
        if size <= old:
            return
        kept, self.columns = self.columns, self._fresh(size)
        for name, column in kept.items():
            self.columns[name][:old] = column

    def take(self, slots: NDArray[np.int64]) -> dict[str, NDArray[Any]]:
        return {name: column[slots].copy() for name, column in self.columns.items()}

    def put(self, slots: NDArray[np.int64], rows: dict[str, NDArray[Any]]) -> None:
        """Rows into ``slots``; a row of another capacity keeps its newest readings."""
        for name, column in self.columns.items():
            row = rows[name]
            width = min(row.shape[1], self.capacity)
            count = np.isfinite(rows["time"]).sum(axis=1)
            # Sorted with the padding last: the newest ``width`` end at ``count``.
            start = np.maximum(count - width, 0)
            index = start[:, None] + np.arange(width)[None, :]
            fresh = self._fresh(slots.size)[name]
            fresh[:, :width] = np.take_along_axis(row, index, axis=1)
            column[slots] = fresh

    def insert(self, slots: NDArray[np.int64], times: Array, values: Array) -> None:
        """Add readings (any order, late ones too) and keep each row's newest ``capacity``."""
        finite = np.isfinite(times) & np.isfinite(values)
        slots, times, values = slots[finite], times[finite], values[finite]
        if slots.size == 0:
            return
        order = np.lexsort((times, slots))
        slots, times, values = slots[order], times[order], values[order]
        starts = np.flatnonzero(np.r_[True, slots[1:] != slots[:-1]])
        sizes = np.diff(np.r_[starts, slots.size])
        rank = np.arange(slots.size) - np.repeat(starts, sizes)
        touched = slots[starts]
        row = np.repeat(np.arange(touched.size), sizes)
        new_time = np.full((touched.size, int(sizes.max())), np.inf)
        new_value = np.full(new_time.shape, np.nan)
        new_time[row, rank], new_value[row, rank] = times, values
        merged_time = np.concatenate([self.columns["time"][touched], new_time], axis=1)
        merged_value = np.concatenate([self.columns["value"][touched], new_value], axis=1)
        # Two sorted runs (the row, then the new readings): a stable sort merges them in
        # linear time, and in the usual case (the new ones the latest) keeps them in place.
        by_time = np.argsort(merged_time, axis=1, kind="stable")
        self.put(touched, {"time": np.take_along_axis(merged_time, by_time, axis=1),
                           "value": np.take_along_axis(merged_value, by_time, axis=1)})

    def as_of(self, slots: NDArray[np.int64], times: Array) -> Array:
        """Each slot's value as last read before ``times`` (NaN: none known before)."""
        kept = self.columns["time"][slots]
        before = np.count_nonzero(kept < times[:, None], axis=1) - 1
        found = before >= 0
        out = np.full(slots.size, np.nan)
        out[found] = self.columns["value"][slots[found], before[found]]
        return out

    def latest(self, slots: NDArray[np.int64]) -> Array:
        """Each slot's newest event time (-inf: none kept)."""
        kept = self.columns["time"][slots]
        count = np.isfinite(kept).sum(axis=1)
        out = np.full(slots.size, -np.inf)
        has = count > 0
        out[has] = kept[has, count[has] - 1]
        return out


def ready_to_step(zones: NDArray[np.int64], known: NDArray[np.bool_],
                  overdue: NDArray[np.bool_],
                  capacity: int) -> NDArray[np.bool_]:
    """Of readings sorted by zone then time, which may be stepped now: those whose inputs
    are known up to their time (``known``, each input has a reading at or after it), and
    every reading up to a zone's last ``overdue`` one (waited its bound), and a zone's
    oldest beyond ``capacity`` waiting. A zone steps in time order, so what is ready is
    always each zone's first readings."""
    n = zones.size
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    starts = np.flatnonzero(np.r_[True, zones[1:] != zones[:-1]])
    sizes = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(starts.size), sizes)
    position = np.arange(n)
    last_overdue = np.full(starts.size, -1)
    np.maximum.at(last_overdue, group[overdue], position[overdue])
    # Inputs known up to t are known up to any earlier time: readiness by ``known`` is
    # each zone's first readings already; the other two widen that prefix.
    rank = position - starts[group]
    ready: NDArray[np.bool_] = (known | (position <= last_overdue[group])
                                | (rank < sizes[group] - capacity))
    return ready
