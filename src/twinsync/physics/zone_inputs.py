"""What the thermal zones need to step a reading at its own event time: each input's recent
readings (``InputHistory``) and which of a zone's readings may be stepped now
(``ready_to_step``).

A zone's step from its last reading to ``t`` takes each input (outdoor temperature,
heating power, each neighbouring zone's air temperature) as last read *before* ``t`` in
event time, not as last received: a room
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

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..jit import compiled
from .contract import Array

#: Readings kept per input: three days of 15-minute readings, twelve of hourly ones.
HISTORY_CAPACITY = 288


class HistorySave(NamedTuple):
    """Rows as they were (``InputHistory.savepoint``): those an insert may rewrite, whole
    (``slots``, ``rows``); those it can only append to, by their count (``appended``,
    ``counts``)."""

    slots: NDArray[np.int64]
    rows: dict[str, NDArray[Any]]
    appended: NDArray[np.int64]
    counts: NDArray[np.int64]


class InputHistory:
    """The newest ``capacity`` readings of each input slot, sorted by event time."""

    COLUMNS = ("time", "value")

    def __init__(self, capacity: int = HISTORY_CAPACITY) -> None:
        self.capacity = capacity
        #: Room a full row is cut by (an eighth): inserts move a row that seldom.
        self.slack = capacity // 8
        self.columns: dict[str, NDArray[Any]] = self._fresh(0)
        #: Readings kept in each row (the first ``count`` columns).
        self.count = np.zeros(0, dtype=np.int64)

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
        self.count = np.r_[self.count, np.zeros(size - old, dtype=np.int64)]

    def take(self, slots: NDArray[np.int64]) -> dict[str, NDArray[Any]]:
        return {name: column[slots].copy() for name, column in self.columns.items()}

    def savepoint(self, slots: NDArray[np.int64], times: Array) -> HistorySave:
        """What ``rollback`` needs to undo ``insert(slots, times', ...)`` for any
        ``times' >= times``. A row whose new readings all come after its kept ones, with
        room for them, is only appended to (``insert``'s usual case): its count is kept,
        not its row. Copying every touched row whole (288 times and values) was most of
        the zones' stage at 10,000 rooms, where each room's air is a neighbour's input and
        every batch touches every row."""
        if slots.size == 0:
            none = np.zeros(0, dtype=np.int64)
            return HistorySave(none, self.take(none), none, none)
        order = np.lexsort((times, slots))
        ordered = slots[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, ordered.size])
        touched = ordered[starts]
        earliest = np.asarray(times)[order][starts]
        count = self.count[touched]
        newest = np.full(touched.size, -np.inf)
        has = count > 0
        newest[has] = self.columns["time"][touched[has], count[has] - 1]
        # NaN times are left out by ``insert``: only ever fewer readings, none earlier.
        appended = (~(earliest < newest)) & (count + sizes <= self.capacity)
        whole = touched[~appended]
        return HistorySave(whole, self.take(whole), touched[appended], count[appended])

    def rollback(self, save: HistorySave) -> None:
        if save.slots.size:
            self.put(save.slots, save.rows)
        if save.appended.size:
            # What was appended goes back to padding (a row holds +inf / NaN after its
            # kept readings).
            after = np.arange(self.capacity)[None, :] >= save.counts[:, None]
            for name, pad in (("time", np.inf), ("value", np.nan)):
                column = self.columns[name]
                column[save.appended] = np.where(after, pad, column[save.appended])
            self.count[save.appended] = save.counts

    def put(self, slots: NDArray[np.int64], rows: dict[str, NDArray[Any]],
            keep: int | None = None) -> None:
        """Rows (sorted, padding last) into ``slots``, each cut to its newest ``keep``
        readings (``capacity``)."""
        keep = self.capacity if keep is None else keep
        count = np.count_nonzero(np.isfinite(rows["time"]), axis=1)
        width = min(rows["time"].shape[1], self.capacity)
        start = np.maximum(count - keep, 0)
        index = np.minimum(start[:, None] + np.arange(width)[None, :],
                           rows["time"].shape[1] - 1)
        inside = np.arange(width)[None, :] < np.minimum(count, keep)[:, None]
        for name, column in self.columns.items():
            fresh = self._fresh(slots.size)[name]
            fresh[:, :width] = np.where(inside, np.take_along_axis(rows[name], index, axis=1),
                                        fresh[:, :width])
            column[slots] = fresh
        self.count[slots] = np.minimum(count, keep)

    def insert(self, slots: NDArray[np.int64], times: Array, values: Array) -> None:
        """Add readings (any order, late ones too) and keep each row's newest ``capacity``.

        A full row is cut to its newest ``capacity - slack`` (with the new readings), so
        the usual insert (new readings after all kept, room left) writes only the new
        readings, and a row is moved once every ``slack`` readings, not every time."""
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
        count = self.count[touched]
        time_column, value_column = self.columns["time"], self.columns["value"]
        newest = np.full(touched.size, -np.inf)
        has = count > 0
        newest[has] = time_column[touched[has], count[has] - 1]
        after = times[starts] >= newest
        room = after & (count + sizes <= self.capacity)
        # The usual case: the new readings go after the kept ones, in place.
        fits = np.repeat(room, sizes)
        at = np.repeat(count, sizes)[fits] + rank[fits]
        time_column[slots[fits], at] = times[fits]
        value_column[slots[fits], at] = values[fits]
        self.count[touched[room]] += sizes[room]
        if room.all():
            return
        # A full row, or late readings among the kept: merge the row and its new readings
        # (two sorted runs, which a stable sort merges) and keep the newest.
        rest = np.flatnonzero(~room)
        row = np.repeat(np.arange(touched.size), sizes)
        moved = np.repeat(~room, sizes)
        new_time = np.full((rest.size, int(sizes[rest].max())), np.inf)
        new_value = np.full(new_time.shape, np.nan)
        where = np.searchsorted(rest, row[moved])
        new_time[where, rank[moved]] = times[moved]
        new_value[where, rank[moved]] = values[moved]
        merged_time = np.concatenate([time_column[touched[rest]], new_time], axis=1)
        merged_value = np.concatenate([value_column[touched[rest]], new_value], axis=1)
        by_time = np.argsort(merged_time, axis=1, kind="stable")
        self.put(touched[rest], {
            "time": np.take_along_axis(merged_time, by_time, axis=1),
            "value": np.take_along_axis(merged_value, by_time, axis=1)},
            keep=self.capacity - self.slack)

    def as_of(self, slots: NDArray[np.int64], times: Array) -> Array:
        """Each slot's value as last read before ``times`` (NaN: none known before)."""
        return self.read_before(slots, times)[0]

    def read_before(self, slots: NDArray[np.int64], times: Array) -> tuple[Array, Array]:
        """Each slot's value as last read before ``times`` and that reading's time (NaN,
        NaN: none known before).

        A binary search along each row, compiled (``_last_before``): a comparison with
        the whole row (``capacity`` of them a look-up) was a third of the zones' step at
        1,000 zones, and the search in NumPy rounds (a fancy-indexed gather of every
        open search a round) some 2 µs a look-up, which the neighbours' temperature
        (a look-up a neighbour a zone reading) made a third of the zones' stage."""
        time_column = self.columns["time"]
        before = np.empty(slots.size, dtype=np.int64)
        _last_before(time_column, self.count, np.ascontiguousarray(slots, dtype=np.int64),
                     np.ascontiguousarray(times, dtype=np.float64), before)
        found = before >= 0
        out = np.full(slots.size, np.nan)
        out[found] = self.columns["value"][slots[found], before[found]]
        when = np.full(slots.size, np.nan)
        when[found] = time_column[slots[found], before[found]]
        return out, when

    def latest(self, slots: NDArray[np.int64]) -> Array:
        """Each slot's newest event time (-inf: none kept)."""
        kept = self.columns["time"][slots]
        count = np.isfinite(kept).sum(axis=1)
        out = np.full(slots.size, -np.inf)
        has = count > 0
        out[has] = kept[has, count[has] - 1]
        return out


@compiled
def _last_before(time_column: Any, count: Any, slots: Any, times: Any, out: Any) -> None:
    """For each look-up, the position of the slot's last reading before its time (-1:
    none): a binary search over the row's ``count`` sorted times."""
    for i in range(slots.shape[0]):
        row = slots[i]
        low, high = 0, count[row]
        # Invariant: the readings before ``low`` are before the time, those from ``high``
        # are not.
        while low < high:
            middle = (low + high) // 2
            if time_column[row, middle] < times[i]:
                low = middle + 1
            else:
                high = middle
        out[i] = low - 1


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
