"""The service's watch: sensor health changes and slow sources become events and alarms.

Health changes found while ingesting are turned into events in the same transaction as
the readings. A timer (once a second) asks the health monitor about sensors that went
silent — no reading has to arrive for a sensor to go stale and then offline — and checks
each source's latency against its bound. Every few minutes it also saves the health
table to the store, so a crash loses minutes of learning, not days.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from ..errors import Overloaded
from ..health import HealthChanges
from ..model import Event
from .background import Background
from .commit import commit_store

if TYPE_CHECKING:
    from .twin_service import TwinService

log = logging.getLogger(__name__)

#: Which health states raise an alarm, and how loud. Spikes are transient and already
#: lower the quality of the reading; a stale sensor is on its way to offline. A wrong
#: clock is a warning: the values come, but the twin places them at the wrong time.
ALARM_SEVERITY = {"offline": "critical", "stuck": "warning", "drift": "warning",
                  "clock": "warning", "noisy": "info"}
#: Latency (p95, receive to commit) above this raises an alarm for the source.
LATENCY_BOUND_SECONDS = 60.0
#: How often the health table is saved. Its baselines take days to learn and move slowly,
#: so minutes lost to a crash cost nothing; the save writes ~1 KB per sensor.
HEALTH_SAVE_SECONDS = 300.0


class Watch:
    def __init__(self, service: TwinService, *, interval: float = 1.0,
                 latency_bound: float = LATENCY_BOUND_SECONDS,
                 save_every: float = HEALTH_SAVE_SECONDS) -> None:
        self.service = service
        self.interval = interval
        self.latency_bound = latency_bound
        self.save_every = save_every
        self._background = Background("twinsync-watch", self._run)

    def events_for(self, changes: HealthChanges, now: float) -> list[Event]:
        """Events (and alarm transitions) for a set of health changes."""
        service = self.service
        table = service.pipeline.table
        events: list[Event] = []
        for change in changes:
            sensor_id = table.ids[change.row]
            # An alarm names the element only while the sensor feeds it (not archived).
            binding = service.twin.live_binding(sensor_id)
            element_id = binding.element_id if binding else None
            events.append(Event("health_changed", now, element_id, "twinsync", {
                "sensor_id": sensor_id, "state": change.new, "previous": change.old,
                "quality": change.quality, "reason": change.reason}))
            key = f"health:{sensor_id}"
            severity = ALARM_SEVERITY.get(change.new)
            if severity is not None:
                alarm = service.alarms.raise_(key, severity, f"{sensor_id}: {change.reason}",
                                              element_id=element_id, time=now)
            elif change.new == "ok":
                alarm = service.alarms.clear(key, f"{sensor_id} is healthy again", time=now)
            elif change.old == "offline":
                # Readings arrive again; the sensor stays named (stale) until regular, but
                # "no reading" is no longer true.
                alarm = service.alarms.clear(key, f"{sensor_id}: {change.reason}", time=now)
            else:
                alarm = None
            if alarm is not None:
                events.append(alarm)
        return events

    def latency_events(self, now: float) -> list[Event]:
        service = self.service
        events: list[Event] = []
        latency = service.pipeline.latency
        for key in latency.names():
            if not key.startswith("commit:source:"):
                continue
            source = key.split(":", 2)[2]
            p95 = latency.percentiles(key, now)["p95"]
            alarm_key = f"latency:{source}"
            if p95 is not None and p95 > self.latency_bound:
                event = service.alarms.raise_(
                    alarm_key, "warning",
                    f"readings from {source} reach the twin {p95:.0f} s late (p95; bound "
                    f"{self.latency_bound:.0f} s)", time=now)
            elif alarm_key in service.alarms.active:
                event = service.alarms.clear(alarm_key, f"{source} is timely again", time=now)
            else:
                event = None
            if event is not None:
                events.append(event)
        return events

    async def check(self) -> list[Event]:
        """One round of the timer: silent sensors, slow sources."""
        events = await self.service.writer.write(self._check_on_writer)
        self.service.publish_events(events)
        return events

    def _check_on_writer(self) -> list[Event]:
        """A transaction like a batch's: if the events cannot be committed, the states the
        tick changed and the alarms go back, and the next round finds the same again."""
        service = self.service
        health = service.health
        used = health.rows_in_use
        table = health.table
        saved = (table.state[:used].copy(), table.quality[:used].copy(),
                 table.since[:used].copy())
        alarms = service.alarms.savepoint()
        try:
            now = service.clock()
            events = self.events_for(health.tick(now), now)
            events += self.latency_events(now)
            if events:
                commit_store(service.store.save_changes, events)
        except BaseException:
            table.state[:used], table.quality[:used], table.since[:used] = saved
            service.alarms.rollback(alarms)
            raise
        return events

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        saved = time.monotonic()
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Overloaded as exc:
                # A writer busy past its wait (a long import, start-up under load) is no
                # fault of the round: the next one, a second on, finds the same and more.
                log.warning("health watch round skipped: %s", exc)
            except Exception:  # the watch must outlive a bad round
                log.exception("health watch round failed")
            if time.monotonic() - saved >= self.save_every:
                saved = time.monotonic()
                try:
                    await self.service.save_health()
                except Exception:  # nor a failed save: the next one may succeed
                    log.exception("saving sensor health failed")
