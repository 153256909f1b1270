"""Summaries of stored readings, shared by every store: per-sensor aggregates for a restart,
time buckets for charts, and a sensor's readings in a time window. Pure NumPy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..pipeline import Flag
from .base import Buckets, SensorAggregates
from .tiers import BLOCK_DTYPE

SealedStats = Sequence[tuple[int, int, float, float, float, float, float]]
"""Per sensor: row, count, sum, sum of squares, min, max, first event time."""
SealedLatest = Sequence[tuple[int, float, float, float]]
"""Per sensor: row, last live value, its event time, its receive time."""


def history_of(parts: Sequence[NDArray[np.void]], start: float, end: float
               ) -> NDArray[np.void]:
    """Concatenate a sensor's block and hot rows, keep [start, end), order by event time."""
    fields = list(BLOCK_DTYPE.names or ())
    if not parts:
        return np.empty(0, dtype=BLOCK_DTYPE)
    rows = np.concatenate([np.asarray(p[fields]).astype(BLOCK_DTYPE) for p in parts])
    times = rows["event_time"]
    rows = rows[(times >= start) & (times < end)]
    return rows[np.argsort(rows["event_time"], kind="stable")]


def bucketise(rows: NDArray[np.void], start: float, every: float) -> Buckets:
    """Min, max, mean and count of values per ``every``-second bucket that has readings."""
    if len(rows) == 0:
        f = np.empty(0)
        return Buckets(f, f.copy(), f.copy(), f.copy(), np.empty(0, dtype=np.int64))
    index = np.floor((rows["event_time"] - start) / every).astype(np.int64)
    values = rows["value"].astype(np.float64)
    firsts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    counts = np.diff(np.r_[firsts, len(index)])
    return Buckets(
        start=start + index[firsts] * every,
        minimum=np.minimum.reduceat(values, firsts),
        maximum=np.maximum.reduceat(values, firsts),
        mean=np.add.reduceat(values, firsts) / counts,
        count=counts.astype(np.int64),
    )


def aggregate(sealed: SealedStats, latest: SealedLatest, hot: NDArray[np.void]
              ) -> SensorAggregates:
    """Per-sensor aggregates over sealed summaries plus hot rows."""
    hot_sensors = np.unique(hot["sensor"]) if len(hot) else np.empty(0, dtype=np.int64)
    sealed_rows = np.array([r[0] for r in sealed], dtype=np.int64)
    rows = np.union1d(sealed_rows, hot_sensors).astype(np.int64)
    n = len(rows)
    count = np.zeros(n)
    total = np.zeros(n)
    squares = np.zeros(n)
    minimum = np.full(n, np.inf)
    maximum = np.full(n, -np.inf)
    first = np.full(n, np.inf)
    last_value = np.full(n, np.nan)
    last_time = np.full(n, -np.inf)
    last_received = np.full(n, -np.inf)
    if len(sealed):
        at = np.searchsorted(rows, sealed_rows)
        columns = list(zip(*sealed, strict=True))
        count[at] = np.array(columns[1], dtype=np.float64)
        total[at] = np.array(columns[2], dtype=np.float64)
        squares[at] = np.array(columns[3], dtype=np.float64)
        minimum[at] = np.array(columns[4], dtype=np.float64)
        maximum[at] = np.array(columns[5], dtype=np.float64)
        first[at] = np.array(columns[6], dtype=np.float64)
    for sensor, value, event_time, received in latest:
        i = int(np.searchsorted(rows, sensor))
        last_value[i], last_time[i], last_received[i] = value, event_time, received
    if len(hot):
        ordered = hot[np.lexsort((hot["event_time"], hot["sensor"]))]
        sensors = ordered["sensor"]
        starts = np.flatnonzero(np.r_[True, sensors[1:] != sensors[:-1]])
        at = np.searchsorted(rows, sensors[starts])
        values = ordered["value"].astype(np.float64)
        count[at] += np.diff(np.r_[starts, len(ordered)])
        total[at] += np.add.reduceat(values, starts)
        squares[at] += np.add.reduceat(values * values, starts)
        minimum[at] = np.minimum(minimum[at], np.minimum.reduceat(values, starts))
        maximum[at] = np.maximum(maximum[at], np.maximum.reduceat(values, starts))
        first[at] = np.minimum(first[at], ordered["event_time"][starts])
        live = ordered[(ordered["flags"] & Flag.LATE) == 0]
        if len(live):
            live_sensors = live["sensor"]
            ends = np.flatnonzero(np.r_[live_sensors[1:] != live_sensors[:-1], True])
            newest = live[ends]
            at_live = np.searchsorted(rows, newest["sensor"])
            newer = newest["event_time"] >= last_time[at_live]
            last_value[at_live[newer]] = newest["value"][newer]
            last_time[at_live[newer]] = newest["event_time"][newer]
            last_received[at_live[newer]] = newest["received_at"][newer]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    return SensorAggregates(
        rows=rows, count=count.astype(np.int64), last_value=last_value,
        last_event_time=last_time, last_received_at=last_received, mean=mean,
        m2=np.maximum(squares - count * mean * mean, 0.0), minimum=minimum, maximum=maximum,
        first_event_time=first)
