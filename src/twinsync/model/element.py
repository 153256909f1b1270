"""Elements of the twin: the things being built or run, and the values they carry.

``Element.check`` and ``PropertyValue.checked`` hold an element to the rules of
``validate`` before the twin takes it; ``from_dict`` (a stored row, a posted body) checks
as it builds, so a bad row is an ``InvalidInput`` with a reason, never a ``TypeError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..errors import InvalidInput
from . import validate


class Status(StrEnum):
    """Where an element stands on site."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ISSUE = "issue"


class Source(StrEnum):
    """Where a value came from; decides how far it is trusted by default."""

    BIM = "bim"
    IOT = "iot"
    SCHEDULE = "schedule"
    FIELD = "field"
    DRONE = "drone"
    MANUAL = "manual"
    SENSOR = "sensor"
    """Derived from sensors' readings by a model (a slab's strength from its concrete's
    temperatures), not a reading itself (that is ``iot``)."""


#: How far a value from each source is trusted when the source says nothing itself
#: (MISSION.md: BIM, schedule and drone surveys are reliable, field reports less so).
DEFAULT_CONFIDENCE: dict[Source, float] = {
    Source.BIM: 1.0,
    Source.IOT: 1.0,
    Source.SCHEDULE: 0.95,
    Source.FIELD: 0.8,
    Source.DRONE: 0.9,
    Source.MANUAL: 0.9,
    # a strength from maturity: the mix's own confidence (``model/mix.py``) replaces it
    Source.SENSOR: 0.85,
}


@dataclass(slots=True)
class PropertyValue:
    """One value of an element's property, with where and when it came from."""

    value: Any
    unit: str = ""
    time: float = 0.0
    source: Source = Source.MANUAL
    confidence: float = 1.0
    uncertainty: float | None = None
    """A measured value's standard uncertainty in ``unit`` (a field measurement of a
    sensor-fed property, ``model/measurement.py``); None for a value without one."""
    instrument: str | None = None
    """What measured it (a handheld thermometer's name or tag), where known."""

    def to_dict(self) -> dict[str, Any]:
        data = {
            "value": self.value,
            "unit": self.unit,
            "time": self.time,
            "source": self.source.value,
            "confidence": self.confidence,
        }
        # Only a measurement carries these: other values read as they always have.
        if self.uncertainty is not None:
            data["uncertainty"] = self.uncertainty
        if self.instrument is not None:
            data["instrument"] = self.instrument
        return data

    @classmethod
    def checked(cls, value: object, unit: object = "", time: object = 0.0,
                source: object = Source.MANUAL, confidence: object = 1.0, *,
                name: str = "", uncertainty: object = None,
                instrument: object = None) -> PropertyValue:
        """A property value held to the twin's rules: a JSON-safe value, a unit that
        exists, a finite time, a known source and a confidence in 0..1 (and, for a
        measurement, a positive finite uncertainty and an instrument label)."""
        try:
            return cls(
                value=validate.json_value(value, "value"),
                unit=validate.unit(unit, "unit"),
                time=validate.event_time(time),
                source=validate.choice(source, Source, "source", "bad_source"),
                confidence=validate.confidence(confidence),
                uncertainty=None if uncertainty is None else validate.uncertainty(uncertainty),
                instrument=None if instrument is None else validate.label(instrument,
                                                                         "instrument"),
            )
        except InvalidInput as exc:
            raise validate.within(f"property {validate.shown(name)}", exc) from None

    @classmethod
    def from_dict(cls, data: object, *, name: str = "") -> PropertyValue:
        if type(data) is not dict or "value" not in data:
            what = f"property {validate.shown(name)}"
            validate.field(validate.mapping(data, what), "value", what)
        assert isinstance(data, dict)
        return cls.checked(data["value"], data.get("unit", ""), data.get("time", 0.0),
                           data.get("source", Source.MANUAL), data.get("confidence", 1.0),
                           name=name, uncertainty=data.get("uncertainty"),
                           instrument=data.get("instrument"))


@dataclass(slots=True)
class Element:
    """A physical thing of the twin: a slab, a wall, a room, a pump.

    ``id`` is twinsync's key; for elements from a BIM model it equals the IFC GlobalId.
    ``parent`` is the id of the spatial container (site, building, storey, space).
    """

    id: str
    type: str
    name: str = ""
    global_id: str | None = None
    parent: str | None = None
    status: Status = Status.PLANNED
    properties: dict[str, PropertyValue] = field(default_factory=dict)
    archived: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "global_id": self.global_id,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "status": self.status.value,
            "archived": self.archived,
            "properties": {name: pv.to_dict() for name, pv in self.properties.items()},
        }

    def check(self) -> None:
        """Refuse an element the twin could not keep (``InvalidInput`` with a reason).

        Every field is checked before any is touched; then the status becomes a ``Status``
        and each property value the form ``PropertyValue.checked`` gives it.
        """
        validate.identifier(self.id, "element id")
        try:
            validate.label(self.type, "type")
            validate.text(self.name, "name")
            validate.optional_identifier(self.global_id, "global id")
            validate.optional_identifier(self.parent, "parent id")
            status = validate.choice(self.status, Status, "status", "bad_status")
            if not isinstance(self.archived, bool):
                raise InvalidInput("archived must be true or false", "bad_value")
            properties = validate.mapping(self.properties, "properties")
            if len(properties) > validate.MAX_PROPERTIES:
                raise _too_many(len(properties))
            checked = {}
            for name, pv in properties.items():
                if not isinstance(pv, PropertyValue):
                    raise InvalidInput(f"property {validate.shown(name)} is not a "
                                       "PropertyValue", "bad_property")
                checked[validate.property_name(name)] = PropertyValue.checked(
                    pv.value, pv.unit, pv.time, pv.source, pv.confidence, name=name,
                    uncertainty=pv.uncertainty, instrument=pv.instrument)
        except InvalidInput as exc:
            raise validate.within(f"element {validate.shown(self.id)}", exc) from None
        if self.parent == self.id:
            raise _own_parent(self.id)
        self.status = status
        self.properties = checked

    @classmethod
    def from_dict(cls, data: object) -> Element:
        body = validate.mapping(data, "an element")
        element_id = validate.identifier(validate.field(body, "id", "an element"),
                                         "element id")
        try:
            archived = body.get("archived", False)
            if not isinstance(archived, bool):
                raise InvalidInput("archived must be true or false", "bad_value")
            properties = validate.mapping(body.get("properties", {}), "properties")
            if len(properties) > validate.MAX_PROPERTIES:
                raise _too_many(len(properties))
            element = cls(
                id=element_id,
                type=validate.label(validate.field(body, "type", "an element"), "type"),
                name=validate.text(body.get("name", ""), "name"),
                global_id=validate.optional_identifier(body.get("global_id"), "global id"),
                parent=validate.optional_identifier(body.get("parent"), "parent id"),
                status=validate.choice(body.get("status", Status.PLANNED), Status, "status",
                                       "bad_status"),
                archived=archived,
                properties={validate.property_name(name): PropertyValue.from_dict(
                    pv, name=name) for name, pv in properties.items()},
            )
        except InvalidInput as exc:
            raise validate.within(f"element {validate.shown(element_id)}", exc) from None
        if element.parent == element.id:
            raise _own_parent(element_id)
        return element


def _too_many(count: int) -> InvalidInput:
    return InvalidInput(f"{count} properties; at most {validate.MAX_PROPERTIES}",
                        "too_many_properties")


def _own_parent(element_id: str) -> InvalidInput:
    return InvalidInput(f"element {validate.shown(element_id)} cannot contain itself",
                        "bad_parent")
