"""Bringing a model revision into the twin: what is added, changed, archived, left alone.

``plan_import`` compares the twin with a model's contents by GlobalId without touching
the twin; ``apply_import`` carries the plan out through the twin's own operations and
returns the events and the rows the store must save. ``import_ifc`` does both. All pure:
no I/O, so the service decides when the events are committed.

What a re-import keeps: an element's status, the values that came from the field or from
sensors, and its bindings (``Twin.update_element`` keeps them); removed elements are
archived, never deleted, so their history stays readable. Sensors already bound keep the
binding the twin has, even if the model now names another host.

>>> from twinsync.model import Twin
>>> twin = Twin()
>>> contents = ModelContents("IFC4", "r1", "demo", {"w": Element("w", "IfcWall", global_id="w")})
>>> result = import_ifc(twin, contents, time=0.0)
>>> result.report["added"], result.events[-1].kind
(['w'], 'model_imported')
>>> import_ifc(twin, contents, time=1.0).report["unchanged"]
1
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import Conflict
from ..model import Binding, Element, Event, PropertyValue, Sensor, Source, Twin
from .importer import ModelContents

_SOURCE = "bim"


@dataclass(slots=True)
class ImportPlan:
    """What importing one model revision will do to the twin."""

    revision: str
    schema: str
    time: float
    added: list[Element] = field(default_factory=list)
    restored: list[Element] = field(default_factory=list)  # archived, back in the model
    changed: dict[str, list[str]] = field(default_factory=dict)  # id -> fields that differ
    updates: list[Element] = field(default_factory=list)  # new state of changed elements
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    sensors: list[Sensor] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "schema": self.schema,
            "added": [e.id for e in self.added],
            "restored": [e.id for e in self.restored],
            "changed": list(self.changed),
            "changes": dict(self.changed),
            "removed": list(self.removed),
            "unchanged": self.unchanged,
            "sensors_added": [s.id for s in self.sensors],
            "bindings_added": [b.sensor_id for b in self.bindings],
        }


@dataclass(slots=True)
class ImportResult:
    """The events to commit and the twin's rows to save after an import."""

    events: list[Event]
    elements: list[Element]
    sensors: list[Sensor]
    bindings: list[Binding]
    report: dict[str, Any]


def plan_import(twin: Twin, contents: ModelContents, *, time: float) -> ImportPlan:
    """Compare the twin with a model revision by GlobalId. Does not change the twin."""
    plan = ImportPlan(contents.revision, contents.schema, time)
    for element_id, incoming in contents.elements.items():
        element = _stamped(incoming, time)
        current = twin.elements.get(element_id)
        if current is None:
            plan.added.append(element)
        elif current.archived:
            plan.restored.append(element)
        else:
            differences = _differences(current, element)
            if differences:
                plan.changed[element_id] = differences
                plan.updates.append(element)
            else:
                plan.unchanged += 1
    # Only elements that came from a model can leave with the model; ones added by hand stay.
    plan.removed = [
        e.id for e in twin.elements.values()
        if e.global_id is not None and not e.archived and e.id not in contents.elements
    ]
    plan.sensors = [dataclasses.replace(s, meta=dict(s.meta)) for s in contents.sensors
                    if s.id not in twin.sensors]
    plan.bindings = [b for b in contents.bindings if b.sensor_id not in twin.bindings]
    return plan


def apply_import(twin: Twin, plan: ImportPlan) -> ImportResult:
    """Carry out a plan made against the twin as it is now; all of it or, if stale, none."""
    _check_current(twin, plan)
    time = plan.time
    events: list[Event] = []
    for element in plan.added:
        events.append(twin.add_element(element, time=time, source=_SOURCE))
    # update_element keeps status, field values and bindings; it also clears ``archived``.
    for element in plan.restored + plan.updates:
        events.append(twin.update_element(element, time=time, source=_SOURCE))
    for element_id in plan.removed:
        events.append(twin.archive_element(element_id, time=time, source=_SOURCE))
    for sensor in plan.sensors:
        events.append(_from_model(twin.add_sensor(sensor, time=time)))
    for binding in plan.bindings:
        events.append(_from_model(twin.bind_sensor(binding, time=time)))
    report = plan.report()
    counts = {key: len(report[key]) for key in
              ("added", "restored", "changed", "removed", "sensors_added", "bindings_added")}
    events.append(Event("model_imported", time, None, _SOURCE, {
        "revision": plan.revision, "schema": plan.schema,
        "counts": {**counts, "unchanged": plan.unchanged},
    }))
    touched = [e.id for e in plan.added + plan.restored + plan.updates] + plan.removed
    return ImportResult(
        events=events,
        elements=[twin.elements[element_id] for element_id in touched],
        sensors=[twin.sensors[s.id] for s in plan.sensors],
        bindings=[twin.bindings[b.sensor_id] for b in plan.bindings],
        report=report,
    )


def import_ifc(twin: Twin, contents: ModelContents, *, time: float) -> ImportResult:
    """Plan and apply a model revision in one step."""
    return apply_import(twin, plan_import(twin, contents, time=time))


def _stamped(element: Element, time: float) -> Element:
    """A copy of the model's element whose values carry the import's time."""
    properties = {name: dataclasses.replace(pv, time=time)
                  for name, pv in element.properties.items()}
    return dataclasses.replace(element, properties=properties)


def _differences(current: Element, incoming: Element) -> list[str]:
    fields = [name for name in ("name", "type", "parent")
              if getattr(current, name) != getattr(incoming, name)]
    if _bim_values(current.properties) != _bim_values(incoming.properties):
        fields.append("properties")
    return fields


def _bim_values(properties: dict[str, PropertyValue]) -> dict[str, tuple[Any, str]]:
    return {name: (pv.value, pv.unit) for name, pv in properties.items()
            if pv.source is Source.BIM}


def _check_current(twin: Twin, plan: ImportPlan) -> None:
    """Refuse a plan the twin has moved away from, before changing anything."""
    stale = (
        [e.id for e in plan.added if e.id in twin.elements]
        + [e.id for e in plan.restored + plan.updates if e.id not in twin.elements]
        + [i for i in plan.removed if i not in twin.elements]
        + [s.id for s in plan.sensors if s.id in twin.sensors]
        + [b.sensor_id for b in plan.bindings if b.sensor_id in twin.bindings]
    )
    if stale:
        raise Conflict(f"the twin changed since the import was planned: {stale[:5]}")


def _from_model(event: Event) -> Event:
    event.source = _SOURCE
    return event
