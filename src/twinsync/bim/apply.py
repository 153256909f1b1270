"""Bringing a model revision into the twin: what is added, changed, archived, left alone.

``plan_import`` compares the twin with a model's contents by GlobalId without touching
the twin; ``apply_import`` carries the plan out through the twin's own operations and
returns the events and the rows the store must save. ``import_ifc`` does both. All pure:
no I/O, so the service decides when the events are committed.

What a re-import keeps: an element's status, the values that came from the field or from
sensors, and its bindings (``Twin.update_element`` keeps them); removed elements are
archived, never deleted, so their history stays readable. Sensors already bound keep the
binding the twin has, even if the model now names another host; a sensor whose element is
archived keeps its binding too, unused (``Twin.live_binding``), until a later revision
restores the element.

What a re-import refuses, unless forced: a revision of another project than the twin's
current model (the IfcProject GlobalIds differ), and one that would archive more than
``max_archive_share`` of the current model's elements. Either is what uploading the wrong
file looks like. A twin without model elements takes any model.

>>> from twinsync.model import Twin
>>> twin = Twin()
>>> contents = ModelContents("IFC4", "r1", "demo", {"w": Element("w", "IfcWall", global_id="w")})
>>> result = import_ifc(twin, contents, time=0.0)
>>> result.report["added"], result.events[-1].kind
(['w'], 'model_imported')
>>> import_ifc(twin, contents, time=1.0).report["unchanged"]
1
>>> other = ModelContents("IFC4", "r2", "other", {"x": Element("x", "IfcWall", global_id="x")})
>>> plan_import(twin, other, time=2.0).refusals[0]["reason"]
'archives_too_much'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import Conflict, ImportRefused, InvalidInput
from ..model import Binding, Element, Event, PropertyValue, Sensor, Source, Twin
from .importer import ModelContents

_SOURCE = "bim"
#: An import that would archive more than this share of the current model's elements is
#: refused unless forced. A real next revision archives a few percent (walls moved, an
#: option dropped); a wrong file (another project, one discipline's model, a test file)
#: archives nearly all. Half sits far from both, so a genuine revision is not stopped by
#: it and a wrong one is, and a deliberate big cut (a phase demolished) takes a ``force``.
MAX_ARCHIVE_SHARE = 0.5


@dataclass(slots=True)
class ImportPlan:
    """What importing one model revision will do to the twin, and why it would be refused."""

    revision: str
    schema: str
    time: float
    project_id: str = ""  # the revision's IfcProject GlobalId ("" if unknown)
    current_project: str | None = None  # the twin's current model's, None if unknown
    current_elements: int = 0  # the twin's model elements, not archived, before the import
    added: list[Element] = field(default_factory=list)
    restored: list[Element] = field(default_factory=list)  # archived, back in the model
    changed: dict[str, list[str]] = field(default_factory=dict)  # id -> fields that differ
    updates: list[Element] = field(default_factory=list)  # new state of changed elements
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    sensors: list[Sensor] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    sensors_unbound: list[str] = field(default_factory=list)  # bound to an element archived
    sensors_rebound: list[str] = field(default_factory=list)  # bound to an element restored
    refusals: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many elements, sensors and bindings each part of the plan holds."""
        return {"added": len(self.added), "changed": len(self.changed),
                "archived": len(self.removed), "restored": len(self.restored),
                "unchanged": self.unchanged, "sensors_added": len(self.sensors),
                "bindings_added": len(self.bindings),
                "sensors_unbound": len(self.sensors_unbound),
                "sensors_rebound": len(self.sensors_rebound)}

    def report(self, limit: int | None = None) -> dict[str, Any]:
        """The plan as JSON; with ``limit``, each list holds at most that many ids (the
        ``counts`` stay whole)."""
        def ids(values: list[str]) -> list[str]:
            return values if limit is None else values[:limit]

        return {
            "revision": self.revision,
            "schema": self.schema,
            "project_id": self.project_id,
            "current_project": self.current_project,
            "counts": self.counts(),
            "added": ids([e.id for e in self.added]),
            "restored": ids([e.id for e in self.restored]),
            "changed": ids(list(self.changed)),
            "changes": {key: self.changed[key] for key in ids(list(self.changed))},
            "removed": ids(list(self.removed)),
            "unchanged": self.unchanged,
            "sensors_added": ids([s.id for s in self.sensors]),
            "bindings_added": ids([b.sensor_id for b in self.bindings]),
            "sensors_unbound": ids(list(self.sensors_unbound)),
            "sensors_rebound": ids(list(self.sensors_rebound)),
            "refusals": [dict(refusal) for refusal in self.refusals],
        }

    def refuse(self) -> None:
        """Raise ``ImportRefused`` if the plan has reasons to be refused."""
        if self.refusals:
            reasons = "; ".join(r["detail"] for r in self.refusals)
            raise ImportRefused(f"import refused, nothing changed: {reasons}; import it "
                                f"anyway with force (force=1, --force)",
                                self.report()["refusals"], self.counts())


