"""Anomalies of a live fleet: scores for a batch of readings, events, alarms, and anomalies
a person said to expect.

``AnomalyMonitor.update_many`` scores every reading of a batch with a streaming detector
(``NoveltyDetector`` unless told otherwise). A reading whose health quality is below
``min_quality`` (or unknown) is scored but does not teach the detector: a failing sensor's
readings must not become what is usual. A score of ``event_at`` or more is an ``anomaly``
event; of ``alarm_at`` or more it also raises the sensor's anomaly alarm
(``anomaly:<sensor>``) in the alarm book. The detector tells an anomaly once and then
damps the sensor for a while; a further anomaly while the alarm is active updates it and
raises nothing new, and the alarm clears by itself after ``clear_after`` seconds of event
time with no anomaly of that sensor.

A sensor tells at most one anomaly event in ``event_quiet`` seconds of event time: the
first anomaly after a quiet spell is an event, the ones that follow it within the quiet
time are counted, not told, and the next event says how many went untold (``untold``).
The detector's damping already keeps an anomaly it trusts to one event; this bounds what
it does not damp (readings health does not trust, scores between ``event_at`` and the
detector's firing point), such as a whole fleet meeting values beyond the range it learned
at once. One anomaly breaks the quiet: one that would raise the sensor's alarm while none
is active (an anomaly is never kept from its alarm). The time of each sensor's last event
and its untold count are per-row columns (``told_at``, ``untold``): saved with the
detector's state, and put back with it when a batch is not committed (``savepoint``).

The fleet tells at most ``fleet_events`` anomaly events in a window of ``event_quiet``
seconds of the fleet's clock (1,000 an hour). A sensor's quiet time bounds each sensor, not
a fleet that meets something new all at once (a cold night after a mild warm-up, a
gateway's clock): 100,000 sensors each telling one anomaly in the same hour is one
happening, not 100,000, and its events cost the reading path more than the scores
(``docs/ANOMALY.md``). Past the budget, an anomaly is counted on its sensor as the quiet
time counts it (its next event says how many went untold), its score is stored with the
reading as every score is, and the window's first kept anomaly tells an ``anomaly_storm``
event (no element: when the window began and ends, how many it told, how many it kept so
far); while the storm goes on the count is told again at most every ``STORM_EVERY``
seconds, and when the window has passed an ``anomaly_storm_ended`` event tells the final
count. An anomaly that would raise its sensor's alarm is told whatever the budget; one of
a sensor whose alarm is active, kept by the budget, keeps that alarm active as one kept by
the quiet time does.

The fleet's clock is the readings' arrival (``received_at``: the service's clock), not
their event time. The budget bounds what the reading path commits and people are shown in
an hour, and one gateway's clock must not move it: readings stamped an hour behind (a
logger uploading its hour, a clock the correction has not learned yet) would otherwise
open a window an hour early that the rest of the fleet ends at once, and readings stamped
an hour ahead one that ends an hour late, each giving the fleet a second budget and
cutting its storm's count in two. The window is four numbers, put back with the rest by
``rollback``; they are not saved: after a restart a storm's window is taken up again from
its last ``anomaly_storm`` event (``resume``), any other window starts afresh.

``mark_expected`` records that a sensor's anomalies in a span of time are expected (a
pour, a load test) with the reason and who said it: as an ``anomaly_expected`` event, kept
by the store like every event and read back at a start with ``replay``. An anomaly in an
expected span is still an event (marked expected, with the reason) but raises no alarm,
and an active anomaly alarm inside the span is cleared. A mark has an id (one for all the
spans one mark made); ``withdraw_expected`` takes a mark made in error back, as an
``anomaly_expected_withdrawn`` event a sensor (replayed the same way): from then on its
spans suppress nothing. What they suppressed while they stood stays as it was (an alarm
they cleared or kept from being raised is not raised after the fact); a sensor that is
still anomalous raises its alarm on its next anomalous reading, as any sensor does.

Pure: the caller commits the events and the alarm book's changes together, and rolls the
book back if the commit fails (``AlarmBook.savepoint``, ``AnomalyMonitor.savepoint``); the
detector's state and the event columns are the caller's to snapshot (``detector.save``,
``columns``).

>>> from twinsync.alerts import AlarmBook
>>> monitor, book = AnomalyMonitor(NoveltyDetector(warmup=4, settle=4, day_parts=0)), AlarmBook()
>>> values = np.array([0.0, 1.0] * 10 + [9.0])
>>> update = monitor.update_many(np.zeros(21, dtype=np.int64), 900.0 * np.arange(21), values,
...                              np.ones(21), sensor_ids=["t1"], book=book)
>>> [event.kind for event in update.events], list(book.active)
(['anomaly', 'alarm_raised'], ['anomaly:t1'])
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..alerts import SEVERITIES, AlarmBook
from ..errors import InvalidInput
from ..model import Event
from ..records import RowsSavepoint
from .novelty import NoveltyDetector
from .streaming import StreamingDetector

__all__ = ["AnomalyMonitor", "AnomalyUpdate", "Expected", "MonitorSavepoint", "Withdrawal"]

#: The prefix of a sensor's anomaly alarm key.
ALARM_PREFIX = "anomaly:"
#: While the fleet's budget keeps anomalies, how often (seconds of the fleet's clock) the
#: storm's running count is told again: a count that moves for the people watching, at
#: most 60 events an hour against the budget's 1,000.
STORM_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class Expected:
    """A span of event time in which a sensor's anomalies are expected, and why."""

    sensor: str
    start: float
    end: float
    reason: str
    by: str
    id: str = ""
    """The mark's id: every span one mark made has the same."""
    marked_at: float = 0.0

    def covers(self, time: float) -> bool:
        return self.start <= time <= self.end


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A mark taken back: its spans (as they stood), who took it back, when and why."""

    spans: tuple[Expected, ...]
    by: str
    time: float
    reason: str


@dataclass(slots=True)
class AnomalyUpdate:
    """What a batch gave: a score a reading (in the batch's order) and the events."""

    scores: NDArray[np.float64]
    events: list[Event] = field(default_factory=list)
    untold: int = 0
    """Anomalies of this batch not told as events (their sensor's quiet time, or the
    fleet's budget)."""
    stormed: int = 0
    """Of ``untold``, those the fleet's budget kept (``fleet_events``)."""


class MonitorSavepoint(NamedTuple):
    """The detector's rows and the event columns of a batch's rows, as they were."""

    detector: RowsSavepoint
    rows: NDArray[np.int64]
    told_at: NDArray[np.float64]
    untold: NDArray[np.int64]
    fleet: tuple[float, int, int, float]
    """The fleet's window: its start, the events it told, the anomalies it kept, when its
    storm was last told."""


class AnomalyMonitor:
    """Anomaly scores, events and alarms for a fleet (see the module's docstring)."""

    def __init__(
        self,
        detector: StreamingDetector | None = None,
        *,
        min_quality: float = 0.5,
        event_at: float = 0.33,
        alarm_at: float = 0.6,
        clear_after: float = 6 * 3600.0,
        severity: str = "warning",
        event_quiet: float = 3600.0,
        fleet_events: int = 1000,
    ) -> None:
        if not 0.0 < event_at <= alarm_at <= 1.0:
            raise InvalidInput("anomaly: 0 < event_at <= alarm_at <= 1", "bad_threshold")
        if (severity not in SEVERITIES or clear_after <= 0 or not event_quiet >= 0
                or fleet_events < 1):
            raise InvalidInput(
                f"anomaly: severity one of {SEVERITIES}, clear_after > 0, event_quiet >= 0, "
                "fleet_events >= 1",
                "bad_setting",
            )
        self.detector = detector if detector is not None else NoveltyDetector()
        self.min_quality = float(min_quality)
        self.event_at = float(event_at)
        self.alarm_at = float(alarm_at)
        self.clear_after = float(clear_after)
        self.severity = severity
        self.event_quiet = float(event_quiet)
        self.expected: dict[str, list[Expected]] = {}
        #: The marks taken back, by id: they suppress nothing, and are kept to be told.
        self.withdrawn: dict[str, Withdrawal] = {}
        #: Per sensor row: the event time of its last anomaly event (-inf: none yet), and
        #: how many of its anomalies went untold since.
        self.told_at = np.full(0, -np.inf)
        self.untold = np.zeros(0, dtype=np.int64)
        self.fleet_events = int(fleet_events)
        #: The fleet's window of ``event_quiet`` seconds of arrival time: when it began
        #: (-inf: none open), the anomaly events told in it, the anomalies its budget kept,
        #: and when its ``anomaly_storm`` was last told (-inf: no storm yet).
        self.fleet_start = -np.inf
        self.fleet_told = 0
        self.fleet_untold = 0
        self.storm_at = -np.inf

    def ensure(self, rows: int) -> None:
        """Room for the event columns of rows ``0 .. rows - 1``."""
        if rows <= self.told_at.size:
            return
        size = max(rows, 2 * self.told_at.size, 16)
        told_at, untold = np.full(size, -np.inf), np.zeros(size, dtype=np.int64)
        told_at[: self.told_at.size] = self.told_at
        untold[: self.untold.size] = self.untold
        self.told_at, self.untold = told_at, untold

    def columns(self, rows: int) -> dict[str, NDArray[Any]]:
        """The event columns of rows ``0 .. rows - 1``, the arrays themselves (a snapshot
        reads them, a restore writes into them)."""
        self.ensure(rows)
        return {"told_at": self.told_at[:rows], "untold": self.untold[:rows]}

    def savepoint(self, rows: NDArray[np.int64]) -> MonitorSavepoint:
        """The state a batch of ``rows`` may change (the detector's rows and the event
        columns), for ``rollback`` if the batch is not committed."""
        rows = np.asarray(rows, dtype=np.int64)
        self.ensure(int(rows.max()) + 1 if rows.size else 0)
        return MonitorSavepoint(self.detector.savepoint(rows), rows,
                                self.told_at[rows], self.untold[rows],
                                self._fleet())

    def rollback(self, point: MonitorSavepoint) -> None:
        self.detector.rollback(point.detector)
        self.told_at[point.rows] = point.told_at
        self.untold[point.rows] = point.untold
        self.fleet_start, self.fleet_told, self.fleet_untold, self.storm_at = point.fleet

    def resume(self, storm: Event) -> None:
        """Go on with the window of a storm told before a restart and never told ended
        (the store's newest ``anomaly_storm``): its end and final count are then told when
        the first batch arrives after it. Without this a restart opened a new window, and
        a storm going on at the stop was never told ended. Only a storm's window is
        carried: a window that told under its budget starts afresh after a restart."""
        self.fleet_start = float(storm.data["since"])
        self.fleet_told = int(storm.data["told"])
        self.fleet_untold = int(storm.data["untold"])
        self.storm_at = float(storm.time)

    def _fleet(self) -> tuple[float, int, int, float]:
        return self.fleet_start, self.fleet_told, self.fleet_untold, self.storm_at

    def _roll(self, now: float, events: list[Event]) -> None:
        """End the fleet's window if ``now`` (arrival time) is past it: a window that
        stormed is told ended, with its final count."""
        if now - self.fleet_start < self.event_quiet:
            return
        if self.fleet_untold:
            events.append(self._storm_event("anomaly_storm_ended",
                                            self.fleet_start + self.event_quiet))
        self.fleet_start, self.fleet_told, self.fleet_untold, self.storm_at = (
            -np.inf, 0, 0, -np.inf)

    def _fleet_spent(self, now: float, events: list[Event]) -> bool:
        """Whether the fleet's window holding ``now`` (arrival time) has told its
        ``fleet_events``; the first anomaly after a window ended opens the next. (An
        arrival before the window's start, the service's clock stepped back, counts in
        it.)"""
        self._roll(now, events)
        if self.fleet_start == -np.inf:
            self.fleet_start = now
        return self.fleet_told >= self.fleet_events

    def _storm_event(self, kind: str, time: float) -> Event:
        since, until = self.fleet_start, self.fleet_start + self.event_quiet
        told, kept = self.fleet_told, self.fleet_untold
        if kind == "anomaly_storm_ended":
            message = (f"anomaly storm over: {kept} anomalies of the fleet were counted on "
                       f"their sensors, not told, from {since:.0f} to {until:.0f} ({told} "
                       f"told; alarms were still raised)")
        else:
            message = (f"{told} anomaly events since {since:.0f}: {kept} further anomalies "
                       f"of the fleet counted on their sensors, not told, so far; counting "
                       f"until {until:.0f} (alarms are still raised)")
        return Event(kind, time, None, "twinsync", {
            "since": since, "until": until, "told": told, "untold": kept,
            "message": message,
        })

    def update_many(
        self,
        rows: NDArray[np.int64],
        event_time: NDArray[np.float64],
        value: NDArray[np.float64],
        quality: NDArray[np.float64],
        *,
        sensor_ids: Sequence[str],
        book: AlarmBook,
        element_ids: Sequence[str | None] | None = None,
        rows_of: Mapping[str, int] | None = None,
        received_at: NDArray[np.float64] | float | None = None,
    ) -> AnomalyUpdate:
        """Score a batch (in arrival order, each sensor's readings in its order) and turn
        its anomalies into events and alarms; ``sensor_ids[row]`` names a row,
        ``element_ids[row]`` the element it is bound to, and ``rows_of`` (if given) is the
        inverse of ``sensor_ids``: with it, finding the sensors of active anomaly alarms in
        a batch costs a pass over the batch, not a look at each of its sensors.
        ``received_at`` (one a reading, or one for the batch) is the fleet's clock for its
        budget; without it (a fleet replayed with no arrival times) the event time is."""
        rows = np.asarray(rows, dtype=np.int64)
        event_time = np.asarray(event_time, dtype=np.float64)
        quality = np.asarray(quality, dtype=np.float64)
        if quality.shape != rows.shape:
            raise InvalidInput("anomaly: one quality a reading", "bad_batch")
        teach = quality >= self.min_quality  # an unknown (NaN) quality does not teach
        scores = self.detector.learn_many(
            rows, {"time": event_time, "value": np.asarray(value), "teach": teach}
        )
        update = AnomalyUpdate(scores)
        arrival = (event_time if received_at is None
                   else np.broadcast_to(np.asarray(received_at, dtype=np.float64), rows.shape))
        if arrival.size:
            # A window that has passed ends now, whether or not this batch has anomalies:
            # its storm's final count is not held back until the next one.
            self._roll(float(arrival.max()), update.events)
        anomalous = np.flatnonzero(scores >= self.event_at)
        if anomalous.size:
            self.ensure(int(rows[anomalous].max()) + 1)
        told_at, untold = self.told_at, self.untold
        kept_at = -np.inf  # the arrival of the batch's last anomaly kept by the budget
        for i in anomalous.tolist():
            row = int(rows[i])
            time, score = float(event_time[i]), float(scores[i])
            sensor = sensor_ids[row]
            key = ALARM_PREFIX + sensor
            # At the alarm's level and not expected: it raises the alarm, or keeps it up.
            strong = score >= self.alarm_at and self._expected(sensor, time) is None
            alarming = strong and key not in book.active
            # Kept by its sensor's quiet time, else by the fleet's budget (which opens the
            # fleet's next window when the time has come); never an anomaly that would
            # raise its alarm.
            quiet = time - told_at[row] < self.event_quiet and not alarming
            now = float(arrival[i])
            stormed = not quiet and self._fleet_spent(now, update.events) and not alarming
            if quiet or stormed:
                untold[row] += 1  # counted, not told
                update.untold += 1
                if stormed:
                    update.stormed += 1
                    self.fleet_untold += 1
                    kept_at = now
                if strong:
                    # Its alarm's anomaly goes on, told or not: the alarm stays as long as
                    # it does (updated in place, as a told repeat is: no event); kept, it
                    # would be taken for calm and cleared in the middle of the anomaly.
                    book.raise_(key, self.severity, _message(sensor, float(value[i]), score),
                                time=time)
                continue
            element = element_ids[row] if element_ids is not None else None
            update.events.extend(
                self._anomaly(sensor, element, time, float(value[i]), score, book,
                              untold=int(untold[row]))
            )
            self.fleet_told += 1
            told_at[row] = time
            untold[row] = 0
        if self.fleet_untold and kept_at - self.storm_at >= STORM_EVERY:
            # Told after the batch, so that its count is the batch's whole.
            self.storm_at = kept_at
            update.events.append(self._storm_event("anomaly_storm", kept_at))
        update.events.extend(self._clear_calm(rows, event_time, sensor_ids, book, rows_of))
        return update

    def _anomaly(
        self,
        sensor: str,
        element: str | None,
        time: float,
        value: float,
        score: float,
        book: AlarmBook,
        *,
        untold: int = 0,
    ) -> list[Event]:
        expected = self._expected(sensor, time)
        data = {
            "sensor": sensor,
            "score": round(score, 4),
            "value": value,
            "expected": expected is not None,
            "reason": expected.reason if expected is not None else None,
            # the sensor's anomalies since its previous event that its quiet time kept
            # from being told
            "untold": untold,
        }
        events = [Event("anomaly", time, element, "twinsync", data)]
        if expected is None and score >= self.alarm_at:
            raised = book.raise_(
                ALARM_PREFIX + sensor,
                self.severity,
                _message(sensor, value, score),
                element_id=element,
                time=time,
            )
            if raised is not None:
                events.append(raised)
        return events

    def _clear_calm(
        self,
        rows: NDArray[np.int64],
        event_time: NDArray[np.float64],
        sensor_ids: Sequence[str],
        book: AlarmBook,
        rows_of: Mapping[str, int] | None = None,
    ) -> list[Event]:
        """Clear the anomaly alarms of this batch's sensors whose last anomaly is
        ``clear_after`` behind their latest reading."""
        events: list[Event] = []
        active = [key for key in book.active if key.startswith(ALARM_PREFIX)]
        if not active:
            return events
        latest: dict[str, float] = {}
        wanted = {key[len(ALARM_PREFIX) :] for key in active}
        if rows_of is not None:
            wanted_rows = [rows_of[s] for s in wanted if s in rows_of]
            candidates = np.unique(rows[np.isin(rows, wanted_rows)]).tolist()
        else:
            candidates = np.unique(rows).tolist()
        for row in candidates:
            sensor = sensor_ids[row]
            if sensor in wanted:
                latest[sensor] = float(event_time[rows == row].max())
        for sensor, now in latest.items():
            alarm = book.active[ALARM_PREFIX + sensor]
            if now - alarm.updated_at >= self.clear_after:
                cleared = book.clear(
                    ALARM_PREFIX + sensor,
                    f"{sensor}: no anomaly for {self.clear_after:g} s",
                    time=now,
                )
                if cleared is not None:
                    events.append(cleared)
        return events

    def _expected(self, sensor: str, time: float) -> Expected | None:
        return next((span for span in self.expected.get(sensor, ()) if span.covers(time)), None)

    def mark_expected(
        self,
        sensor: str,
        start: float,
        end: float,
        reason: str,
        *,
        by: str,
        time: float,
        book: AlarmBook,
        mark_id: str = "",
    ) -> list[Event]:
        """Say that ``sensor``'s anomalies from ``start`` to ``end`` (event time) are
        expected; an active anomaly alarm of the sensor raised in that span is cleared.
        ``mark_id``: the mark's id (the caller gives all the spans of one mark the same)."""
        if not (math.isfinite(start) and math.isfinite(end) and start <= end):
            raise InvalidInput(
                "anomaly: an expected span runs from start to a later end", "bad_span"
            )
        if not reason.strip():
            raise InvalidInput("anomaly: an expected span needs a reason", "no_reason")
        span = Expected(sensor, float(start), float(end), reason.strip(), by)
        event = Event(
            "anomaly_expected",
            time,
            None,
            by,
            {
                "sensor": sensor,
                "start": span.start,
                "end": span.end,
                "reason": span.reason,
                "by": by,
                "id": mark_id,
            },
        )
        self.replay(event)
        events = [event]
        alarm = book.active.get(ALARM_PREFIX + sensor)
        if alarm is not None and span.covers(alarm.raised_at):
            cleared = book.clear(ALARM_PREFIX + sensor, f"expected: {span.reason}", time=time)
            if cleared is not None:
                events.append(cleared)
        return events

    def mark(self, mark_id: str) -> list[Expected]:
        """The standing spans of a mark (none: no such mark, or it was withdrawn)."""
        return [span for spans in self.expected.values() for span in spans
                if span.id == mark_id]

    def withdraw_expected(self, mark_id: str, reason: str, *, by: str,
                          time: float) -> list[Event]:
        """Take a standing mark back: its spans suppress nothing from now on. One
        ``anomaly_expected_withdrawn`` event a span; raises ``KeyError`` for a mark that
        is not standing (the caller tells an unknown one from a withdrawn one)."""
        if not reason.strip():
            raise InvalidInput("anomaly: a withdrawal needs a reason", "no_reason")
        spans = self.mark(mark_id)
        if not spans:
            raise KeyError(mark_id)
        events = [
            Event("anomaly_expected_withdrawn", time, None, by,
                  {"id": mark_id, "sensor": span.sensor, "start": span.start,
                   "end": span.end, "reason": reason.strip(), "by": by})
            for span in spans
        ]
        for event in events:
            self.replay(event)
        return events

    def replay(self, event: Event) -> None:
        """Take back an expected span from a stored ``anomaly_expected`` event, or its
        withdrawal from an ``anomaly_expected_withdrawn`` one (in the order stored)."""
        data = event.data
        if event.kind == "anomaly_expected_withdrawn":
            mark_id, sensor = str(data["id"]), str(data["sensor"])
            spans = self.expected.get(sensor, [])
            gone = tuple(span for span in spans if span.id == mark_id)
            self.expected[sensor] = [span for span in spans if span.id != mark_id]
            if not self.expected[sensor]:
                del self.expected[sensor]
            before = self.withdrawn.get(mark_id)
            self.withdrawn[mark_id] = Withdrawal(
                (before.spans if before else ()) + gone, str(data["by"]), event.time,
                str(data["reason"]))
            return
        if event.kind != "anomaly_expected":
            return
        span = Expected(
            str(data["sensor"]),
            float(data["start"]),
            float(data["end"]),
            str(data["reason"]),
            str(data["by"]),
            str(data.get("id") or legacy_id(event)),
            event.time,
        )
        self.expected.setdefault(span.sensor, []).append(span)


def legacy_id(event: Event) -> str:
    """The id of a mark stored before marks had one: the same for every span one mark
    made (they share the time, the person and the reason), and across restarts."""
    data = event.data
    key = json.dumps([event.time, data.get("by"), data.get("reason")])
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _message(sensor: str, value: float, score: float) -> str:
    return f"{sensor}: unusual reading {value:g} (anomaly score {score:.2f})"
