"""Read views of the running twin: sensor and element snapshots, fused property values,
health, sources. Mixed into ``TwinService``; reads only, never changes anything.

A property fed by several sensors shows their quality-weighted mean over the sensors that
can be trusted (see ``fusion``); when none can, it falls back to the best one it has, and
says so through its confidence.

Every method here reads live state, so it runs on the writer (``TwinService.view``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..health.states import STATE_NAMES
from ..model import SPATIAL_TYPES, Element, Source
from .field_sources import OTHER_SOURCES, field_sources
from .model_sources import zone_sources

if TYPE_CHECKING:
    from ..alerts import AlarmBook
    from ..health import HealthMonitor
    from ..model import Twin
    from ..pipeline import Pipeline
    from ..store import Store
    from .fusion import Fused, PropertyIndex
    from .revisions import Revisions
    from .zone_models import ZoneDesk


class TwinViews:
    twin: Twin
    pipeline: Pipeline
    health: HealthMonitor
    store: Store
    alarms: AlarmBook
    properties: PropertyIndex
    revisions: Revisions
    measured: set[tuple[str, str]]
    zones: ZoneDesk

    def clock(self) -> float:
        raise NotImplementedError

    # -- sensors -------------------------------------------------------------------------

    def sensor_row(self, sensor_id: str) -> int:
        self.twin.sensor(sensor_id)
        return self.pipeline.table.index[sensor_id]

    def sensor_row_and_unit(self, sensor_id: str) -> tuple[int, str]:
        """A sensor's row and the unit its values are stored in (the bound property's)."""
        row = self.sensor_row(sensor_id)
        binding = self.twin.bindings.get(sensor_id)
        return row, (binding.transform.unit if binding else "") or self.twin.sensor(sensor_id).unit

    def quality(self, row: int) -> float:
        """How far the sensor's latest value can be trusted (0..1)."""
        if self.pipeline.table.count[row] == 0:
            return 0.0
        return float(self.health.quality(np.array([row]))[0])

    def sensor_health(self, sensor_id: str) -> dict[str, Any]:
        row = self.sensor_row(sensor_id)
        status = self.health.state(row)
        # Read only: growing the tables here would race the ingest thread that writes them.
        sequences = self.pipeline.sequences
        known = row < len(sequences.lost)
        return {
            "sensor_id": sensor_id, "state": status.state, "quality": status.quality,
            "reason": status.reason, "since": finite_or_none(status.since),
            "last_reading": finite_or_none(status.last_reading),
            "lost": int(sequences.lost[row]) if known else 0,
            "duplicates": int(sequences.duplicates[row]) if known else 0,
            "late": int(sequences.late[row]) if known else 0,
            "epochs": int(sequences.epochs[row]) if known else 0,
            "quarantined": self.pipeline.clocks.quarantined_of(row),
        }

    def sensor_snapshot(self, sensor_id: str) -> dict[str, Any]:
        sensor = self.twin.sensor(sensor_id)
        row = self.pipeline.table.index[sensor_id]
        table = self.pipeline.table
        binding = self.twin.bindings.get(sensor_id)
        count = int(table.count[row])
        health = self.sensor_health(sensor_id)
        return {
            **sensor.to_dict(),
            "binding": binding.to_dict() if binding else None,
            # ``element_archived``: the binding is kept for a later revision that restores
            # its element, but the sensor feeds no property until then.
            "binding_state": self.twin.binding_state(sensor_id),
            "binding_revision": self.revisions.binding(sensor_id),
            "count": count,
            "value": finite_or_none(table.last_value[row]),
            "unit": (binding.transform.unit if binding else "") or sensor.unit,
            "time": finite_or_none(table.last_event_time[row]),
            "received_at": finite_or_none(table.last_received_at[row]),
            "mean": finite_or_none(table.mean[row]) if count else None,
            "std": finite_or_none(table.std(row)) if count else None,
            "min": finite_or_none(table.min[row]),
            "max": finite_or_none(table.max[row]),
            "quality": health["quality"] if count else 0.0,
            "health": health,
        }

    # -- properties ----------------------------------------------------------------------

    def fused_value(self, element_id: str, name: str) -> dict[str, Any] | None:
        """The live value of a sensor-fed property, fused over its sensors (see
        ``fusion``): None when it has no sensor or none has a reading yet."""
        return self.fused_values([(element_id, name)])[0]

    def fused_values(self, keys: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        """``fused_value`` of many (element id, property name) pairs, fused in one pass:
        a snapshot of the whole twin costs one vectorised fusion, not one per property."""
        index = self.properties
        numbers = [index.number(element_id, name) for element_id, name in keys]
        known = [n for n in numbers if n is not None]
        shown: list[dict[str, Any] | None] = [None] * len(keys)
        if not known:
            return shown
        table = self.pipeline.table
        asked = [key for key, n in zip(keys, numbers, strict=True) if n is not None]
        now = self.clock()
        others, field = field_sources(self.twin, asked, known, index, self.health, now,
                                      self.measured)
        others, model = zone_sources(self.zones, asked, known, index, table, self.health,
                                     now, others)
        fused = index.fuse(np.array(known, dtype=np.int64), table,
                           sensor_quality=self.health.quality,
                           sensor_noise=self.health.noise_variance, others=others)
        shares = fused.shares_by_place()
        ids = table.ids
        place = 0
        for k, number in enumerate(numbers):
            if number is None:
                continue
            if fused.has_value[place]:
                shown[k] = _fused_entry(fused, place, index.units[number],
                                        [(ids[row], weight) for row, weight in shares[place]],
                                        field[place], model[place])
            place += 1
        return shown
        return shown

    # -- elements ------------------------------------------------------------------------

    def element_snapshot(self, element_id: str) -> dict[str, Any]:
        return self.elements_snapshot([element_id])[0]

    def elements_snapshot(self, element_ids: list[str]) -> list[dict[str, Any]]:
        """Snapshots of many elements: each with its sensors, alarms and the live value of
        every sensor-fed property, the properties of all of them fused at once."""
        twin = self.twin
        snapshots = []
        fed: list[tuple[str, str]] = []
        fed_into: list[dict[str, Any]] = []
        for element_id in element_ids:
            data = twin.element(element_id).to_dict()
            data["revision"] = self.revisions.element(element_id)
            sensor_ids = twin.sensors_of(element_id)
            data["storey"] = twin.storey_of(element_id)
            data["sensors"] = [self.sensor_snapshot(s) for s in sensor_ids]
            data["alarms"] = []
            for name in dict.fromkeys(twin.bindings[s].property for s in sensor_ids):
                fed.append((element_id, name))
                fed_into.append(data["properties"])
            snapshots.append(data)
        for (_, name), properties, fused in zip(fed, fed_into, self.fused_values(fed),
                                                strict=True):
            current = properties.get(name)
            # A fused value that weighed the field measurement stands for it, used or not.
            if fused is not None and (current is None or current["time"] <= fused["time"]
                                      or "field" in fused):
                properties[name] = fused
        alarms: dict[str | None, list[dict[str, Any]]] = {}
        for alarm in self.alarms.active.values():
            alarms.setdefault(alarm.element_id, []).append(alarm.to_dict())
        for data in snapshots:
            data["alarms"] = list(alarms.get(data["id"], ()))
        return snapshots

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
                         key=storey_order)
        names = [e.name for e in self.twin.elements.values() if e.type == "IfcBuilding"]
        return {
            "name": names[0] if names else "twin",
            "element_count": len(physical),
            "sensor_count": len(self.twin.sensors),
            "status_summary": self.twin.status_summary(),
            "health_summary": self.health_summary(),
            "alarms": len(self.alarms.active),
            "storeys": [{"id": e.id, "name": e.name, "elevation": _elevation(e)}
                        for e in storeys],
            "recent_events": [e.to_dict() for e in self.store.recent_events(20)],
            "time": self.clock(),
        }

    # -- fleet health and sources --------------------------------------------------------

    def health_summary(self) -> dict[str, int]:
        rows = np.array([self.pipeline.table.index[s] for s in self.twin.sensors],
                        dtype=np.int64)
        summary = {name: 0 for name in (*STATE_NAMES, "unknown")}
        if len(rows) == 0:
            return summary
        for status in self.health.snapshot(rows):
            key = status.state if self.pipeline.table.count[status.row] else "unknown"
            summary[key] = summary.get(key, 0) + 1
        return summary

    def fleet_health(self) -> dict[str, Any]:
        unhealthy = []
        for sensor_id in self.twin.sensors:
            row = self.pipeline.table.index[sensor_id]
            status = self.health.state(row)
            if status.state != "ok" and self.pipeline.table.count[row]:
                unhealthy.append({"sensor_id": sensor_id, "state": status.state,
                                  "quality": status.quality, "reason": status.reason})
        counts = self.pipeline.counts
        return {"summary": self.health_summary(), "unhealthy": unhealthy,
                "readings": dict(counts)}

    def sources(self) -> list[dict[str, Any]]:
        now = self.clock()
        latency = self.pipeline.latency
        names = set(self.pipeline.clocks.sources)
        names.update(key.split(":", 2)[2] for key in latency.names()
                     if key.startswith("receive:source:"))
        result = []
        for name in sorted(names):
            clock = self.pipeline.clocks.sources.get(name)
            result.append({
                "source": name,
                "clock_offset": self.pipeline.clocks.offset(name, now),
                "clock": clock.to_dict() if clock else None,
                "latency": {
                    "receive": latency.percentiles(f"receive:source:{name}", now),
                    "commit": latency.percentiles(f"commit:source:{name}", now),
                },
            })
        return result


