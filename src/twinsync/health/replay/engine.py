"""``replay``: judge a recorded data set through the live reading path, offline.

Each batch goes through what ``TwinService._ingest_on_writer`` does with it, in the same
order, with the clock at the batch's arrival: ``Pipeline.accept`` (admission, clocks,
ordering), the repeat check of readings behind the in-memory windows (against the
readings accepted so far, where the service asks its store), ``judge_batch`` (health
folds the batch in; late readings are scored), ``Pipeline.settle`` and ``Pipeline.apply``.
Between batches the watch's one-second tick runs on simulated time (``watch``). Nothing
is stored: the replay writes every health state change, and optionally each accepted
reading's quality, to CSV files.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from ...pipeline import Accepted, Pipeline
from ...pipeline.repeats import kept_repeats
from ..groups import configure_from_twin
from ..judge import judge_batch
from ..monitor import HealthChanges, HealthMonitor
from ..params import HealthParams
from ..states import STATE_NAMES
from .arrivals import WINDOW, Arrival, arrivals
from .events_file import read_events
from .files import BadRow, SensorList, read_readings, read_sensors
from .kept import KeptReadings
from .watch import SimulatedWatch

#: Bad rows listed by line in the summary; the rest are only counted.
EXAMPLES = 20


@dataclass(slots=True)
class ReplayResult:
    """Counts of a replay. ``rejected`` counts by reason what neither the file reader nor
    the pipeline could take; ``examples`` lists the first bad rows by line."""

    readings: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    late: int = 0
    stale: int = 0
    quarantined: int = 0
    out_of_range: int = 0
    behind_newest: int = 0
    """Readings health was given older than their sensor's newest (not late)."""
    placed: int = 0
    """Of those, the ones judged in their place by a re-fold."""
    batches: int = 0
    state_changes: int = 0
    states: Counter[str] = field(default_factory=Counter)
    examples: list[BadRow] = field(default_factory=list)
    seconds: float = 0.0

    def reject(self, bad: BadRow) -> None:
        self.rejected[bad.reason] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(bad)

    def to_dict(self) -> dict[str, Any]:
        return {
            "readings": self.readings, "accepted": self.accepted,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": sum(self.rejected.values()),
            "duplicates": self.duplicates, "late": self.late, "stale": self.stale,
            "quarantined": self.quarantined, "out_of_range": self.out_of_range,
            "behind_newest": self.behind_newest, "placed": self.placed,
            "batches": self.batches, "state_changes": self.state_changes,
            "changes_to": dict(sorted(self.states.items())),
            "examples": [{"line": b.line, "reason": b.reason, "detail": b.detail}
                         for b in self.examples],
            "seconds": round(self.seconds, 3),
            "readings_per_second": round(self.readings / self.seconds) if self.seconds else 0,
        }


