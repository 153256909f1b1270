"""Elements of the twin: the things being built or run, and the values they carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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


#: How far a value from each source is trusted when the source says nothing itself
#: (MISSION.md: BIM, schedule and drone surveys are reliable, field reports less so).
DEFAULT_CONFIDENCE: dict[Source, float] = {
    Source.BIM: 1.0,
    Source.IOT: 1.0,
    Source.SCHEDULE: 0.95,
    Source.FIELD: 0.8,
    Source.DRONE: 0.9,
    Source.MANUAL: 0.9,
}


@dataclass(slots=True)
class PropertyValue:
    """One value of an element's property, with where and when it came from."""

    value: Any
    unit: str = ""
    time: float = 0.0
    source: Source = Source.MANUAL
    confidence: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "time": self.time,
            "source": self.source.value,
            "confidence": self.confidence,
        }


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Element:
        return cls(
            id=data["id"],
            type=data["type"],
            name=data.get("name", ""),
            global_id=data.get("global_id"),
            parent=data.get("parent"),
            status=Status(data.get("status", Status.PLANNED)),
            archived=bool(data.get("archived", False)),
            properties={
                name: PropertyValue(
                    value=pv["value"],
                    unit=pv.get("unit", ""),
                    time=float(pv.get("time", 0.0)),
                    source=Source(pv.get("source", Source.MANUAL)),
                    confidence=float(pv.get("confidence", 1.0)),
                )
                for name, pv in data.get("properties", {}).items()
            },
        )
