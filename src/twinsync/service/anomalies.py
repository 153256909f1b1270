"""Anomaly detection in the service: every reading scored in the reading path, the
detector's state across restarts, and anomalies a person marks as expected.

``score`` runs on the writer inside a batch's transaction, after health has judged the
batch (so each reading's quality is known): every reading health folds in order
(``Batch.in_order``) gets a score in [0, 1], in event-time order per sensor, and is taught
to the detector only if its quality is ``min_quality`` or more (``AnomalyMonitor``);
readings behind their sensor's watermark, with a time not believed or a value out of
range are not scored (NaN), since the detector's contexts are sequences in time. The
scores go into ``batch.anomaly`` and are committed with the readings; the events and alarm
transitions are committed with them too. If the commit fails, ``rollback`` puts the
detector's rows and the monitor's event columns back (the service rolls the alarm book
back).

The detector's state, with the monitor's per-sensor event columns (when each sensor last
told an anomaly, how many it did not tell since), is saved with the health snapshot
(``save``, by the watch's timer and at shutdown) and restored at start-up; expected spans
come back from their stored ``anomaly_expected`` events, and the withdrawals of marks from
their ``anomaly_expected_withdrawn`` events, replayed in the order stored
(``AnomalyMonitor.replay``). With
``enabled`` False (the ``anomaly_detection`` setting) nothing is scored and every score
is NaN.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import NDArray

from ..analytics import AnomalyMonitor
from ..analytics.monitor import Expected, MonitorSavepoint
from ..analytics.snapshot import DetectorSnapshotMismatch, dump, load
from ..errors import Conflict, InvalidInput, NotFound
from ..model import Event, validate
from ..pipeline import Batch
from ..pipeline.times import parse_time
from ..store.audit import SYSTEM, Actor
from . import expected_marks
from .commit import commit_store
from .expected_marks import Withdrawn

if TYPE_CHECKING:
    from .twin_service import TwinService

log = logging.getLogger(__name__)

#: The store's name for the saved detector state.
ANOMALY_SNAPSHOT = "anomaly"
#: Events read from the store at a time when rebuilding the expected spans.
EVENT_PAGE = 10_000


class _ElementOf(Sequence[str | None]):
    """The element each sensor row feeds now (None: unbound or archived), looked up only
    for the few rows an anomaly names."""

    def __init__(self, service: TwinService) -> None:
        self._service = service

    def __len__(self) -> int:
        return len(self._service.pipeline.table)

    @overload
    def __getitem__(self, row: int) -> str | None: ...

    @overload
    def __getitem__(self, row: slice) -> Sequence[str | None]: ...

    def __getitem__(self, row: int | slice) -> str | Sequence[str | None] | None:
        if isinstance(row, slice):
            return [self[r] for r in range(len(self))[row]]
        sensor_id = self._service.pipeline.table.ids[row]
        binding = self._service.twin.live_binding(sensor_id)
        return binding.element_id if binding else None

    def __iter__(self) -> Iterator[str | None]:
        return (self[r] for r in range(len(self)))


class AnomalyDesk:
    """The anomaly detection of one ``TwinService`` (see the module)."""

    def __init__(self, service: TwinService, *, enabled: bool = True,
                 monitor: AnomalyMonitor | None = None) -> None:
        self.service = service
        self.enabled = enabled
        self.monitor = monitor if monitor is not None else AnomalyMonitor()
        self._elements = _ElementOf(service)
        if enabled:
            self._restore()
            self._resume_storm()
        # The marks are part of the record whatever the setting: with detection off they
        # suppress nothing (nothing is scored) but are still listed.
        for event in self._stored_expected():
            self.monitor.replay(event)

    # -- the reading path ------------------------------------------------------------------

    def score(self, batch: Batch, in_time: NDArray[np.int64]) -> list[Event]:
        """On the writer, after health: score ``batch`` (setting ``batch.anomaly``) and
        return its anomaly events and alarm transitions. ``in_time``: the positions of the
        readings health folds in order, each sensor's in event-time order (its contexts
        are sequences in time). Take ``savepoint`` first."""
        if not self.enabled or len(batch) == 0:
            return []
        scores = np.full(len(batch), np.nan)
        batch.anomaly = scores
        if in_time.size == 0:
            return []
        quality = (np.ones(in_time.size) if batch.quality is None
                   else batch.quality[in_time])
        service = self.service
        update = self.monitor.update_many(
            batch.rows[in_time], batch.event_time[in_time], batch.value[in_time], quality,
            sensor_ids=service.pipeline.table.ids, book=service.alarms,
            element_ids=self._elements, rows_of=service.pipeline.table.index,
            # The fleet's budget runs on arrival, which no device's clock moves.
            received_at=batch.received_at[in_time])
        scores[in_time] = update.scores
        return update.events

    def savepoint(self, batch: Batch, in_time: NDArray[np.int64]) -> MonitorSavepoint | None:
        if not self.enabled:
            return None
        return self.monitor.savepoint(batch.rows[in_time])

    def rollback(self, point: MonitorSavepoint | None) -> None:
        if point is not None:
            self.monitor.rollback(point)

    # -- across restarts -------------------------------------------------------------------

    def dump(self) -> bytes | None:
        """The detector's state (on the writer), or None when detection is off."""
        if not self.enabled:
            return None
        ids = self.service.pipeline.table.ids
        return dump(self.monitor.detector, ids, extra=self.monitor.columns(len(ids)))

    def _restore(self) -> None:
        body = self.service.store.load_snapshot(ANOMALY_SNAPSHOT)
        if body is None:
            return
        try:
            ids = self.service.pipeline.table.ids
            restored = load(self.monitor.detector, body, ids,
                            extra=self.monitor.columns(len(ids)))
        except DetectorSnapshotMismatch as exc:
            # Other settings or a damaged blob: learning afresh beats trusting it.
            log.warning("saved anomaly detector state not used, it learns afresh: %s", exc)
            return
        log.info("anomaly detector state restored for %d sensors", restored)

    def _resume_storm(self) -> None:
        """A storm told before the stop and not told ended goes on (``monitor.resume``)."""
        store = self.service.store
        storms = store.recent_events(limit=1, kind="anomaly_storm")
        if not storms:
            return
        ended = store.recent_events(limit=1, kind="anomaly_storm_ended")
        if ended and (ended[0].seq or 0) > (storms[0].seq or 0):
            return
        self.monitor.resume(storms[0])
        log.info("anomaly storm since %.0f goes on (%d untold so far)",
                 self.monitor.fleet_start, self.monitor.fleet_untold)

    def _stored_expected(self) -> list[Event]:
        """The marks and their withdrawals, in the order they were stored."""
        events: list[Event] = []
        store = self.service.store
        for kind in ("anomaly_expected", "anomaly_expected_withdrawn"):
            after = 0
            while page := store.events(kind=kind, after=after, limit=EVENT_PAGE):
                events += page
                after = page[-1].seq or 0
                if len(page) < EVENT_PAGE:
                    break
        return sorted(events, key=lambda event: event.seq or 0)

    # -- anomalies marked as expected ------------------------------------------------------

    async def mark_expected(self, *, start: str | float, end: str | float, reason: str,
                            sensor_id: str | None = None, element_id: str | None = None,
                            actor: Actor = SYSTEM) -> dict[str, Any]:
        """Say that the anomalies of a sensor, or of every sensor bound to an element, from
        ``start`` to ``end`` (ISO 8601 or epoch seconds) are expected, and why: they raise
        no alarm, and an active anomaly alarm raised in the span is cleared. One
        transaction: the spans' events, the cleared alarms and the audit entry."""
        if (sensor_id is None) == (element_id is None):
            raise InvalidInput("name a sensor_id or an element_id, not both", "bad_request")
        begins, ends = _time(start, "start"), _time(end, "end")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("an expected anomaly needs a reason", "no_reason")
        validate.text(reason, "reason")
        service = self.service

        def run() -> list[Event]:
            if not self.enabled:
                raise InvalidInput("anomaly detection is off (anomaly_detection = false)",
                                   "anomaly_detection_off")
            sensors = self._sensors_of(sensor_id, element_id)
            now = service.clock()
            saved = service.alarms.savepoint()
            spans = {sensor: list(self.monitor.expected.get(sensor, ())) for sensor in sensors}
            # One id for the mark: withdrawing it takes back the spans of all its sensors.
            mark_id = secrets.token_hex(6)
            try:
                events: list[Event] = []
                for sensor in sensors:
                    marked = self.monitor.mark_expected(sensor, begins, ends, reason,
                                                        by=actor.name, time=now,
                                                        book=service.alarms, mark_id=mark_id)
                    # Filed under the element the sensor feeds, as its anomalies are.
                    binding = service.twin.live_binding(sensor)
                    marked[0].element_id = binding.element_id if binding else None
                    events += marked
                target = f"sensor:{sensor_id}" if sensor_id else f"element:{element_id}"
                entry = service._entry(
                    "mark_anomaly_expected", target, actor,
                    after={"id": mark_id, "sensors": sensors, "start": begins,
                           "end": ends, "reason": reason.strip()},
                    element_id=element_id, sensor_id=sensor_id)
                commit_store(service.store.save_changes, events, audit_entries=[entry])
            except BaseException:
                service.alarms.rollback(saved)
                for sensor, kept in spans.items():
                    self.monitor.expected[sensor] = kept
                raise
            return events

        events = await service.writer.write(run)
        service.publish_events(events)
        return {
            "expected": [self._span_of(e) for e in events if e.kind == "anomaly_expected"],
            "cleared": [e.data.get("key") for e in events if e.kind == "alarm_cleared"],
        }

    async def withdraw_expected(self, mark_id: str, *, reason: str,
                                actor: Actor = SYSTEM) -> dict[str, Any]:
        """Take back a mark made in error: from now on its spans suppress no alarm. What
        they suppressed while they stood is not raised after the fact; a sensor still
        anomalous raises its alarm on its next anomalous reading. One transaction: an
        ``anomaly_expected_withdrawn`` event a span (who and why) and the audit entry.
        ``NotFound`` for an id that is no mark, ``Conflict`` for one withdrawn already."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("say why the mark is withdrawn", "no_reason")
        validate.text(reason, "reason")
        service = self.service

        def run() -> list[Event]:
            if not self.enabled:
                raise InvalidInput("anomaly detection is off (anomaly_detection = false)",
                                   "anomaly_detection_off")
            monitor = self.monitor
            spans = monitor.mark(mark_id)
            if not spans:
                if mark_id in monitor.withdrawn:
                    gone = monitor.withdrawn[mark_id]
                    raise Conflict(f"mark {validate.shown(mark_id)} was withdrawn already "
                                   f"(by {gone.by})")
                raise NotFound(f"no expected-anomaly mark {validate.shown(mark_id)}")
            kept = {span.sensor: list(monitor.expected[span.sensor]) for span in spans}
            before = monitor.withdrawn.get(mark_id)
            try:
                events = monitor.withdraw_expected(mark_id, reason, by=actor.name,
                                                   time=service.clock())
                for event in events:
                    binding = service.twin.live_binding(event.data["sensor"])
                    event.element_id = binding.element_id if binding else None
                elements = {event.element_id for event in events}
                sensors = sorted(span.sensor for span in spans)
                entry = service._entry(
                    "withdraw_anomaly_expected", f"expected:{mark_id}", actor,
                    before={"id": mark_id, "sensors": sensors, "start": spans[0].start,
                            "end": spans[0].end, "reason": spans[0].reason,
                            "by": spans[0].by},
                    after={"withdrawn_because": reason.strip()},
                    element_id=next(iter(elements)) if len(elements) == 1 else None,
                    sensor_id=sensors[0] if len(sensors) == 1 else None)
                commit_store(service.store.save_changes, events, audit_entries=[entry])
            except BaseException:
                monitor.expected.update(kept)
                if before is None:
                    monitor.withdrawn.pop(mark_id, None)
                else:
                    monitor.withdrawn[mark_id] = before
                raise
            return events

        events = await service.writer.write(run)
        service.publish_events(events)
        first = events[0].data
        return {"id": mark_id, "sensors": [e.data["sensor"] for e in events],
                "start": first["start"], "end": first["end"], "withdrawn_by": first["by"],
                "reason": first["reason"], "withdrawn_at": events[0].time}

    def _sensors_of(self, sensor_id: str | None, element_id: str | None) -> list[str]:
        twin = self.service.twin
        if sensor_id is not None:
            if sensor_id not in twin.sensors:
                raise NotFound(f"no sensor {validate.shown(sensor_id)}")
            return [sensor_id]
        assert element_id is not None
        element = twin.elements.get(element_id)
        if element is None or element.archived:
            raise NotFound(f"no element {validate.shown(element_id)}")
        sensors = sorted(s for s in twin.bindings if twin.live_binding(s) is not None
                         and twin.bindings[s].element_id == element_id)
        if not sensors:
            raise InvalidInput(f"element {validate.shown(element_id)} has no sensor bound",
                               "no_sensors")
        return sensors

    @staticmethod
    def _span_of(event: Event) -> dict[str, Any]:
        data = event.data
        return expected_marks.row_of(Expected(data["sensor"], data["start"], data["end"],
                                              data["reason"], data["by"], data["id"],
                                              event.time))

    async def expected(self, *, sensor_id: str | None = None, element_id: str | None = None,
                       withdrawn: Withdrawn = Withdrawn.EXCLUDE) -> list[dict[str, Any]]:
        """The expected spans of a sensor or of the sensors now bound to an element, or
        all, by sensor and in the order marked: standing ones (``withdrawn`` "exclude"),
        withdrawn ones with who withdrew them, when and why ("only"), or both
        ("include"). Every one of them, unpaged: ``expected_page`` pages them."""
        return await self.service.view(self._rows, sensor_id, element_id, withdrawn)

    async def expected_page(self, *, sensor_id: str | None = None,
                            element_id: str | None = None,
                            withdrawn: Withdrawn = Withdrawn.EXCLUDE, limit: int = 100,
                            after: str | None = None) -> dict[str, Any]:
        """A page of ``expected``: at most ``limit`` spans past the cursor ``after``, and
        the cursor of the next page (``next``) while more follow."""
        if not 1 <= limit <= expected_marks.MAX_PAGE:
            raise InvalidInput(f"limit: 1 to {expected_marks.MAX_PAGE}", "bad_limit")

        def read() -> dict[str, Any]:
            rows = self._rows(sensor_id, element_id, withdrawn)
            return expected_marks.page(rows, limit=limit, after=after)

        return await self.service.view(read)

    def _rows(self, sensor_id: str | None, element_id: str | None,
              withdrawn: Withdrawn) -> list[dict[str, Any]]:
        twin = self.service.twin
        wanted: set[str] | None = None
        if sensor_id is not None:
            wanted = {sensor_id}
        elif element_id is not None:
            wanted = {s for s, b in twin.bindings.items() if b.element_id == element_id}
        return expected_marks.spans(self.monitor.expected, self.monitor.withdrawn, wanted,
                                    Withdrawn(withdrawn))


def _time(value: object, what: str) -> float:
    """A mark's start or end: ISO 8601 or epoch seconds (or milliseconds), of a time a
    clock reaches. Past ``MAX_ABS_TIME`` even as milliseconds (1e300) it is a typo, not
    a time: it is refused rather than read as a span ending in a distant millennium."""
    seconds = parse_time(value)
    if seconds > validate.MAX_ABS_TIME:
        raise InvalidInput(f"{what} {validate.shown(value)} is not a time", "bad_time")
    return seconds
