"""Per-sensor state in NumPy columns, indexed by a dense sensor row.

One Python object per sensor would make every batch walk the fleet. Instead each sensor
gets a row number when it is registered, and its state lives in NumPy columns: last value,
last event time, receive time, count, running mean and variance, min and max, and the
quality and anomaly score of the live value's own reading. A batch
updates only the rows it touches, with work proportional to the batch, never to the fleet.
The columns are views of one record per sensor (``twinsync.records``), so the state a
reading needs sits in adjacent memory however large the fleet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..jit import LIGHT_PASS_AHEAD, compiled, prefetch_item
from ..records import Field, Records
from .batch import Batch
from .ids import IdIndex

# name: (dtype, fill). Fields a batch's admission reads come first, so that they share a
# cache line with the live value; the running statistics only the live-state update
# touches follow.
_FIELDS: dict[str, Field] = {
    # The affine map from the sensor's unit to the bound property's value:
    # calibration and unit conversion folded into one multiply-add per reading.
    "scale": (np.float64, 1.0),
    "shift": (np.float64, 0.0),
    "last_event_time": (np.float64, -np.inf),
    "last_value": (np.float64, np.nan),
    "last_received_at": (np.float64, -np.inf),
    # scratch of ``update``: the row's place among the batch's rows, -1 between batches.
    # In the first line with the live value: the update's second loop, which reads and
    # resets it, then touches one line a row.
    "slot": (np.int64, -1),
    "count": (np.int64, 0),
    "mean": (np.float64, 0.0),
    "m2": (np.float64, 0.0),
    "min": (np.float64, np.inf),
    "max": (np.float64, -np.inf),
    "first_event_time": (np.float64, np.inf),
    # the quality judged for the live value's own reading (a suspected spike is low even
    # while its sensor is healthy); NaN when unknown (restored after a restart)
    "last_quality": (np.float64, np.nan),
    # the anomaly score of the live value's own reading, for the live feed's chart; NaN
    # when it was not scored (detection off, or unknown after a restart)
    "last_anomaly": (np.float64, np.nan),
}


@dataclass(slots=True)
class LatestPerRow:
    """The newest reading of each row a batch touched (by event time), rows in the order
    of their first reading in the batch."""

    rows: NDArray[np.int64]
    value: NDArray[np.float64]
    event_time: NDArray[np.float64]
    received_at: NDArray[np.float64]
    advanced: NDArray[np.bool_]
    """True where this reading became the sensor's live value (it is newer than the last)."""


class SensorTable:
    """Dense rows of sensor state. ``index`` maps sensor id → row."""

    def __init__(self, capacity: int = 1024) -> None:
        self.index: dict[str, int] = {}
        self.fast_index = IdIndex(capacity)
        """The same map as ``index``, answered a batch at a time (see ``ids``)."""
        self.ids: list[str] = []
        self.units: list[str] = []
        self._records = Records(_FIELDS, max(capacity, 16), owner=self)

    # mypy sees the columns (views of the records) through these annotations.
    scale: NDArray[np.float64]
    shift: NDArray[np.float64]
    last_event_time: NDArray[np.float64]
    last_value: NDArray[np.float64]
    last_received_at: NDArray[np.float64]
    count: NDArray[np.int64]
    mean: NDArray[np.float64]
    m2: NDArray[np.float64]
    min: NDArray[np.float64]
    max: NDArray[np.float64]
    first_event_time: NDArray[np.float64]
    slot: NDArray[np.int64]
    last_quality: NDArray[np.float64]
    last_anomaly: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, sensor_id: str) -> int:
        """The row of a sensor, registering it if new."""
        row = self.index.get(sensor_id)
        if row is None:
            row = len(self.ids)
            self._records.grow(row + 1)
            self.index[sensor_id] = row
            self.fast_index.add(sensor_id, row)
            self.ids.append(sensor_id)
            self.units.append("")
        return row

    def set_transform(self, row: int, unit: str, scale: float, shift: float) -> None:
        self.units[row] = unit
        self.scale[row] = scale
        self.shift[row] = shift

    def transform(self, rows: NDArray[np.int64], raw: NDArray[np.float64]
                  ) -> NDArray[np.float64]:
        """Each raw reading mapped to its bound property's value (``scale``, ``shift``)."""
        value = np.empty(len(rows), dtype=np.float64)
        _transform(rows, raw, self.scale, self.shift, value)
        return value

    def update(self, batch: Batch) -> LatestPerRow:
        """Fold a batch into the table; return each touched row's newest reading."""
        if len(batch) == 0:
            empty_f = np.empty(0)
            return LatestPerRow(np.empty(0, np.int64), empty_f, empty_f, empty_f,
                                np.empty(0, np.bool_))
        live = batch.live()
        n = len(batch)
        touched = np.empty(n, dtype=np.int64)
        newest = np.empty(n, dtype=np.int64)
        advanced = np.empty(n, dtype=np.bool_)
        k = _fold(batch.rows, batch.value, batch.event_time, batch.received_at, live,
                  self.count, self.mean, self.m2, self.min, self.max, self.first_event_time,
                  self.last_value, self.last_event_time, self.last_received_at, self.slot,
                  touched, newest, advanced)
        pick = newest[:k]
        latest = LatestPerRow(touched[:k], batch.value[pick], batch.event_time[pick],
                              batch.received_at[pick], advanced[:k])
        moved = latest.rows[latest.advanced]
        became = pick[latest.advanced]
        self.last_quality[moved] = 1.0 if batch.quality is None else batch.quality[became]
        self.last_anomaly[moved] = np.nan if batch.anomaly is None else batch.anomaly[became]
        return latest

    def std(self, row: int) -> float:
        """The sample standard deviation of one row's values (0 until it has two)."""
        n = int(self.count[row])
        return math.sqrt(max(float(self.m2[row]) / (n - 1), 0.0)) if n > 1 else 0.0

    def restore(self, rows: NDArray[np.int64], *, count: NDArray[np.int64],
                last_value: NDArray[np.float64], last_event_time: NDArray[np.float64],
                last_received_at: NDArray[np.float64], mean: NDArray[np.float64],
                m2: NDArray[np.float64], minimum: NDArray[np.float64],
                maximum: NDArray[np.float64], first_event_time: NDArray[np.float64]) -> None:
        """Set rows from stored aggregates after a restart."""
        self.count[rows] = count
        self.last_value[rows] = last_value
        self.last_event_time[rows] = last_event_time
        self.last_received_at[rows] = last_received_at
        self.mean[rows] = mean
        self.m2[rows] = m2
        self.min[rows] = minimum
        self.max[rows] = maximum
        self.first_event_time[rows] = first_event_time


