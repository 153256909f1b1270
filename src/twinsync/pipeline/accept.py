"""Admission: raw readings in, validated and transformed NumPy columns out.

Each reading is checked once (known sensor, a finite number, a time that parses, a unit
that converts, a sane sequence number) and every failure becomes a dead letter with its
reason. Unit conversion of the reading to the sensor's unit is a cached affine map;
calibration and conversion to the bound property's unit are folded into one per-row
multiply-add applied to the whole batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InvalidReading, UnitError
from ..model import Binding, Sensor, Twin
from ..units import converter
from .batch import NO_SEQ, Accepted, Batch, DeadLetter, IncomingBatch, RawReading
from .table import LatestPerRow, SensorTable
from .times import _MS_THRESHOLD, parse_time

#: Readings stamped further ahead of their arrival than this are refused: a clock that far
#: off would pin the live value to the future. Kept as dead letters, so nothing is lost.
MAX_FUTURE_SECONDS = 86_400.0


def _payload(reading: RawReading) -> dict[str, Any]:
    return {k: v for k, v in reading._asdict().items() if v is not None}


class Pipeline:
    """Validates, transforms and folds readings into the sensor table. Pure: no I/O."""

    def __init__(self, twin: Twin, *, max_future: float = MAX_FUTURE_SECONDS) -> None:
        self.twin = twin
        self.table = SensorTable()
        self.max_future = max_future
        for sensor in twin.sensors.values():
            self.register_sensor(sensor)
        for binding in twin.bindings.values():
            self.apply_binding(binding)

    def register_sensor(self, sensor: Sensor) -> int:
        row = self.table.row(sensor.id)
        self.table.set_transform(row, sensor.unit, 1.0, 0.0)
        return row

    def apply_binding(self, binding: Binding | None, sensor_id: str | None = None) -> None:
        """Fold a binding's calibration and unit conversion into its sensor's row."""
        sid = binding.sensor_id if binding is not None else sensor_id
        assert sid is not None
        sensor = self.twin.sensor(sid)
        row = self.table.row(sid)
        if binding is None:
            self.table.set_transform(row, sensor.unit, 1.0, 0.0)
            return
        t = binding.transform
        to_property = converter(sensor.unit, t.unit or sensor.unit)
        self.table.set_transform(
            row, sensor.unit,
            t.gain * to_property.scale,
            t.offset * to_property.scale + to_property.shift,
        )

    def accept(self, incoming: IncomingBatch) -> Accepted:
        """Split a batch into valid columns and dead letters."""
        index_get = self.table.index.get
        units = self.table.units
        received_at = incoming.received_at
        latest_allowed = received_at + self.max_future
        rows: list[int] = []
        raws: list[float] = []
        times: list[float] = []
        seqs: list[int] = []
        rejected: list[tuple[int, DeadLetter]] = []
        isfinite = math.isfinite

        def reject(pos: int, reading: RawReading, reason: str, detail: str) -> None:
            rejected.append((pos, DeadLetter(received_at, incoming.source, reason, detail,
                                             _payload(reading))))

        for pos, reading in enumerate(incoming.readings):
            sensor_id, value, time, unit, seq = reading
            row = index_get(sensor_id) if type(sensor_id) is str else None
            if row is None:
                if sensor_id is None:
                    reject(pos, reading, "missing_sensor_id", "the reading names no sensor")
                elif type(sensor_id) is not str:
                    reject(pos, reading, "bad_sensor_id", f"sensor id {sensor_id!r} is not text")
                else:
                    reject(pos, reading, "unknown_sensor", f"no sensor {sensor_id!r}")
                continue
            kind = type(value)
            if kind is not float and kind is not int:
                reject(pos, reading, "not_a_number", f"value {value!r} is not a number")
                continue
            if not isfinite(value):
                reject(pos, reading, "not_finite", f"value {value!r} is not finite")
                continue
            time_kind = type(time)
            if time is None:
                event_time = received_at
            elif (time_kind is float or time_kind is int) and 0 <= time < _MS_THRESHOLD:
                # The common case, seconds since the epoch, without a call.
                event_time = time
                if event_time > latest_allowed:
                    reject(pos, reading, "time_in_future",
                           f"time {time!r} is more than {self.max_future:g} s ahead of arrival")
                    continue
            else:
                try:
                    event_time = parse_time(time)
                except InvalidReading as exc:
                    reject(pos, reading, exc.reason, str(exc))
                    continue
                if event_time > latest_allowed:
                    reject(pos, reading, "time_in_future",
                           f"time {time!r} is more than {self.max_future:g} s ahead of arrival")
                    continue
            if unit is not None and unit != units[row]:
                try:
                    value = converter(unit, units[row]).apply(float(value))
                except UnitError as exc:
                    reject(pos, reading, exc.reason,
                           f"{exc} (sensor {sensor_id!r} reports in {units[row] or 'no unit'!r})")
                    continue
            if seq is None:
                seq = NO_SEQ
            elif type(seq) is not int or seq < 0:
                reject(pos, reading, "bad_seq", f"sequence number {seq!r} is not a natural number")
                continue
            rows.append(row)
            raws.append(value)
            times.append(event_time)
            seqs.append(seq)

        row_array = np.array(rows, dtype=np.int64)
        raw_array = np.array(raws, dtype=np.float64)
        table = self.table
        batch = Batch(
            rows=row_array,
            value=raw_array * table.scale[row_array] + table.shift[row_array],
            raw_value=raw_array,
            event_time=np.array(times, dtype=np.float64),
            received_at=np.full(len(rows), received_at),
            seq=np.array(seqs, dtype=np.int64),
            source=incoming.source,
            connector=incoming.connector,
        )
        return Accepted(batch, rejected)

    def apply(self, batch: Batch) -> LatestPerRow:
        """Fold committed readings into the live state."""
        return self.table.update(batch)
