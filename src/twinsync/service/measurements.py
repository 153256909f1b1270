"""Recording a field measurement of a sensor-fed property: one operation on the writer.

The measurement (``model/measurement.py`` checks it) becomes the element's stored value of
that property, with its uncertainty and instrument, so it survives a restart as every
element's properties do; fusion takes it from there as one more source
(``service/field_sources.py``). Its ``property_changed`` event (the value as given, who
recorded it) and its ``record_measurement`` audit entry commit with it or not at all; a
refused measurement changes nothing. A measurement of a property without a sensor is
refused: there is nothing to fuse it with, and ``PATCH /api/elements/{id}`` sets such a
value. Once committed, the property's sensors are marked moved, so live subscribers get the
fused value with the measurement in it (``publisher.changes_of`` fuses it too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, NotFound
from ..model import Event, Source
from ..model import validate as checks
from ..model.measurement import measured, property_named
from ..store.audit import SYSTEM, Actor
from .commit import Change
from .revisions import element_key

if TYPE_CHECKING:
    from .twin_service import TwinService


async def record_measurement(service: TwinService, element_id: str,
                             body: Mapping[str, Any], *, actor: Actor = SYSTEM) -> Event:
    """Record a field measurement of one of ``element_id``'s sensor-fed properties; its
    committed event."""
    name = property_named(body)

    def propose() -> Change:
        element = service.twin.elements.get(element_id)
        if element is None or element.archived:
            raise NotFound(f"no element {checks.shown(element_id)}")
        number = service.properties.number(element_id, name)
        if number is None:
            raise InvalidInput(
                f"property {checks.shown(name)} of element {checks.shown(element_id)} has "
                "no sensor to fuse a measurement with; set its value with a PATCH",
                "not_sensor_fed")
        value, given = measured(body, unit=service.properties.units[number],
                                now=service.clock())
        old = element.properties.get(name)
        if old is None and len(element.properties) >= checks.MAX_PROPERTIES:
            raise InvalidInput(f"element {checks.shown(element_id)} has "
                               f"{checks.MAX_PROPERTIES} properties already",
                               "too_many_properties")
        # The element is changed in place: the copy goes back if anything fails.
        changed = dataclasses.replace(element, properties=dict(element.properties))
        changed.properties[name] = value
        service.twin.elements[element_id] = changed
        # Kept even if the commit fails: fusion looks at the stored value again.
        service.measured.add((element_id, name))
        event = Event("property_changed", value.time, element_id, Source.FIELD.value,
                      {"property": name, **value.to_dict(), "measured": given,
                       "by": actor.name})
        entry = service._entry("record_measurement", element_key(element_id), actor,
                               {"properties": {name: old.to_dict() if old else None}},
                               {"properties": {name: value.to_dict()}, "measured": given},
                               element_id=element_id)
        return Change([event], elements=[changed], audit=[entry])

    event = (await service._run(propose))[0]
    # Subscribers get the property's fused value with the measurement in it now, not at
    # its sensors' next reading.
    await service.writer.write(_moved, service, element_id, name)
    return event


def _moved(service: TwinService, element_id: str, name: str) -> None:
    """On the writer: mark the property's sensors with a reading as moved."""
    index = service.properties
    number = index.number(element_id, name)
    if number is None:
        return
    rows = index.members[index.starts[number]:index.starts[number + 1]]
    service.publisher.moved(rows[service.pipeline.table.count[rows] > 0])