def _fused_entry(fused: Fused, place: int, unit: str, shares: list[tuple[str, float]],
                 field: dict[str, Any] | None, model: dict[str, Any] | None
                 ) -> dict[str, Any]:
    """One fused property as the view shows it: the value, its uncertainty, and every
    source (each sensor, the field measurement, a model's prediction) with its share."""
    uncertainty = (finite_or_none(fused.uncertainty[place])
                   if fused.uncertainty is not None else None)
    weights = {sensor_id: round(weight, 4) for sensor_id, weight in shares}
    sources: list[dict[str, Any]] = [
        {"kind": "sensor", "id": sensor_id, "weight": round(weight, 4)}
        for sensor_id, weight in shares]
    other_used = fused.other_used
    other_share = fused.other_share
    if other_used is not None and other_share is not None:
        for column, name in enumerate(OTHER_SOURCES[:other_used.shape[1]]):
            if other_used[place, column]:
                weights[name] = round(float(other_share[place, column]), 4)
                source: dict[str, Any] = {"kind": name, "weight": weights[name]}
                if name == "prediction" and model is not None:
                    spread = model["uncertainty"]
                    source |= {"model": model["model"], "basis": model["basis"],
                               "variance": spread * spread, "age": model["age"]}
                sources.append(source)
    entry: dict[str, Any] = {
        "value": float(fused.value[place]),
        "unit": unit,
        "time": float(fused.time[place]),
        # With no sensor, the larger of the others: a prediction is derived by a model.
        "source": (Source.IOT.value if shares else Source.FIELD.value
                   if weights.get("field", 0.0) >= weights.get("prediction", 0.0)
                   else Source.SENSOR.value),
        "confidence": float(fused.confidence[place]),
        "uncertainty": uncertainty,
        # the sensor that carries most of the value
        "sensor_id": max(shares, key=lambda pair: pair[1])[0] if shares else None,
        "sensors": [sensor_id for sensor_id, _ in shares],
        "weights": weights,
        "sources": sources,
    }
    if field is not None:  # shown even when not used, with why it may not be
        entry["field"] = {**field, "used": "field" in weights}
    if model is not None:  # likewise: a zone models it, used or not and why
        entry["model"] = {**model, "used": "prediction" in weights}
    return entry


def _elevation(storey: Element) -> float | None:
    for name in ("Elevation", "elevation"):
        value = storey.properties.get(name)
        if value is not None and isinstance(value.value, int | float):
            return float(value.value)
    return None


def storey_order(storey: Element) -> tuple[float, str]:
    """Bottom to top where elevations are known; by name otherwise."""
    elevation = _elevation(storey)
    return (elevation if elevation is not None else float("inf"), storey.name)


def finite_or_none(value: Any) -> float | None:
    """A finite float for JSON, None otherwise (NaN and infinities are not JSON)."""
    number = float(value)
    return number if math.isfinite(number) else None


__all__ = ["TwinViews", "storey_order"]
