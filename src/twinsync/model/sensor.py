"""Sensors and their bindings to element properties."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Sensor:
    """A source of readings: a temperature logger, a strain gauge, a BMS point.

    ``unit`` is the unit the sensor reports in when a reading names none.
    ``expected_interval`` is the seconds between readings the sensor promises (0: unknown,
    learned by the health checks).
    """

    id: str
    kind: str
    unit: str = ""
    expected_interval: float = 0.0
    resolution: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "unit": self.unit,
            "expected_interval": self.expected_interval,
            "resolution": self.resolution,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sensor:
        return cls(
            id=data["id"],
            kind=data.get("kind", "generic"),
            unit=data.get("unit", ""),
            expected_interval=float(data.get("expected_interval", 0.0)),
            resolution=float(data.get("resolution", 0.0)),
            meta=dict(data.get("meta", {})),
        )


@dataclass(frozen=True, slots=True)
class Transform:
    """How a sensor's reading becomes a property value.

    First the reading is converted from its unit to the sensor's unit, then calibrated
    (``value * gain + offset``, in the sensor's unit), then converted to ``unit``, the
    property's unit (empty: keep the sensor's).
    """

    gain: float = 1.0
    offset: float = 0.0
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"gain": self.gain, "offset": self.offset, "unit": self.unit}


@dataclass(frozen=True, slots=True)
class Binding:
    """A sensor feeding one property of one element."""

    sensor_id: str
    element_id: str
    property: str
    transform: Transform = Transform()

    def to_dict(self) -> dict[str, Any]:
        return {
            "sensor_id": self.sensor_id,
            "element_id": self.element_id,
            "property": self.property,
            "transform": self.transform.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Binding:
        t = data.get("transform") or {}
        return cls(
            sensor_id=data["sensor_id"],
            element_id=data["element_id"],
            property=data["property"],
            transform=Transform(
                gain=float(t.get("gain", 1.0)),
                offset=float(t.get("offset", 0.0)),
                unit=t.get("unit", ""),
            ),
        )