class Replay:
    """The live reading path without a store, driven batch by batch on simulated time."""

    def __init__(self, sensors: SensorList, states: IO[str],
                 qualities: IO[str] | None = None, params: HealthParams | None = None,
                 events: Path | None = None) -> None:
        twin = sensors.twin
        self.pipeline = Pipeline(twin)
        self.health = HealthMonitor(params, capacity=max(1024, len(self.pipeline.table)),
                                    reach=self.pipeline.allowed_lateness)
        configure_from_twin(self.health, twin, self.pipeline.table)
        if sensors.groups is not None:
            self._own_groups(sensors.groups)
        if events is not None:
            self.health.set_events(*read_events(events, sensors, self.pipeline.table.index))
        self.watch = SimulatedWatch(self.health)
        self.kept = KeptReadings()
        self.ids = np.array(self.pipeline.table.ids, dtype=object)
        self.result = ReplayResult()
        self._states = states
        self._qualities = qualities
        states.write("time,sensor_id,state,quality,reason\n")
        if qualities is not None:
            qualities.write("sensor_id,time,quality\n")

    def _own_groups(self, groups: dict[str, str]) -> None:
        """Peer groups as the sensor list names them; a group of one has no peers."""
        index = self.pipeline.table.index
        members: dict[str, list[int]] = {}
        for sensor_id, name in groups.items():
            members.setdefault(name, []).append(index[sensor_id])
        rows = np.arange(len(self.pipeline.table), dtype=np.int64)
        group = np.full(rows.size, -1, dtype=np.int64)
        for number, name in enumerate(sorted(members)):
            if len(members[name]) > 1:
                group[members[name]] = number
        self.health.configure(rows, group=group)

    def run(self, readings: Path, window: float = WINDOW) -> ReplayResult:
        started = time.perf_counter()
        result = self.result
        for item in arrivals(read_readings(readings), window=window):
            if isinstance(item, Arrival):
                self.arrive(item)
            else:
                result.readings += len(item) + len(item.bad)
                for bad in item.bad:
                    result.reject(bad)
        result.seconds = time.perf_counter() - started
        return result

    def arrive(self, arrival: Arrival) -> None:
        """One batch, as ``TwinService._ingest_on_writer`` takes it, at its arrival time."""
        now = arrival.incoming.received_at
        for at, changes in self.watch.until(now):
            self._write_changes(at, changes)
        pipeline = self.pipeline
        accepted = pipeline.accept(arrival.incoming)
        if accepted.behind_window is not None and np.count_nonzero(accepted.behind_window):
            accepted = pipeline.drop_repeats(accepted, kept_repeats(
                pipeline.sequences, accepted.batch, accepted.behind_window, self.kept.read))
        batch = accepted.batch
        changes = judge_batch(self.health, batch,
                              ahead=pipeline.clocks.device_offsets(batch.rows))
        self.kept.add(batch)  # where the service commits the batch to its store
        pipeline.settle(accepted, now)
        pipeline.apply(batch)
        self.watch.forget(batch.rows)
        self._count(accepted, arrival)
        self.result.behind_newest += changes.behind
        self.result.placed += changes.placed
        self._write_changes(now, changes)
        if self._qualities is not None and len(batch):
            assert batch.quality is not None
            self._qualities.writelines(
                f"{sensor_id},{event_time!r},{quality!r}\n" for sensor_id, event_time, quality
                in zip(self.ids[batch.rows].tolist(), batch.event_time.tolist(),
                       batch.quality.tolist(), strict=True))

    def _count(self, accepted: Accepted, arrival: Arrival) -> None:
        result = self.result
        result.batches += 1
        result.accepted += len(accepted.batch)
        result.duplicates += accepted.duplicates
        result.late += accepted.late
        result.stale += accepted.stale
        result.quarantined += accepted.quarantined
        result.out_of_range += accepted.out_of_range
        for position, letter in accepted.rejected:
            result.reject(BadRow(int(arrival.lines[position]), letter.reason, letter.detail))

    def _write_changes(self, at: float, changes: HealthChanges) -> None:
        if not len(changes):
            return
        ids = self.ids
        self.result.state_changes += len(changes)
        lines = []
        for row, new, quality, reason in zip(changes.rows.tolist(), changes.new.tolist(),
                                             changes.quality.tolist(), changes.reasons,
                                             strict=True):
            state = STATE_NAMES[new]
            self.result.states[state] += 1
            lines.append(f"{at!r},{ids[row]},{state},{quality!r},{_quoted(reason)}\n")
        self._states.writelines(lines)


def _quoted(text: str) -> str:
    """A CSV field: reasons hold commas now and then."""
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def replay(sensors: Path, readings: Path, states: Path, qualities: Path | None = None, *,
           window: float = WINDOW, params: HealthParams | None = None,
           events: Path | None = None) -> ReplayResult:
    """Replay READINGS through the live reading path of the twin SENSORS describes; write
    every health state change to STATES (and each accepted reading's quality to
    QUALITIES). ``window``: seconds of arrival batched together per source; ``params``:
    the health checks' parameters (the defaults if None); ``events``: an EVENTS.csv of
    declared site events (``events_file``)."""
    sensor_list = read_sensors(sensors)
    with states.open("w", newline="", encoding="utf-8") as states_file:
        if qualities is None:
            return Replay(sensor_list, states_file, params=params,
                          events=events).run(readings, window)
        with qualities.open("w", newline="", encoding="utf-8") as qualities_file:
            return Replay(sensor_list, states_file, qualities_file, params,
                          events).run(readings, window)