@compiled
def _fold(rows: NDArray[np.int64], values: NDArray[np.float64], times: NDArray[np.float64],
          received: NDArray[np.float64], live: NDArray[np.bool_], count: NDArray[np.int64],
          mean: NDArray[np.float64], m2: NDArray[np.float64], low: NDArray[np.float64],
          high: NDArray[np.float64], first_time: NDArray[np.float64],
          last_value: NDArray[np.float64], last_time: NDArray[np.float64],
          last_received: NDArray[np.float64], slot: NDArray[np.int64],
          touched: NDArray[np.int64], newest: NDArray[np.int64],
          advanced: NDArray[np.bool_]) -> int:
    """One pass over the batch: running statistics (Welford) of every reading, and for each
    row its newest reading — a live one before any that cannot be live, then the latest
    event time, then the latest in the batch. That one becomes the live value if it is live
    and not older than the live value so far. Writes the touched rows, their newest reading's
    index and whether it advanced; returns how many rows. ``slot`` is -1 outside this call."""
    k = 0
    n = rows.shape[0]
    for i in range(n):
        r = rows[i]
        v = values[i]
        c = count[r] + 1
        count[r] = c
        delta = v - mean[r]
        mean[r] += delta / c
        m2[r] += delta * (v - mean[r])
        low[r] = min(low[r], v)
        high[r] = max(high[r], v)
        first_time[r] = min(first_time[r], times[i])
        if slot[r] < 0:
            slot[r] = k
            touched[k] = r
            newest[k] = i
            k += 1
        else:
            j = newest[slot[r]]
            if live[i] > live[j] or (live[i] == live[j] and times[i] >= times[j]):
                newest[slot[r]] = i
    for s in range(k):
        r = touched[s]
        slot[r] = -1
        i = newest[s]
        advanced[s] = live[i] and times[i] >= last_time[r]
        if advanced[s]:
            last_value[r] = values[i]
            last_time[r] = times[i]
            last_received[r] = received[i]
    return k


@compiled
def _transform(rows: NDArray[np.int64], raw: NDArray[np.float64], scale: NDArray[np.float64],
               shift: NDArray[np.float64], value: NDArray[np.float64]) -> None:
    """``value = raw * scale[rows] + shift[rows]`` reading each row's record once (two
    NumPy gathers would fetch a large fleet's records twice), a few readings ahead."""
    n = rows.shape[0]
    for i in range(n):
        if i + LIGHT_PASS_AHEAD < n:
            prefetch_item(scale, rows[i + LIGHT_PASS_AHEAD])
        r = rows[i]
        value[i] = raw[i] * scale[r] + shift[r]
