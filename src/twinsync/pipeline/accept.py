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
from numpy.typing import NDArray

from ..errors import InvalidReading, UnitError
from ..model import Binding, Sensor, Twin
from ..units import converter
from .batch import (
    NO_SEQ,
    Accepted,
    Batch,
    DeadLetter,
    Flag,
    IncomingBatch,
    PipelineSavepoint,
    RawReading,
)
from .clocks import ClockTable
from .latency import LatencyWindows
from .limits import MAX_SEQ, VALUE_LIMIT, short_repr
from .order import SequenceTable
from .ranges import PhysicalRanges
from .table import LatestPerRow, SensorTable
from .times import _MS_THRESHOLD, parse_time

#: Readings stamped further ahead of their arrival than this, after correcting their
#: device's clock, are refused: history cannot hold such a time (see ``clocks``). Kept as
#: dead letters, so nothing is lost.
MAX_FUTURE_SECONDS = 86_400.0
#: Readings stamped further ahead than this (but not past ``MAX_FUTURE_SECONDS``) are
#: quarantined: stored, flagged, never live. Well below the allowed lateness, so that
#: what a device's clock estimate may take from one reading never makes its next late.
MAX_AHEAD_SECONDS = 120.0
#: No device's clock offset is estimated past this, either way.
MAX_OFFSET_SECONDS = 86_400.0
#: A reading this far behind its sensor's newest is late: history, not live state.
ALLOWED_LATENESS_SECONDS = 300.0
#: A reading this old on arrival is stale: stored, but it drives no real-time output.
FRESHNESS_SECONDS = 900.0


def _payload(reading: RawReading) -> dict[str, Any]:
    return {k: v for k, v in reading._asdict().items() if v is not None}


def _cut(detail: str, limit: int = 300) -> str:
    """A message that may quote what was sent (a time, a unit), cut to ``limit``."""
    return detail if len(detail) <= limit else f"{detail[:limit]}… ({len(detail)} characters)"


