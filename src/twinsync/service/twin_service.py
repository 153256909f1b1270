"""The service: the twin, its pipeline and its store, behind the operations every edge calls.

REST routes, WebSocket commands, connectors and CLI commands call ``TwinService``. Every
change of live state is a transaction run by the one writer (``writer.Writer``): compute
the proposed change, commit it to the store, and only then apply it to live state and
publish it. A failed commit leaves live state exactly as it was (savepoints of what the
proposal touched are put back) and raises ``StoreError``: the same request sent again is
accepted whole. Reads of live state run on the writer too (``view``), so no reader ever
sees a change half made; reads of history go to the store, which is safe from any thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from ..alerts import AlarmBook
from ..analytics import AnomalyMonitor
from ..errors import FailedAfterCommit, InvalidInput
from ..health import HealthMonitor, SnapshotMismatch, configure_from_twin, snapshot
from ..health.batch_order import in_time_order
from ..health.judge import judge_batch
from ..ingest.connector import Connector, ConnectorHealth
from ..model import Binding, Element, Event, Sensor, Source, Twin
from ..model.plan_records import PlanRow
from ..model.properties import property_updates
from ..model.validate import choice
from ..pipeline import (
    ALLOWED_LATENESS_SECONDS,
    FRESHNESS_SECONDS,
    Accepted,
    DeadLetter,
    IncomingBatch,
    Pipeline,
)
from ..pipeline.order import CountersUnreadable
from ..pipeline.repeats import kept_repeats
from ..store import Store, open_store
from ..store.audit import SYSTEM, Actor, AuditEntry
from ..store.base import History
from . import recovery
from .anomalies import ANOMALY_SNAPSHOT, AnomalyDesk
from .commit import Change, commit_store
from .field_sources import measured_keys
from .fusion import PropertyIndex
from .hub import Hub
from .publisher import Publisher
from .recovery import REPLAY_SECONDS
from .revisions import Match, Revisions, binding_key, element_key
from .supervisor import ConnectorSupervisor
from .twin_models import TWIN_SNAPSHOT, TwinModelDesk
from .twin_shadow import SHADOW_SNAPSHOT
from .views import TwinViews
from .watch import HEALTH_SAVE_SECONDS, LATENCY_BOUND_SECONDS, Watch
from .writer import Writer
from .zone_models import ZONE_SNAPSHOT, ZoneDesk

if TYPE_CHECKING:
    from ..bim import ExportOptions

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The events an alarm book is rebuilt from at start-up.
ALARM_EVENT_KINDS = ("alarm_raised", "alarm_updated", "alarm_acknowledged", "alarm_cleared")
#: Events read from the store at a time when rebuilding.
EVENT_PAGE = 10_000

#: The store's name for the saved health table.
HEALTH_SNAPSHOT = "health"
#: The store's name for the saved reading counters (lost, duplicates, late, epochs).
COUNTERS_SNAPSHOT = "sequence_counters"


@dataclass(slots=True)
class IngestResult:
    """What happened to one incoming batch. ``rejected`` are (position, reason, detail)."""

    accepted: int
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    duplicates: int = 0
    late: int = 0
    stale: int = 0
    quarantined: int = 0
    out_of_range: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "late": self.late,
            "stale": self.stale,
            "quarantined": self.quarantined,
            "out_of_range": self.out_of_range,
            "rejected": [{"index": i, "reason": r, "detail": d} for i, r, d in self.rejected],
        }


class TwinService(TwinViews):
    """One twin, live. Create with ``TwinService.open(url)``; close with ``aclose()``
    (or use it as an async context manager)."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time,
                 models_dir: Path | None = None, freshness: float = FRESHNESS_SECONDS,
                 allowed_lateness: float = ALLOWED_LATENESS_SECONDS,
                 latency_alarm: float = LATENCY_BOUND_SECONDS,
                 health_save_every: float = HEALTH_SAVE_SECONDS,
                 writer: Writer | None = None,
                 geometry: ExportOptions | None = None,
                 anomaly_detection: bool = True,
                 anomaly_monitor: AnomalyMonitor | None = None, twin_models: bool = True,
                 zone_models: bool = True, replay_budget: float = REPLAY_SECONDS) -> None:
        self.store = store
        self.clock: Callable[[], float] = clock
        self.twin = Twin()
        elements, sensors, bindings = store.load_twin()
        self.twin.load(elements, (s for _, s in sensors), bindings)
        #: The properties with a field measurement, for fusion (``field_sources``).
        self.measured = measured_keys(self.twin)
        self.revisions = Revisions(store.revisions())
        self.pipeline = Pipeline(self.twin, freshness=freshness,
                                 allowed_lateness=allowed_lateness)
        # Rows must match the stored ones: the readings history refers to them.
        for row, sensor in sensors:
            if self.pipeline.table.index[sensor.id] != row:
                raise InvalidInput(f"stored sensor rows are not dense at {sensor.id!r}",
                                   "corrupt_store")
        self._restore_live_state()
        # Redelivered readings (a lost acknowledgement) must be recognised after a restart.
        self.pipeline.sequences.restore(*store.recent_sequences())
        # Health places a reading behind its sensor's newest as far back as the pipeline
        # lets one through unflagged (``health/refold.py``).
        self.health = HealthMonitor(capacity=max(1024, len(self.pipeline.table)),
                                    reach=allowed_lateness)
        # Before the first reading: what was learned about each sensor carries on, and a
        # sensor found stuck or drifting stays so. The twin's settings then win over the
        # saved ones (a sensor may have been rebound while the service was down).
        self._restore_health()
        self._restore_counters()
        # Fleet-wide counts go on from the store's totals, committed with each batch.
        totals = store.totals()
        for name in self.pipeline.counts:
            self.pipeline.counts[name] = totals.get(name, 0)
        self.configure_health()
        self.alarms = AlarmBook()
        for event in self.stored_alarm_events():
            self.alarms.replay(event)
        # After the alarm book: an anomaly alarm active at shutdown stays active.
        # The monitor holds the settings' thresholds and budget (``Settings.anomaly_monitor``).
        self.anomalies = AnomalyDesk(self, enabled=anomaly_detection, monitor=anomaly_monitor)
        # After the alarm book too: a divergence alarm active at shutdown stays active.
        self.twin_models = TwinModelDesk(self, enabled=twin_models)
        self.zones = ZoneDesk(self, enabled=zone_models)
        self.properties = PropertyIndex.build(self.twin, self.pipeline.table)
        self.watch = Watch(self, latency_bound=latency_alarm, save_every=health_save_every)
        self.hub = Hub()
        self.writer = writer or Writer()
        self.publisher = Publisher(self)
        self._closed = False
        self.connectors: dict[str, Connector] = {}
        self.supervisor = ConnectorSupervisor(self.ingest, self.add_dead_letters,
                                              connectors=self.connectors)
        from .curing import CuringDesk
        from .models import ModelLibrary
        from .schedules import ScheduleDesk, load_plan
        from .site_events import SiteEventDesk

        self.models = ModelLibrary(self, models_dir or models_dir_for(store.url), geometry)
        self.plan = load_plan(store)
        self.schedules = ScheduleDesk(self)
        self.curing = CuringDesk(self)
        self.site_events = SiteEventDesk(self)  # hands health the declared spans
        # Last, once everything that learns is restored and configured, and before the
        # writer takes a batch: what was committed after the last save is learned again.
        self.replayed = recovery.replay(self, budget=replay_budget)
        self.zones.settle_alarms()

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> TwinService:
        return cls(open_store(url), **kwargs)

    async def __aenter__(self) -> TwinService:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop connectors, let the writer finish, close the store. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self.watch.stop()
        await self.curing.stop()
        await self.publisher.stop()
        await self.supervisor.aclose()
        # No reading can arrive now: this is the newest state there will be.
        try:
            await self.save_health()
        except Exception:  # closing the store matters more than the snapshot
            log.exception("saving sensor health at shutdown failed")
        await self.writer.aclose()
        await asyncio.to_thread(self.store.close)

    def configure_health(self) -> None:
        """Tell the health monitor each sensor's interval, resolution and peer group."""
        configure_from_twin(self.health, self.twin, self.pipeline.table)

    def _restore_health(self) -> None:
        body = self.store.load_snapshot(HEALTH_SNAPSHOT)
        if body is None:
            return
        try:
            restored = snapshot.load(self.health, body, self.pipeline.table.ids)
        except SnapshotMismatch as exc:
            # An older layout or a damaged blob: relearning beats trusting it.
            log.warning("saved sensor health not used, health starts afresh: %s", exc)
            return
        log.info("sensor health restored for %d sensors", restored)

    def _restore_counters(self) -> None:
        """Lost, duplicate, late and epoch counts per sensor, as last saved: loss a restart
        would otherwise hide."""
        body = self.store.load_snapshot(COUNTERS_SNAPSHOT)
        if body is None:
            return
        try:
            restored = self.pipeline.sequences.load(body, self.pipeline.table.ids)
        except CountersUnreadable as exc:
            log.warning("saved reading counters not used, counting starts afresh: %s", exc)
            return
        log.info("reading counters restored for %d sensors", restored)

    async def save_health(self) -> None:
        """Save every sensor's learned health, its reading counters, the anomaly
        detector's, the twin models' (a running shadow's too) and the zones' state to the
        store, with the journal position they reach, in one transaction (by the watch's
        timer, and at shutdown). Dumped on the writer, so no batch is half in; written off
        it."""
        state = await self.view(self._dump_state)
        await asyncio.to_thread(self._write_state, state)

    def save_now(self) -> None:
        """``save_health`` on the writer, at once: after a change that the batches before
        it must not be replayed across (a shadow started, a promotion)."""
        self._write_state(self._dump_state())

    def _dump_state(self) -> recovery.SavedState:
        """On the writer: the learned state and where in the journal it stands."""
        ids = self.pipeline.table.ids
        newest = self.store.recent_events(limit=1)
        snapshots = {HEALTH_SNAPSHOT: snapshot.dump(self.health, ids),
                     COUNTERS_SNAPSHOT: self.pipeline.sequences.dump(ids),
                     recovery.STATE_SNAPSHOT: recovery.state_note(
                         (newest[0].seq or 0) if newest else 0)}
        for name, body in ((ANOMALY_SNAPSHOT, self.anomalies.dump()),
                           (TWIN_SNAPSHOT, self.twin_models.dump()),
                           (SHADOW_SNAPSHOT, self.twin_models.shadow.dump()),
                           (ZONE_SNAPSHOT, self.zones.dump())):
            if body is not None:
                snapshots[name] = body
        return recovery.SavedState(snapshots, self.store.position(),
                                   self.twin_models.generation)

    def _write_state(self, state: recovery.SavedState) -> None:
        """Write a dump unless a promotion has saved a newer one since (its tracker under
        other parameters): an older state must not land after it."""
        with self.twin_models.save_lock:
            if state.generation == self.twin_models.generation:
                self.store.save_state(state.snapshots, state.position)

    def stored_alarm_events(self) -> list[Event]:
        """Every alarm event in the store, oldest first, read a page at a time: a cap on
        the count would lose the newest of a long history without a word."""
        events: list[Event] = []
        for kind in ALARM_EVENT_KINDS:
            after = 0
            while page := self.store.events(kind=kind, after=after, limit=EVENT_PAGE):
                events += page
                after = page[-1].seq or 0
                if len(page) < EVENT_PAGE:
                    break
        return sorted(events, key=lambda e: e.seq or 0)

    async def start_background(self) -> None:
        """Start the timer that notices silent sensors and slow sources, the tick that
        pushes live values to subscribers, and the rounds that watch concrete cure."""
        self.watch.start()
        self.publisher.start()
        self.curing.start()

    def _restore_live_state(self) -> None:
        stored = self.store.aggregates()
        if len(stored.rows):
            self.pipeline.table.restore(
                stored.rows, count=stored.count, last_value=stored.last_value,
                last_event_time=stored.last_event_time,
                last_received_at=stored.last_received_at, mean=stored.mean, m2=stored.m2,
                minimum=stored.minimum, maximum=stored.maximum,
                first_event_time=stored.first_event_time)

    # -- reads -----------------------------------------------------------------------------

    async def view(self, read: Callable[..., T], *args: Any) -> T:
        """Run a read of live state on the writer: it sees every committed change whole."""
        return await self.writer.read(read, *args)

    async def history(self, read: Callable[..., T], *args: Any) -> T:
        """Run a read of the store (history, events, dead letters) off the event loop."""
        return await asyncio.to_thread(read, *args)

    # -- transactions ----------------------------------------------------------------------

    def _transact(self, propose: Callable[[], Change]) -> Change:
        """On the writer: propose (changes the twin), commit, then apply to the pipeline
        and health. If anything before the commit's end fails, the twin is put back."""
        saved = self.twin.checkpoint()
        saved_plan = self.plan.savepoint()
        saved_alarms = None
        left: list[Event] = []
        try:
            change = propose()
            if change.sensors or change.bindings or change.unbound or change.elements:
                # A zone this change ends takes its divergence alarm with it, committed
                # together: nothing else would clear it.
                saved_alarms = self.alarms.savepoint()
                left = self.zones.leaving(change)
                change.events += left
                if change.sensors or change.bindings or change.unbound:
                    # So does a sensor's model that the change stops or restarts.
                    change.events += self.twin_models.leaving()
            change.revisions = self.revisions.bumped(change)
            self._commit_change(change)
        except BaseException:
            self.twin.rollback(saved)
            self.plan.rollback(saved_plan)
            if saved_alarms is not None:
                self.alarms.rollback(saved_alarms)
            raise
        self.revisions.apply(change.revisions)
        if change.sensors or change.bindings or change.unbound:
            self._register(change.sensors, change.bindings, change.unbound)
        elif left or self.zones.changed_by(change.elements):
            # An element that became or stopped being a zone or an outdoor source without
            # a change of bindings (its ``thermal_zone`` or ``outdoor`` property set, the
            # element archived): the zones follow at once, as the alarm did.
            self.zones.apply_bindings()
        return change

    def _commit_change(self, change: Change) -> None:
        # The rows new sensors will take: the pipeline gives them out in this order once
        # the commit has succeeded (``_register``).
        table = self.pipeline.table
        rows, next_row = [], len(table)
        for sensor in change.sensors:
            row = table.index.get(sensor.id)
            if row is None:
                row, next_row = next_row, next_row + 1
            rows.append((row, sensor))
        commit_store(self.store.save_changes, change.events, elements=change.elements,
                     sensors=rows, bindings=change.bindings, unbound=change.unbound,
                     revisions=change.revisions, audit_entries=change.audit,
                     plan=change.plan)

    def _register(self, sensors: Sequence[Sensor], bindings: Sequence[Binding],
                  unbound: Sequence[str] = ()) -> None:
        """After a commit: new sensors get their rows and bindings their transforms in the
        pipeline, health learns the peer groups, the property index follows."""
        for sensor in sensors:
            self.pipeline.register_sensor(sensor)
        for binding in bindings:
            self.pipeline.apply_binding(binding)
        for sensor_id in unbound:
            if sensor_id not in self.twin.bindings:
                self.pipeline.apply_binding(None, sensor_id)
        self.configure_health()
        self.site_events.apply()  # the sensors an event's elements hold may have changed
        self.twin_models.apply_bindings()
        self.zones.apply_bindings()
        self.properties = PropertyIndex.build(self.twin, self.pipeline.table)

    async def _run(self, propose: Callable[[], Change]) -> list[Event]:
        """Run a twin operation as a transaction and publish its events once committed."""
        change = await self.writer.write(self._transact, propose)
        self.publish_events(change.events)
        return change.events

    def publish_events(self, events: Sequence[Event]) -> None:
        """Send committed events to subscribers (on the event loop)."""
        if events and len(self.hub):
            self.hub.publish([self._change_of(e) for e in events])

    # -- operations on the twin ---------------------------------------------------------------

    def _entry(self, operation: str, target: str, actor: Actor, before: Any = None,
               after: Any = None, *, element_id: str | None = None,
               sensor_id: str | None = None) -> AuditEntry:
        return AuditEntry(operation, target, actor, self.clock(), before, after,
                          element_id, sensor_id)

    async def add_element(self, element: Element, *, source: str = "manual",
                          actor: Actor = SYSTEM) -> Event:
        def propose() -> Change:
            event = self.twin.add_element(element, time=self.clock(), source=source)
            entry = self._entry("add_element", element_key(element.id), actor,
                                after=element.to_dict(), element_id=element.id)
            return Change([event], elements=[element], audit=[entry])
        return (await self._run(propose))[0]

    async def add_sensor(self, sensor: Sensor, *, actor: Actor = SYSTEM) -> Event:
        def propose() -> Change:
            event = self.twin.add_sensor(sensor, time=self.clock())
            entry = self._entry("add_sensor", f"sensor:{sensor.id}", actor,
                                after=sensor.to_dict(), sensor_id=sensor.id)
            return Change([event], sensors=[sensor], audit=[entry])
        return (await self._run(propose))[0]

    async def bind_sensor(self, binding: Binding, *, actor: Actor = SYSTEM) -> Event:
        def propose() -> Change:
            event = self.twin.bind_sensor(binding, time=self.clock())
            entry = self._entry("bind_sensor", binding_key(binding.sensor_id), actor,
                                after=binding.to_dict(), element_id=binding.element_id,
                                sensor_id=binding.sensor_id)
            return Change([event], bindings=[binding], audit=[entry])
        return (await self._run(propose))[0]

    async def rebind_sensor(self, binding: Binding, *, actor: Actor = SYSTEM,
                            if_match: Match | None = None) -> list[Event]:
        """Bind a sensor, moving it off its present binding if it has one, in one step: no
        reading finds it unbound in between, and the events are committed together. If
        the new binding is refused the old one stays, and nothing is committed. With
        ``if_match``, only if the binding is still at one of those revisions."""
        def propose() -> Change:
            sensor_id = binding.sensor_id
            old = self.twin.bindings.get(sensor_id)
            self.revisions.require(binding_key(sensor_id), if_match, exists=old is not None,
                                   what=f"the binding of sensor {sensor_id!r}")
            now = self.clock()
            events = []
            if old is not None:
                events.append(self.twin.unbind_sensor(sensor_id, time=now))
            events.append(self.twin.bind_sensor(binding, time=now))
            entry = self._entry("bind_sensor", binding_key(sensor_id), actor,
                                old.to_dict() if old else None, binding.to_dict(),
                                element_id=binding.element_id, sensor_id=sensor_id)
            # The binding's row is replaced in place: not ``unbound``, which deletes it.
            return Change(events, bindings=[binding], audit=[entry])
        return await self._run(propose)

    async def unbind_sensor(self, sensor_id: str, *, actor: Actor = SYSTEM,
                            if_match: Match | None = None) -> Event:
        def propose() -> Change:
            old = self.twin.bindings.get(sensor_id)
            self.revisions.require(binding_key(sensor_id), if_match, exists=old is not None,
                                   what=f"the binding of sensor {sensor_id!r}")
            event = self.twin.unbind_sensor(sensor_id, time=self.clock())
            entry = self._entry("unbind_sensor", binding_key(sensor_id), actor,
                                old.to_dict() if old else None, None,
                                element_id=event.element_id, sensor_id=sensor_id)
            return Change([event], unbound=[sensor_id], audit=[entry])
        return (await self._run(propose))[0]

    async def update_element(self, element_id: str, *, status: str | None = None,
                             properties: dict[str, Any] | None = None,
                             source: str = Source.FIELD.value,
                             time: float | None = None, actor: Actor = SYSTEM,
                             if_match: Match | None = None,
                             status_confidence: float | None = None) -> list[Event]:
        """A field update: a status (as sure as ``status_confidence``, else the source's
        default) and/or property values, from one source, atomically. With ``if_match``,
        only if the element is still at one of those revisions."""
        src = choice(source, Source, "source", "bad_source")
        updates = property_updates(properties or {})

        def propose() -> Change:
            current = self.twin.elements.get(element_id)
            self.revisions.require(
                element_key(element_id), if_match,
                exists=current is not None and not current.archived,
                what=f"element {element_id!r}")
            element = self.twin.element(element_id)
            when = self.clock() if time is None else time
            # The element is changed in place: the copy goes back if anything fails.
            changed = dataclasses.replace(element, properties=dict(element.properties))
            self.twin.elements[element_id] = changed
            events: list[Event] = []
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            plan: list[PlanRow] = []
            if status is not None:
                before["status"] = element.status.value
                events.append(self.twin.update_status(element_id, status, source=src,
                                                      time=when))
                after["status"] = changed.status.value
                # What a source saw of the element: the schedule reads it as progress.
                plan = self.schedules.observed(events[-1], status_confidence)
            for name, value, unit, confidence in updates:
                old = element.properties.get(name)
                before.setdefault("properties", {})[name] = old.to_dict() if old else None
                events.append(self.twin.set_property(
                    element_id, name, value, unit=unit, source=src, time=when,
                    confidence=confidence))
                after.setdefault("properties", {})[name] = changed.properties[name].to_dict()
            if not events:
                raise InvalidInput("nothing to update: give a status or properties", "empty")
            entry = self._entry("update_element", element_key(element_id), actor, before,
                                after, element_id=element_id)
            return Change(events, elements=[changed], audit=[entry], plan=plan)
        return await self._run(propose)

    async def import_project(self, elements: Sequence[Element], sensors: Sequence[Sensor],
                             bindings: Sequence[Binding], *, source: str = "manual",
                             actor: Actor = SYSTEM) -> list[Event]:
        """Add many elements, sensors and bindings in one transaction, all or nothing."""
        def propose() -> Change:
            now = self.clock()
            events = [self.twin.add_element(e, time=now, source=source) for e in elements]
            events += [self.twin.add_sensor(s, time=now) for s in sensors]
            events += [self.twin.bind_sensor(b, time=now) for b in bindings]
            entry = self._entry("import_project", "project", actor, after={
                "elements": len(elements), "sensors": len(sensors), "bindings": len(bindings)})
            return Change(events, elements=elements, sensors=sensors, bindings=bindings,
                          audit=[entry])
        return await self._run(propose)

    async def acknowledge_alarm(self, key: str, *, by: str, actor: Actor = SYSTEM) -> Event:
        def acknowledge() -> Event:
            saved = self.alarms.savepoint()
            try:
                event = self.alarms.acknowledge(key, by=by, time=self.clock())
                entry = self._entry("acknowledge_alarm", f"alarm:{key}", actor,
                                    after={"acknowledged_by": by},
                                    element_id=event.element_id)
                commit_store(self.store.save_changes, [event], audit_entries=[entry])
            except BaseException:
                self.alarms.rollback(saved)
                raise
            return event
        event = await self.writer.write(acknowledge)
        self.publish_events([event])
        return event

    async def audit_change(self, entry: AuditEntry) -> None:
        """Record a change kept outside the store (a connector started or stopped)."""
        await asyncio.to_thread(commit_store, self.store.add_audit, [entry])

    async def sync_clock(self, source: str, t0: float, t1: float, t2: float, t3: float
                         ) -> dict[str, Any]:
        """A four-timestamp clock exchange with a source (``POST /api/time``)."""
        def sync() -> dict[str, Any]:
            return self.pipeline.clocks.sync(source, t0, t1, t2, t3).to_dict()
        return await self.writer.write(sync)

    # -- the reading path --------------------------------------------------------------------

    async def ingest(self, incoming: IncomingBatch,
                     dead_letters: Sequence[DeadLetter] = ()) -> IngestResult:
        """Validate, commit, then apply and publish. Accepted means committed.

        Raises ``StoreError`` when the commit failed (nothing of the batch was kept, and
        sending it again is accepted whole), ``Overloaded`` when the writer is full, and
        ``FailedAfterCommit`` when the batch was committed and what follows the commit
        (live state, publishing, the answer) failed: it must not be sent again."""
        result, events = await self.writer.write(
            self._ingest_on_writer, incoming, dead_letters,
            readings=len(incoming.readings) + len(dead_letters))
        try:
            self.publish_events(events)
        except Exception as exc:
            raise FailedAfterCommit(f"batch committed, then publishing its events failed: "
                                    f"{type(exc).__name__}: {exc}", result) from exc
        return result

    def _ingest_on_writer(self, incoming: IncomingBatch, dead_letters: Sequence[DeadLetter]
                          ) -> tuple[IngestResult, list[Event]]:
        pipeline = self.pipeline
        accepted = pipeline.accept(incoming)
        health_point = alarm_point = anomaly_point = model_point = zone_point = None
        try:
            if (accepted.behind_window is not None
                    and np.count_nonzero(accepted.behind_window)):
                accepted = pipeline.drop_repeats(accepted, self._stored_repeats(accepted))
            batch = accepted.batch
            # Saved first: a batch whose commit fails leaves health as it was.
            ordered = batch.in_order()
            health_point = self.health.savepoint(batch.rows[ordered])
            changes = judge_batch(self.health, batch, ordered=ordered,
                                  ahead=pipeline.clocks.device_offsets(batch.rows))
            now = self.clock()
            if (len(changes) or self.anomalies.enabled or self.twin_models.enabled
                    or self.zones.enabled):
                alarm_point = self.alarms.savepoint()
            events = self.watch.events_for(changes, now)
            # The readings health folds in order, each sensor's in event-time order: what
            # the anomaly detector and the twin's models take, sorted once for both.
            in_time = (in_time_order(np.flatnonzero(ordered), batch.rows, batch.event_time)
                       if self.anomalies.enabled or self.twin_models.enabled
                       or self.zones.enabled
                       else np.zeros(0, dtype=np.int64))
            # After health: a reading's quality decides whether it teaches the detector.
            anomaly_point = self.anomalies.savepoint(batch, in_time)
            events += self.anomalies.score(batch, in_time)
            # The physics twin: each bound sensor's level/trend model, its divergence.
            model_point = self.twin_models.savepoint(batch, in_time)
            events += self.twin_models.step(batch, in_time)
            # The thermal zones: each space's RC model, its R and C learned online, its
            # divergence watched.
            zone_point = self.zones.savepoint(batch, in_time)
            events += self.zones.step(batch, in_time)
            letters = [d for _, d in accepted.rejected]
            letters.extend(dead_letters)
            # The counts go with the batch: a crash cannot keep one without the other.
            commit_store(self.store.commit, batch, letters, events,
                         pipeline.counts_of(accepted))
        except BaseException:
            pipeline.rollback(accepted)
            if health_point is not None:
                self.health.rollback(health_point)
            if alarm_point is not None:
                self.alarms.rollback(alarm_point)
            self.anomalies.rollback(anomaly_point)
            self.twin_models.rollback(model_point)
            self.zones.rollback(zone_point)
            raise
        try:
            pipeline.settle(accepted, self.clock())
            latest = pipeline.apply(batch)
            self.publisher.moved(latest.rows[latest.advanced])
            result = IngestResult(len(batch),
                                  [(i, d.reason, d.detail) for i, d in accepted.rejected],
                                  accepted.duplicates, accepted.late, accepted.stale,
                                  accepted.quarantined, accepted.out_of_range)
        except Exception as exc:
            # Durable already: nothing is rolled back (the sequence windows keep the batch,
            # so a redelivery is a duplicate), and the caller must neither send it again
            # nor call its readings bad. Live values skipped here move with the next reading.
            raise FailedAfterCommit(f"batch committed, then applying it failed: "
                                    f"{type(exc).__name__}: {exc}") from exc
        return result, events

    def _stored_repeats(self, accepted: Accepted) -> NDArray[np.bool_]:
        """Which readings the in-memory state could not judge are already stored.

        A broker redelivers everything it had not seen acknowledged — after a crash that can
        reach further back than the in-memory window — and a client retries a whole batch
        (``pipeline.repeats``)."""
        assert accepted.behind_window is not None

        def read(row: int, start: float, end: float) -> History:
            return self.store.history(row, start, end, limit=10_000_000)

        return kept_repeats(self.pipeline.sequences, accepted.batch, accepted.behind_window,
                            read)

    async def add_dead_letters(self, dead_letters: Sequence[DeadLetter]) -> None:
        if dead_letters:
            await asyncio.to_thread(commit_store, self.store.add_dead_letters, dead_letters)

    @staticmethod
    def _change_of(event: Event) -> dict[str, Any]:
        return {"kind": event.kind, "element_id": event.element_id, "seq": event.seq,
                "time": event.time, "source": event.source, **event.data}

    # -- connectors ---------------------------------------------------------------------------
    # Thin delegation to the supervisor (``supervisor.py``), which runs every consumer in
    # one task group, restarts a failing one with backoff, dead-letters a delivery whose
    # ingest raises, and retries one the store refused.

    async def start_connector(self, connector: Connector, *, wait: bool = True) -> None:
        """Supervise a connector. With ``wait`` it checks its source first and its
        ConnectorError reaches the caller; without, it keeps trying in the background and
        its health says ``connecting``/``restarting`` meanwhile."""
        await self.supervisor.start(connector, wait=wait)

    async def run_connector(self, connector: Connector) -> None:
        """Supervise a connector its caller has already started."""
        await self.supervisor.start(connector, started=True)

    async def stop_connector(self, name: str) -> None:
        await self.supervisor.stop(name)

    def connector_health(self) -> list[ConnectorHealth]:
        return self.supervisor.health()


def models_dir_for(url: str) -> Path:
    """Where a store's IFC files go: beside a SQLite file, else ``.twinsync/models``."""
    if url.startswith("sqlite:"):
        from ..store.sqlite import path_of

        path, _ = path_of(url)
        if path != ":memory:":
            file = Path(path)
            return file.with_name(file.stem + "-models")
    return Path(".twinsync") / "models"
