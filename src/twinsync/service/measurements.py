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

A measurement with an ``id`` is recorded once. A phone on a patchy network sends it again
when the answer is lost, maybe while the first is still being recorded, maybe after a
restart: on the writer, before anything is proposed, the store's index of events by key
(``store/event_keys.py``) is asked for the event that recorded that id. Found, the retry
records nothing and is answered with that event (``Recorded.replayed``), so it neither
counts twice nor is stamped again nor puts back a value recorded after it; the same id
with another measurement is a ``Conflict`` (``measurement_id_reused``). The search is in
the store, not in memory, so a restart forgets nothing, and on the writer, so two
sendings at once are one after the other. The id is the element's: the same id on two
elements is two measurements.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, InvalidInput, NotFound
from ..model import Event, Source
from ..model import validate as checks
from ..model.measurement import measured, measurement_id, property_named, same_measurement
from ..store.audit import SYSTEM, Actor
from .commit import Change
from .revisions import element_key

if TYPE_CHECKING:
    from .twin_service import TwinService


class MeasurementIdReused(Conflict):
    """A measurement id already recorded with another measurement (409)."""

    reason = "measurement_id_reused"


@dataclass(frozen=True, slots=True)
class Recorded:
    """A measurement's committed event, and whether it was committed by an earlier
    sending of the same id (``replayed``) rather than by this one."""

    event: Event
    replayed: bool = False


async def record_measurement(service: TwinService, element_id: str,
                             body: Mapping[str, Any], *, actor: Actor = SYSTEM) -> Event:
    """Record a field measurement of one of ``element_id``'s sensor-fed properties; its
    committed event (the first sending's, for a retry of a measurement with an id)."""
    return (await record_once(service, element_id, body, actor=actor)).event


async def record_once(service: TwinService, element_id: str, body: Mapping[str, Any], *,
                      actor: Actor = SYSTEM) -> Recorded:
    """``record_measurement``, saying whether the event is an earlier sending's."""
    name = property_named(body)
    key = measurement_id(body)

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

    def record() -> tuple[list[Event], bool]:
        # On the writer, search and commit as one job: a second sending waits for the
        # first's commit, then finds it.
        if key is not None:
            # The store's index of keyed events: one look-up, however long the history.
            earlier = service.store.keyed_event(element_id, key)
            if earlier is not None:
                differs = same_measurement(body, earlier.data["measured"])
                if differs:
                    raise MeasurementIdReused(
                        f"measurement id {checks.shown(key)} of element "
                        f"{checks.shown(element_id)} was recorded with another measurement "
                        f"({'; '.join(differs)}); a new measurement needs a new id")
                return [earlier], True
        return service._transact(propose).events, False

    events, replayed = await service.writer.write(record)
    if replayed:
        return Recorded(events[0], replayed=True)
    service.publish_events(events)
    event = events[0]
    # Subscribers get the property's fused value with the measurement in it now, not at
    # its sensors' next reading.
    await service.writer.write(_moved, service, element_id, name)
    return Recorded(event)


def _moved(service: TwinService, element_id: str, name: str) -> None:
    """On the writer: mark the property's sensors with a reading as moved."""
    index = service.properties
    number = index.number(element_id, name)
    if number is None:
        return
    rows = index.members[index.starts[number]:index.starts[number + 1]]
    service.publisher.moved(rows[service.pipeline.table.count[rows] > 0])