class Pipeline:
    """Validates, transforms and folds readings into the sensor table. Pure: no I/O."""

    def __init__(self, twin: Twin, *, max_future: float = MAX_FUTURE_SECONDS,
                 allowed_lateness: float = ALLOWED_LATENESS_SECONDS,
                 freshness: float = FRESHNESS_SECONDS, max_ahead: float = MAX_AHEAD_SECONDS,
                 max_offset: float = MAX_OFFSET_SECONDS) -> None:
        self.twin = twin
        self.table = SensorTable()
        self.sequences = SequenceTable()
        self.clocks = ClockTable(max_ahead=max_ahead, max_offset=max_offset,
                                 max_future=max_future)
        self.latency = LatencyWindows()
        self.ranges = PhysicalRanges()
        self.max_future = max_future
        self.allowed_lateness = allowed_lateness
        self.freshness = freshness
        self.counts = {"accepted": 0, "duplicates": 0, "late": 0, "stale": 0, "lost": 0,
                       "quarantined": 0, "out_of_range": 0}
        for sensor in twin.sensors.values():
            self.register_sensor(sensor)
        for binding in twin.bindings.values():
            self.apply_binding(binding)

    def register_sensor(self, sensor: Sensor) -> int:
        row = self.table.row(sensor.id)
        self.table.set_transform(row, sensor.unit, 1.0, 0.0)
        self.ranges.set_sensor(row, sensor.kind, sensor.unit)
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
        self.table.set_transform(row, sensor.unit, *binding_transform(sensor.unit, binding))

    def accept(self, incoming: IncomingBatch) -> Accepted:
        """Split a batch into valid columns and dead letters."""
        units = self.table.units
        received_at = incoming.received_at
        all_rows = self._rows_of(incoming)
        # Python ints above 256 are objects of their own: loop over whether each reading's
        # sensor is known (two shared bools), not over its row.
        known = (all_rows >= 0).tolist()
        positions: list[int] = []
        timed: list[bool] = []
        raws: list[float] = []
        times: list[float] = []
        seqs: list[int] = []
        rejected: list[tuple[int, DeadLetter]] = []
        isfinite = math.isfinite

        def reject(pos: int, reading: RawReading, reason: str, detail: str) -> None:
            rejected.append((pos, DeadLetter(received_at, incoming.source, reason, detail,
                                             _payload(reading))))

        for pos, (reading, is_known) in enumerate(zip(incoming.readings, known, strict=True)):
            sensor_id, value, time, unit, seq = reading
            if not is_known:
                if sensor_id is None:
                    reject(pos, reading, "missing_sensor_id", "the reading names no sensor")
                elif type(sensor_id) is not str:
                    reject(pos, reading, "bad_sensor_id",
                           f"sensor id {short_repr(sensor_id)} is not text")
                else:
                    reject(pos, reading, "unknown_sensor", f"no sensor {short_repr(sensor_id)}")
                continue
            kind = type(value)
            if kind is not float and kind is not int:
                reject(pos, reading, "not_a_number", f"value {short_repr(value)} is not a number")
                continue
            # One comparison keeps the common case fast; NaN fails it too. Integers are
            # compared exactly, so a 400-digit one cannot overflow here.
            if not -VALUE_LIMIT < value < VALUE_LIMIT:
                if kind is float and not isfinite(value):
                    reject(pos, reading, "not_finite", f"value {value!r} is not finite")
                else:
                    reject(pos, reading, "value_out_of_range",
                           f"value {short_repr(value)} is beyond ±{VALUE_LIMIT:g}")
                continue
            time_kind = type(time)
            if time is None:
                event_time = received_at
            elif (time_kind is float or time_kind is int) and 0 <= time < _MS_THRESHOLD:
                event_time = time  # the common case, seconds since the epoch, without a call
            else:
                try:
                    event_time = parse_time(time)
                except InvalidReading as exc:
                    reject(pos, reading, exc.reason, _cut(str(exc)))
                    continue
                except OverflowError:  # an integer past the float range
                    reject(pos, reading, "bad_time", f"time {short_repr(time)} is out of range")
                    continue
            if unit is not None and unit != (sensor_unit := units[all_rows[pos]]):
                if type(unit) is not str:
                    # Not a UnitError of the converter: a list cannot even be a cache key.
                    reject(pos, reading, "bad_unit", f"unit {short_repr(unit)} is not text")
                    continue
                try:
                    value = converter(unit, sensor_unit).apply(float(value))
                except UnitError as exc:
                    reject(pos, reading, exc.reason,
                           f"{_cut(str(exc))} (sensor {sensor_id!r} reports in "
                           f"{sensor_unit or 'no unit'!r})")
                    continue
                if not -VALUE_LIMIT < value < VALUE_LIMIT:
                    reject(pos, reading, "value_out_of_range",
                           f"value {value!r} in {sensor_unit!r} is beyond ±{VALUE_LIMIT:g}")
                    continue
            if seq is None:
                seq = NO_SEQ
            elif type(seq) is not int or not 0 <= seq <= MAX_SEQ:
                reject(pos, reading, "bad_seq",
                       f"sequence number {short_repr(seq)} is not a natural number below 2**63")
                continue
            positions.append(pos)
            timed.append(time is not None)
            raws.append(value)
            times.append(event_time)
            seqs.append(seq)

        row_array = all_rows[np.array(positions, dtype=np.int64)]
        raw_array = np.array(raws, dtype=np.float64)
        event_times = np.array(times, dtype=np.float64)
        timed_mask = np.array(timed, dtype=np.bool_)
        source = incoming.source
        # Everything below that changes the pipeline's state is saved first, so that a
        # batch whose commit fails can be taken back whole (``rollback``).
        sequences_before = self.sequences.savepoint(row_array)
        # Put the times on our clock, each device's own; what cannot be believed is
        # quarantined (kept, flagged, never live) or, past ``max_future``, refused. The
        # clocks save what they change themselves (``placed.before``).
        placed = self.clocks.observe(source, row_array, event_times, received_at, timed_mask)
        savepoint = PipelineSavepoint(sequences_before, placed.before)
        event_times = placed.event_time
        quarantined = placed.quarantined
        timed_mask &= ~quarantined  # a time not believed measures no latency
        future = placed.refused
        # ``np.count_nonzero`` rather than ``.any()``, here and on the rest of the reading
        # path: one C call, where ``.any()`` goes through Python and costs a few µs.
        refused = np.count_nonzero(future) > 0
        if refused:
            for i in np.flatnonzero(future).tolist():
                reading = incoming.readings[positions[i]]
                reject(positions[i], reading, "time_in_future",
                       f"time {reading.time!r} is more than {self.max_future:g} s ahead of "
                       f"arrival, after correcting the device's clock")
            rejected.sort(key=lambda item: item[0])
        seq_array = np.array(seqs, dtype=np.int64)
        if refused:
            # Refused readings are dead letters now: they go no further, so they can
            # neither move a sequence window nor start an epoch.
            use = ~future
            row_array, raw_array, event_times = row_array[use], raw_array[use], event_times[use]
            seq_array, timed_mask, quarantined = seq_array[use], timed_mask[use], quarantined[use]
        table = self.table
        value = table.transform(row_array, raw_array)
        received = np.full(len(row_array), received_at)
        admission = self.sequences.admit(
            row_array, seq_array, event_times, raw_array, received, timed=timed_mask,
            live_time=table.last_event_time,
            allowed_lateness=self.allowed_lateness, freshness=self.freshness)
        flags = admission.flags
        if np.count_nonzero(quarantined):
            flags[quarantined] |= Flag.QUARANTINED
        keep = admission.keep
        behind_window = admission.behind_window
        if np.count_nonzero(keep) < keep.size:
            row_array, value, raw_array = row_array[keep], value[keep], raw_array[keep]
            event_times, received, seq_array = event_times[keep], received[keep], seq_array[keep]
            flags, behind_window, timed_mask = flags[keep], behind_window[keep], timed_mask[keep]
            quarantined = quarantined[keep]
        # else every reading is kept (the common case): the columns are this call's own
        # arrays, so the batch takes them as they are; a copy each cost more than the
        # rest of admission on a batch of one reading.
        batch = Batch(
            rows=row_array, value=value, raw_value=raw_array, event_time=event_times,
            received_at=received, seq=seq_array, source=source,
            connector=incoming.connector, flags=flags,
        )
        # Outside its kind's physical range: kept and flagged, never believed.
        out_of_range = int(np.count_nonzero(self.ranges.mark(batch)))
        return Accepted(batch, rejected, duplicates=admission.duplicates,
                        late=admission.late, stale=admission.stale, lost=admission.lost,
                        quarantined=int(np.count_nonzero(quarantined)),
                        out_of_range=out_of_range, behind_window=behind_window,
                        timed=timed_mask, savepoint=savepoint)

    def _rows_of(self, incoming: IncomingBatch) -> NDArray[np.int64]:
        """Each reading's sensor row, -1 where unknown or not an id at all."""
        ids = [reading[0] for reading in incoming.readings]
        try:
            rows = self.table.fast_index.rows_of(ids)
        except (TypeError, UnicodeEncodeError):  # an id that is not text, or not UTF-8
            rows = None
        if rows is None:  # not text, or holding the separator: one by one, by dict
            get = self.table.index.get
            rows = np.array([get(i, -1) if type(i) is str else -1 for i in ids], dtype=np.int64)
        return rows

    def drop_repeats(self, accepted: Accepted, repeats: NDArray[np.bool_]) -> Accepted:
        """Remove readings found to be repeats after admission, and count them so."""
        count = int(repeats.sum())
        if count == 0:
            return accepted
        batch_flags = accepted.batch.flags
        flags = (np.zeros(count, np.int64) if batch_flags is None
                 else batch_flags[repeats])
        self.sequences.uncount(accepted.batch.rows[repeats], flags)
        accepted.late -= int(((flags & Flag.LATE) != 0).sum())
        accepted.stale -= int(((flags & Flag.STALE) != 0).sum())
        accepted.batch = accepted.batch.select(~repeats)
        if accepted.timed is not None:
            accepted.timed = accepted.timed[~repeats]
        accepted.duplicates += count
        accepted.behind_window = None
        return accepted

    def rollback(self, accepted: Accepted) -> None:
        """Take back what ``accept`` changed, as if the batch had never come: its commit
        failed, and the same readings must be accepted whole when they are sent again."""
        point = accepted.savepoint
        if point is not None:
            self.sequences.rollback(point.sequences)
            self.clocks.rollback(point.clock)
            accepted.savepoint = None

    @staticmethod
    def counts_of(accepted: Accepted) -> dict[str, int]:
        """What a batch adds to ``counts``: committed with the batch (the store's running
        totals, which ``counts`` starts from), then added here by ``settle``."""
        return {"accepted": len(accepted.batch), "duplicates": accepted.duplicates,
                "late": accepted.late, "stale": accepted.stale, "lost": accepted.lost,
                "quarantined": accepted.quarantined, "out_of_range": accepted.out_of_range}

    def settle(self, accepted: Accepted, committed_at: float) -> None:
        """The batch is committed: count it, and record its latencies up to arrival and up
        to durability (arrival or commit time minus corrected event time)."""
        batch = accepted.batch
        counts = self.counts
        for name, value in self.counts_of(accepted).items():
            counts[name] += value
        accepted.savepoint = None
        timed = accepted.timed
        if timed is None or not np.count_nonzero(timed):
            return
        event_time = batch.event_time[timed]
        received_at = float(batch.received_at[0])
        for stage, at in (("receive", received_at), ("commit", committed_at)):
            self.latency.record_under((f"{stage}:source:{batch.source}",
                                       f"{stage}:connector:{batch.connector}"),
                                      at - event_time, at)

    def apply(self, batch: Batch) -> LatestPerRow:
        """Fold committed readings into the live state; late and stale ones stay history."""
        self.sequences.ensure(len(self.table))
        return self.table.update(batch)


def binding_transform(unit: str, binding: Binding) -> tuple[float, float]:
    """The scale and shift that take a sensor's readings in ``unit`` to its bound
    property's value: the binding's calibration and the unit conversion, folded."""
    t = binding.transform
    to_property = converter(unit, t.unit or unit)
    return (float(t.gain * to_property.scale),
            float(t.offset * to_property.scale + to_property.shift))
