"""The service: the twin, its pipeline and its store, behind the operations every edge calls.

REST routes, WebSocket commands, connectors and CLI commands call ``TwinService``; it
applies the operation to the in-memory twin, commits the result to the store, and then
publishes the change to subscribers. Writes are serialised by one lock so the event log
and the live state change in the same order; the blocking work (validation, store
commit) runs in a worker thread so the event loop keeps serving reads and sockets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInput, NotFound
from ..ingest.connector import Connector, ConnectorHealth
from ..model import (
    SPATIAL_TYPES,
    Binding,
    Element,
    Event,
    Sensor,
    Source,
    Status,
    Twin,
)
from ..pipeline import Batch, DeadLetter, IncomingBatch, LatestPerRow, Pipeline
from ..store import Store, open_store
from .hub import Hub

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestResult:
    """What happened to one incoming batch. ``rejected`` are (position, reason, detail)."""

    accepted: int
    rejected: list[tuple[int, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": [{"index": i, "reason": r, "detail": d} for i, r, d in self.rejected],
        }


class TwinService:
    """One twin, live. Create with ``TwinService.open(url)``; close with ``aclose()``."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time,
                 models_dir: Path | None = None) -> None:
        self.store = store
        self.clock = clock
        self.twin = Twin()
        elements, sensors, bindings = store.load_twin()
        self.twin.load(elements, (s for _, s in sensors), bindings)
        self.pipeline = Pipeline(self.twin)
        # Rows must match the stored ones: the readings history refers to them.
        for row, sensor in sensors:
            if self.pipeline.table.index[sensor.id] != row:
                raise InvalidInput(f"stored sensor rows are not dense at {sensor.id!r}",
                                   "corrupt_store")
        self._restore_live_state()
        self.hub = Hub()
        self._closed = False
        self._lock = asyncio.Lock()
        self.connectors: dict[str, Connector] = {}
        self._connector_tasks: dict[str, asyncio.Task[None]] = {}
        self._connector_errors: dict[str, str] = {}
        from .models import ModelLibrary

        self.models = ModelLibrary(self, models_dir or models_dir_for(store.url))

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> TwinService:
        return cls(open_store(url), **kwargs)

    async def aclose(self) -> None:
        """Stop connectors and close the store. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for name in list(self.connectors):
            await self.stop_connector(name)
        await asyncio.to_thread(self.store.close)

    def _restore_live_state(self) -> None:
        stored = self.store.aggregates()
        if len(stored.rows):
            self.pipeline.table.restore(
                stored.rows, count=stored.count, last_value=stored.last_value,
                last_event_time=stored.last_event_time,
                last_received_at=stored.last_received_at, mean=stored.mean, m2=stored.m2,
                minimum=stored.minimum, maximum=stored.maximum,
                first_event_time=stored.first_event_time)

    # -- operations on the twin -------------------------------------------------------------

    async def _commit_change(self, event: Event, *, elements: Sequence[Element] = (),
                             sensors: Sequence[Sensor] = (), bindings: Sequence[Binding] = (),
                             unbound: Sequence[str] = ()) -> Event:
        rows = [(self.pipeline.table.index[s.id], s) for s in sensors]
        await asyncio.to_thread(self.store.save_changes, [event], elements=elements,
                                sensors=rows, bindings=bindings, unbound=unbound)
        self.hub.publish([self._change_of(event)])
        return event

    async def add_element(self, element: Element, *, source: str = "manual") -> Event:
        async with self._lock:
            event = self.twin.add_element(element, time=self.clock(), source=source)
            return await self._commit_change(event, elements=[element])

    async def add_sensor(self, sensor: Sensor) -> Event:
        async with self._lock:
            event = self.twin.add_sensor(sensor, time=self.clock())
            self.pipeline.register_sensor(sensor)
            return await self._commit_change(event, sensors=[sensor])

    async def bind_sensor(self, binding: Binding) -> Event:
        async with self._lock:
            event = self.twin.bind_sensor(binding, time=self.clock())
            self.pipeline.apply_binding(binding)
            return await self._commit_change(event, bindings=[binding])

    async def unbind_sensor(self, sensor_id: str) -> Event:
        async with self._lock:
            event = self.twin.unbind_sensor(sensor_id, time=self.clock())
            self.pipeline.apply_binding(None, sensor_id)
            return await self._commit_change(event, unbound=[sensor_id])

    async def update_element(self, element_id: str, *, status: str | None = None,
                             properties: dict[str, Any] | None = None,
                             source: str = Source.FIELD.value,
                             time: float | None = None) -> list[Event]:
        """A field update: a status and/or property values, from one source, atomically."""
        async with self._lock:
            element = self.twin.element(element_id)
            when = self.clock() if time is None else time
            try:
                src = Source(source)
            except ValueError:
                allowed = ", ".join(s.value for s in Source)
                raise InvalidInput(f"source {source!r} is not one of {allowed}",
                                   "bad_source") from None
            # Validate everything before changing anything: a field update applies whole or not.
            if status is not None and status not in {s.value for s in Status}:
                raise InvalidInput(f"status {status!r} is not one of "
                                   + ", ".join(s.value for s in Status), "bad_status")
            updates = _property_updates(properties or {})
            before = Element.from_dict(element.to_dict())
            events: list[Event] = []
            try:
                if status is not None:
                    events.append(self.twin.update_status(element_id, status, source=src,
                                                          time=when))
                for name, value, unit, confidence in updates:
                    events.append(self.twin.set_property(
                        element_id, name, value, unit=unit, source=src, time=when,
                        confidence=confidence))
            except Exception:
                self.twin.elements[element_id] = before
                raise
            if not events:
                raise InvalidInput("nothing to update: give a status or properties", "empty")
            await asyncio.to_thread(self.store.save_changes, events, elements=[element])
            self.hub.publish([self._change_of(e) for e in events])
            return events

    async def import_project(self, elements: Sequence[Element], sensors: Sequence[Sensor],
                             bindings: Sequence[Binding], *, source: str = "manual"
                             ) -> list[Event]:
        """Add many elements, sensors and bindings in one transaction, all or nothing."""
        async with self._lock:
            now = self.clock()
            saved = self.twin.checkpoint()
            try:
                events = [self.twin.add_element(e, time=now, source=source) for e in elements]
                events += [self.twin.add_sensor(s, time=now) for s in sensors]
                events += [self.twin.bind_sensor(b, time=now) for b in bindings]
            except Exception:
                self.twin.rollback(saved)
                raise
            for sensor in sensors:
                self.pipeline.register_sensor(sensor)
            for binding in bindings:
                self.pipeline.apply_binding(binding)
            rows = [(self.pipeline.table.index[s.id], s) for s in sensors]
            await asyncio.to_thread(self.store.save_changes, events, elements=elements,
                                    sensors=rows, bindings=bindings)
            self.hub.publish([self._change_of(e) for e in events])
            return events

    async def replace_element(self, element: Element, *, source: str = "bim") -> Event:
        async with self._lock:
            event = self.twin.update_element(element, time=self.clock(), source=source)
            return await self._commit_change(event, elements=[element])

    # -- the reading path --------------------------------------------------------------------

    async def ingest(self, incoming: IncomingBatch,
                     dead_letters: Sequence[DeadLetter] = ()) -> IngestResult:
        """Validate, commit, then apply and publish. Accepted means committed."""
        async with self._lock:
            batch, rejected, latest = await asyncio.to_thread(
                self._ingest_blocking, incoming, dead_letters)
        if len(self.hub):
            self.hub.publish(self._property_changes(batch, latest))
        return IngestResult(len(batch), [(i, d.reason, d.detail) for i, d in rejected])

    def _ingest_blocking(self, incoming: IncomingBatch, dead_letters: Sequence[DeadLetter]
                         ) -> tuple[Batch, list[tuple[int, DeadLetter]], LatestPerRow]:
        accepted = self.pipeline.accept(incoming)
        letters = [d for _, d in accepted.rejected]
        letters.extend(dead_letters)
        self.store.commit(accepted.batch, letters)
        return accepted.batch, accepted.rejected, self.pipeline.apply(accepted.batch)

    async def add_dead_letters(self, dead_letters: Sequence[DeadLetter]) -> None:
        if dead_letters:
            await asyncio.to_thread(self.store.add_dead_letters, dead_letters)

    def _property_changes(self, batch: Batch, latest: LatestPerRow) -> list[dict[str, Any]]:
        """One change per bound sensor whose live value moved in this batch."""
        table = self.pipeline.table
        bindings = self.twin.bindings
        changes = []
        for row, value, event_time in zip(latest.rows[latest.advanced].tolist(),
                                          latest.value[latest.advanced].tolist(),
                                          latest.event_time[latest.advanced].tolist(),
                                          strict=True):
            sensor_id = table.ids[row]
            binding = bindings.get(sensor_id)
            if binding is None:
                continue
            changes.append({
                "kind": "property", "element_id": binding.element_id,
                "property": binding.property, "sensor_id": sensor_id, "value": value,
                "unit": binding.transform.unit or table.units[row], "time": event_time,
                "source": Source.IOT.value, "quality": self.quality(row),
            })
        return changes

    def quality(self, row: int) -> float:
        """How far the sensor's latest value can be trusted (0..1)."""
        return 1.0 if self.pipeline.table.count[row] > 0 else 0.0

    @staticmethod
    def _change_of(event: Event) -> dict[str, Any]:
        return {"kind": event.kind, "element_id": event.element_id, "seq": event.seq,
                "time": event.time, "source": event.source, **event.data}

    # -- connectors ---------------------------------------------------------------------------

    async def start_connector(self, connector: Connector) -> None:
        """Start a connector (it checks its source first) and consume it in the background."""
        if connector.name in self.connectors:
            raise InvalidInput(f"connector {connector.name!r} is already running", "duplicate")
        await connector.start()
        self.connectors[connector.name] = connector
        self._connector_tasks[connector.name] = asyncio.create_task(
            self.run_connector(connector), name=f"connector:{connector.name}")

    async def run_connector(self, connector: Connector) -> None:
        """Ingest a connector's deliveries; ack each only after its commit."""
        try:
            async for delivery in connector.deliveries():
                await self.ingest(delivery.batch, delivery.dead_letters)
                if delivery.ack is not None:
                    await delivery.ack()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken source must not take the service down
            log.exception("connector %s stopped", connector.name)
            self._connector_errors[connector.name] = f"{type(exc).__name__}: {exc}"

    async def stop_connector(self, name: str) -> None:
        connector = self.connectors.pop(name, None)
        if connector is None:
            raise NotFound(f"no connector {name!r}")
        task = self._connector_tasks.pop(name)
        await connector.aclose()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    def connector_health(self) -> list[ConnectorHealth]:
        result = []
        for name, connector in self.connectors.items():
            health = connector.health()
            if name in self._connector_errors and health.error is None:
                health.error = self._connector_errors[name]
            result.append(health)
        return result

    # -- reads ------------------------------------------------------------------------------

    def sensor_row(self, sensor_id: str) -> int:
        self.twin.sensor(sensor_id)
        return self.pipeline.table.index[sensor_id]

    def sensor_snapshot(self, sensor_id: str) -> dict[str, Any]:
        sensor = self.twin.sensor(sensor_id)
        row = self.pipeline.table.index[sensor_id]
        table = self.pipeline.table
        binding = self.twin.bindings.get(sensor_id)
        count = int(table.count[row])
        return {
            **sensor.to_dict(),
            "binding": binding.to_dict() if binding else None,
            "count": count,
            "value": _finite(table.last_value[row]),
            "unit": (binding.transform.unit if binding else "") or sensor.unit,
            "time": _finite(table.last_event_time[row]),
            "received_at": _finite(table.last_received_at[row]),
            "mean": _finite(table.mean[row]) if count else None,
            "std": _finite(table.std(np.array([row]))[0]) if count else None,
            "min": _finite(table.min[row]),
            "max": _finite(table.max[row]),
            "quality": self.quality(row),
        }

    def element_snapshot(self, element_id: str) -> dict[str, Any]:
        element = self.twin.element(element_id)
        data = element.to_dict()
        data["storey"] = self.twin.storey_of(element_id)
        sensors = [self.sensor_snapshot(s) for s in self.twin.sensors_of(element_id)]
        data["sensors"] = sensors
        # A bound property shows its sensor's live value; the newest sensor wins for now.
        for sensor in sensors:
            binding = sensor["binding"]
            if sensor["count"] == 0 or binding is None:
                continue
            current = data["properties"].get(binding["property"])
            if current is None or current["time"] <= sensor["time"]:
                data["properties"][binding["property"]] = {
                    "value": sensor["value"], "unit": sensor["unit"], "time": sensor["time"],
                    "source": Source.IOT.value, "confidence": sensor["quality"],
                    "sensor_id": sensor["id"],
                }
        return data

    def find_elements(self, *, type: str | None = None, status: str | None = None,
                      storey: str | None = None, include_archived: bool = False
                      ) -> list[Element]:
        found = []
        for element in self.twin.elements.values():
            if element.archived and not include_archived:
                continue
            if type is not None and element.type != type:
                continue
            if status is not None and element.status.value != status:
                continue
            if storey is not None and self.twin.storey_of(element.id) != storey:
                continue
            found.append(element)
        return found

    def project_snapshot(self) -> dict[str, Any]:
        physical = [e for e in self.twin.elements.values()
                    if not e.archived and e.type not in SPATIAL_TYPES]
        storeys = sorted((e for e in self.twin.elements.values()
                          if e.type == "IfcBuildingStorey" and not e.archived),
                         key=lambda e: e.name)
        return {
            "element_count": len(physical),
            "sensor_count": len(self.twin.sensors),
            "status_summary": self.twin.status_summary(),
            "storeys": [{"id": e.id, "name": e.name} for e in storeys],
            "recent_events": [e.to_dict() for e in self.store.recent_events(20)],
            "time": self.clock(),
        }


def models_dir_for(url: str) -> Path:
    """Where a store's IFC files go: beside a SQLite file, else ``.twinsync/models``."""
    if url.startswith("sqlite:"):
        from ..store.sqlite import path_of

        path, _ = path_of(url)
        if path != ":memory:":
            file = Path(path)
            return file.with_name(file.stem + "-models")
    return Path(".twinsync") / "models"


def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _property_updates(properties: dict[str, Any]) -> list[tuple[str, Any, str, float | None]]:
    """Field property updates: ``{"name": value}`` or ``{"name": {"value", "unit", "confidence"}}``."""
    updates = []
    for name, given in properties.items():
        if isinstance(given, dict):
            if "value" not in given:
                raise InvalidInput(f"property {name!r} has no value", "bad_property")
            confidence = given.get("confidence")
            if confidence is not None and not isinstance(confidence, int | float):
                raise InvalidInput(f"confidence of {name!r} is not a number", "bad_confidence")
            updates.append((name, given["value"], str(given.get("unit") or ""),
                            None if confidence is None else float(confidence)))
        else:
            updates.append((name, given, "", None))
    return updates
