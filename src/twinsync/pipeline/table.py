"""Per-sensor state in NumPy columns, indexed by a dense sensor row.

One Python object per sensor would make every batch walk the fleet. Instead each sensor
gets a row number when it is registered, and its state lives in NumPy columns: last value,
last event time, receive time, count, running mean and variance, min and max. A batch
updates only the rows it touches, with work proportional to the batch, never to the fleet.
The columns are views of one record per sensor (``twinsync.records``), so the state a
reading needs sits in adjacent memory however large the fleet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..records import Field, Records
from .batch import Batch
from .ids import IdIndex

# name: (dtype, fill). Fields a batch's admission reads come first, so that they share a
# cache line; the running statistics only the live-state update touches follow.
_FIELDS: dict[str, Field] = {
    # The affine map from the sensor's unit to the bound property's value:
    # calibration and unit conversion folded into one multiply-add per reading.
    "scale": (np.float64, 1.0),
    "shift": (np.float64, 0.0),
    "last_event_time": (np.float64, -np.inf),
    "last_value": (np.float64, np.nan),
    "last_received_at": (np.float64, -np.inf),
    "count": (np.int64, 0),
    "mean": (np.float64, 0.0),
    "m2": (np.float64, 0.0),
    "min": (np.float64, np.inf),
    "max": (np.float64, -np.inf),
    "first_event_time": (np.float64, np.inf),
}


@dataclass(slots=True)
class LatestPerRow:
    """The newest reading of each row a batch touched (by event time)."""

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
        self._records = Records(_FIELDS, max(capacity, 16))
        self._bind()

    def _bind(self) -> None:
        for name, column in self._records.columns.items():
            setattr(self, name, column)

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

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, sensor_id: str) -> int:
        """The row of a sensor, registering it if new."""
        row = self.index.get(sensor_id)
        if row is None:
            row = len(self.ids)
            if self._records.grow(row + 1):
                self._bind()
            self.index[sensor_id] = row
            self.fast_index.add(sensor_id, row)
            self.ids.append(sensor_id)
            self.units.append("")
        return row

    def set_transform(self, row: int, unit: str, scale: float, shift: float) -> None:
        self.units[row] = unit
        self.scale[row] = scale
        self.shift[row] = shift

    def update(self, batch: Batch) -> LatestPerRow:
        """Fold a batch into the table; return each touched row's newest reading."""
        if len(batch) == 0:
            empty_f = np.empty(0)
            return LatestPerRow(np.empty(0, np.int64), empty_f, empty_f, empty_f,
                                np.empty(0, np.bool_))
        live = batch.live()
        # Group the batch by row; within a row, readings that cannot be live first, then
        # by event time, so each group ends with its newest live reading if it has one.
        # The sort is over the batch only: the cost does not depend on the fleet.
        order = np.lexsort((batch.event_time, live, batch.rows))
        rows = batch.rows[order]
        values = batch.value[order]
        times = batch.event_time[order]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        ends = np.r_[starts[1:], len(rows)] - 1
        touched = rows[starts]

        # Running statistics: merge the batch's per-row mean and M2 into the table's (Chan).
        n_b = np.diff(np.r_[starts, len(rows)]).astype(np.float64)
        sums = np.add.reduceat(values, starts)
        mean_b = sums / n_b
        dev = values - np.repeat(mean_b, n_b.astype(np.int64))
        m2_b = np.add.reduceat(dev * dev, starts)
        n_a = self.count[touched].astype(np.float64)
        mean_a = self.mean[touched]
        n = n_a + n_b
        delta = mean_b - mean_a
        self.mean[touched] = mean_a + delta * n_b / n
        self.m2[touched] = self.m2[touched] + m2_b + delta * delta * n_a * n_b / n
        self.count[touched] += n_b.astype(np.int64)
        self.min[touched] = np.minimum(self.min[touched], np.minimum.reduceat(values, starts))
        self.max[touched] = np.maximum(self.max[touched], np.maximum.reduceat(values, starts))
        self.first_event_time[touched] = np.minimum(self.first_event_time[touched], times[starts])

        # The live value only moves forward in event time: a late reading is history, not news.
        newest = ends
        newest_time = times[newest]
        advanced = (newest_time >= self.last_event_time[touched]) & live[order][newest]
        moved = touched[advanced]
        self.last_value[moved] = values[newest][advanced]
        self.last_event_time[moved] = newest_time[advanced]
        received = batch.received_at[order][newest]
        self.last_received_at[moved] = received[advanced]
        return LatestPerRow(touched, values[newest], newest_time, received, advanced)

    def std(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        n = self.count[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(n > 1, self.m2[rows] / np.maximum(n - 1, 1), 0.0)
        return np.sqrt(var)

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