@dataclass(slots=True)
class ImportResult:
    """The events to commit and the twin's rows to save after an import."""

    events: list[Event]
    elements: list[Element]
    sensors: list[Sensor]
    bindings: list[Binding]
    report: dict[str, Any]


def plan_import(twin: Twin, contents: ModelContents, *, time: float,
                current_project: str | None = None,
                max_archive_share: float = MAX_ARCHIVE_SHARE) -> ImportPlan:
    """Compare the twin with a model revision by GlobalId. Does not change the twin.

    ``current_project`` is the IfcProject GlobalId of the twin's current model (None when
    unknown: no model yet, or one imported before it was recorded); the plan's
    ``refusals`` say whether ``apply_import`` will refuse it unless forced."""
    if not 0.0 <= max_archive_share <= 1.0:
        raise InvalidInput(f"max_archive_share is a share from 0 to 1, not "
                           f"{max_archive_share!r}", "bad_config")
    plan = ImportPlan(contents.revision, contents.schema, time, contents.project_id,
                      current_project)
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
    from_model = [e for e in twin.elements.values() if e.global_id is not None and not e.archived]
    plan.current_elements = len(from_model)
    plan.removed = [e.id for e in from_model if e.id not in contents.elements]
    plan.sensors = [dataclasses.replace(s, meta=dict(s.meta)) for s in contents.sensors
                    if s.id not in twin.sensors]
    plan.bindings = [b for b in contents.bindings if b.sensor_id not in twin.bindings]
    archived, restored = set(plan.removed), {e.id for e in plan.restored}
    plan.sensors_unbound = [s for s, b in twin.bindings.items() if b.element_id in archived]
    plan.sensors_rebound = [s for s, b in twin.bindings.items() if b.element_id in restored]
    plan.refusals = _refusals(plan, max_archive_share)
    return plan


def apply_import(twin: Twin, plan: ImportPlan, *, force: bool = False) -> ImportResult:
    """Carry out a plan made against the twin as it is now; all of it or, if stale, none.

    A plan with ``refusals`` raises ``ImportRefused`` and changes nothing, unless
    ``force``; a forced import says in its ``model_imported`` event what it overrode."""
    _check_current(twin, plan)
    if not force:
        plan.refuse()
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
    report["forced"] = [r["reason"] for r in plan.refusals]
    data: dict[str, Any] = {"revision": plan.revision, "schema": plan.schema,
                            "project_id": plan.project_id, "counts": plan.counts()}
    if plan.refusals:
        data["forced"] = report["forced"]
    events.append(Event("model_imported", time, None, _SOURCE, data))
    touched = [e.id for e in plan.added + plan.restored + plan.updates] + plan.removed
    # The bindings of sensors whose element was archived or restored are saved again as
    # they are: their state changed (they stop or start feeding a property), so their
    # revision moves and the service rebuilds which sensors feed which property.
    moved = [s for s in plan.sensors_unbound + plan.sensors_rebound if s in twin.bindings]
    return ImportResult(
        events=events,
        elements=[twin.elements[element_id] for element_id in touched],
        sensors=[twin.sensors[s.id] for s in plan.sensors],
        bindings=[twin.bindings[sensor_id]
                  for sensor_id in dict.fromkeys([b.sensor_id for b in plan.bindings] + moved)],
        report=report,
    )


def import_ifc(twin: Twin, contents: ModelContents, *, time: float,
               current_project: str | None = None, force: bool = False,
               max_archive_share: float = MAX_ARCHIVE_SHARE) -> ImportResult:
    """Plan and apply a model revision in one step."""
    plan = plan_import(twin, contents, time=time, current_project=current_project,
                       max_archive_share=max_archive_share)
    return apply_import(twin, plan, force=force)


def _refusals(plan: ImportPlan, max_share: float) -> list[dict[str, Any]]:
    """Why the plan looks like the wrong file: another project, or too much archived."""
    if plan.current_elements == 0:
        return []  # nothing of a model to lose: the first import, or all archived already
    refusals: list[dict[str, Any]] = []
    if plan.current_project and plan.project_id and plan.project_id != plan.current_project:
        refusals.append({
            "reason": "other_project",
            "detail": f"the file's IfcProject {plan.project_id} is not the current model's "
                      f"({plan.current_project})",
            "project_id": plan.project_id, "current_project": plan.current_project})
    share = len(plan.removed) / plan.current_elements
    if share > max_share:
        refusals.append({
            "reason": "archives_too_much",
            "detail": f"it would archive {len(plan.removed)} of the current model's "
                      f"{plan.current_elements} elements ({share:.0%}), more than the "
                      f"{max_share:.0%} allowed",
            "archived": len(plan.removed), "current": plan.current_elements,
            "share": round(share, 4), "max_share": max_share})
    return refusals


def _stamped(element: Element, time: float) -> Element:
    """A copy of the model's element whose values carry the import's time."""
    # The constructor, not dataclasses.replace: a property-rich model has tens of
    # properties an element, and replace costs four times as much per value.
    properties = {name: PropertyValue(pv.value, pv.unit, time, pv.source, pv.confidence)
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
