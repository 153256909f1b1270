"""The operations of progress from sensors on the twin's schedule: declare a mix, find an
element's pour, and record that an element's concrete reached its required strength.
Pure, like ``plan``: each returns its events and the rows the store writes with them.

A strength reached is observed like a survey's row: a status report of source ``sensor``
with the curing's confidence (``plan_analysis`` reads it as the element's progress, so an
activity follows it, and a report that disagrees shows as a conflict), and the element
takes the status ``completed`` (an event of source ``sensor``) unless it has an ``issue``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..errors import InvalidInput
from . import validate
from .curing import Curing
from .element import Element, Source, Status
from .events import Event
from .mix import Mix, mix_from_dict
from .plan import TwinSchedule, local_date
from .plan_records import STATE_OF_STATUS, PlanRow, parse_day
from .twin import Twin

#: The element property that declares its pour (a date as ``YYYY-MM-DD HH:MM`` in the
#: schedule's local time, or epoch seconds; null or empty: not declared).
POURED_AT = "poured_at"


def add_mix(plan: TwinSchedule, data: object, *, time: float) -> tuple[Event, list[PlanRow], Mix]:
    """Declare a mix, or replace the one of that name."""
    time = validate.event_time(time)
    mix = mix_from_dict(data)
    plan.mixes = {**plan.mixes, mix.name: mix}
    event = Event("mix_declared", time, None, Source.MANUAL.value, mix.to_dict())
    return event, [mix.row()], mix


def pour_time(
    plan: TwinSchedule, element: Element, links: Mapping[str, Mapping[str, str]], as_of: float
) -> tuple[float, str] | None:
    """When the element's concrete was poured, and how that is known: ``declared`` (its
    ``poured_at``), ``element:<source>`` (a source first saw it started),
    ``activity:<code>`` (its activities' earliest actual start); None if unknown."""
    declared = element.properties.get(POURED_AT)
    value = None if declared is None else declared.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return validate.event_time(value, POURED_AT), "declared"
    day = parse_day(value, POURED_AT)  # None or "" (a declaration taken back): not declared
    if day is not None:
        return day.timestamp(), "declared"
    for seen in plan.statuses.get(element.id, ()):
        if seen.source is not Source.SENSOR and STATE_OF_STATUS[seen.status] != "not_started":
            return seen.date.timestamp(), f"element:{seen.source.value}"
    when = local_date(as_of)
    starts = []
    for code, elements in links.items():
        if element.id in elements:
            progress = plan.direct_progress(code, when)
            if progress is not None and progress.actual_start is not None:
                starts.append((progress.actual_start, code))
    if starts:
        start, code = min(starts)
        return start.timestamp(), f"activity:{code}"
    return None


def strength_recorded(plan: TwinSchedule, element_id: str) -> bool:
    """Whether the sensors have already said this element reached its strength."""
    return any(seen.source is Source.SENSOR for seen in plan.statuses.get(element_id, ()))


def record_strength(
    plan: TwinSchedule, twin: Twin, curing: Curing, *, time: float
) -> tuple[list[Event], list[PlanRow], list[Element]]:
    """The element's concrete reached its required strength (``curing.reached_at``)."""
    time = validate.event_time(time)
    reached_at = curing.reached_at
    if reached_at is None:
        raise InvalidInput(
            f"element {curing.element_id!r} has not reached its strength", "not_reached"
        )
    element_id = curing.element_id
    confidence = curing.confidence
    rows = plan.observe_status(
        element_id,
        Status.COMPLETED,
        source=Source.SENSOR,
        date=local_date(reached_at),
        time=time,
        confidence=confidence,
    )
    g = curing.governing
    events = [
        Event(
            "strength_reached",
            time,
            element_id,
            Source.SENSOR.value,
            {
                "mix": curing.mix.name,
                "index": curing.mix.index,
                "maturity": round(curing.maturity, 3),
                "strength": curing.strength,
                "required_strength": curing.mix.required_strength,
                "reached_at": reached_at,
                "poured_at": curing.poured_at,
                "pour_source": curing.pour_source,
                "governing_sensor": g.sensor_id if g else None,
                "sensors": len(curing.reporting),
                "confidence": confidence,
            },
        )
    ]
    element = twin.element(element_id)
    if element.status in (Status.COMPLETED, Status.ISSUE):
        return events, rows, []
    # Replaced, not changed in place, so a failed commit's rollback restores it.
    copy = dataclasses.replace(element, properties=dict(element.properties))
    twin.elements[element_id] = copy
    event = twin.update_status(element_id, Status.COMPLETED, source=Source.SENSOR, time=time)
    event.data.update({"confidence": confidence, "strength": curing.strength})
    events.append(event)
    return events, rows, [copy]
