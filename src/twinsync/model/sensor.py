"""Sensors and their bindings to element properties.

``check`` holds each to the rules of ``validate`` before the twin takes it; ``from_dict``
(a stored row, a posted body) checks as it builds, so a bad row is an ``InvalidInput``
with a reason, never a ``TypeError`` or a NaN that reaches every reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from . import validate


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

    def check(self) -> None:
        """Refuse a sensor the twin could not keep (``InvalidInput`` with a reason); then
        its unit takes the spelling the twin stores and its numbers become floats."""
        checked = Sensor._checked(self.id, self.kind, self.unit, self.expected_interval,
                                  self.resolution, self.meta)
        self.unit = checked.unit
        self.expected_interval = checked.expected_interval
        self.resolution = checked.resolution
        self.meta = checked.meta

    @classmethod
    def from_dict(cls, data: object) -> Sensor:
        body = validate.mapping(data, "a sensor")
        return cls._checked(validate.field(body, "id", "a sensor"),
                            body.get("kind", "generic"), body.get("unit", ""),
                            body.get("expected_interval", 0.0), body.get("resolution", 0.0),
                            body.get("meta", {}))

    @classmethod
    def _checked(cls, sensor_id: object, kind: object, unit: object, expected_interval: object,
                 resolution: object, meta: object) -> Sensor:
        checked_id = validate.identifier(sensor_id, "sensor id")
        try:
            return cls(
                id=checked_id,
                kind=validate.label(kind, "kind"),
                unit=validate.unit(unit, "unit"),
                expected_interval=validate.number(expected_interval, "expected interval",
                                                  low=0.0, high=validate.MAX_INTERVAL_SECONDS),
                resolution=validate.number(resolution, "resolution", low=0.0,
                                           high=validate.MAX_RESOLUTION),
                meta=validate.json_object(meta, "meta"),
            )
        except InvalidInput as exc:
            raise validate.within(f"sensor {validate.shown(checked_id)}", exc) from None


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

    def check(self) -> None:
        """Refuse a transform that would turn readings into NaN, infinities or a constant:
        a gain that is not a finite, non-zero number, an offset that is not finite, a unit
        that does not exist."""
        validate.gain(self.gain)
        validate.offset(self.offset)
        validate.unit(self.unit, "unit of the transform")

    @classmethod
    def from_dict(cls, data: object) -> Transform:
        body = validate.mapping(data, "a transform")
        return cls(gain=validate.gain(body.get("gain", 1.0)),
                   offset=validate.offset(body.get("offset", 0.0)),
                   unit=validate.unit(body.get("unit", ""), "unit of the transform"))


_DEFAULT = Transform()


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

    def check(self) -> None:
        """Refuse a binding the twin could not keep (``InvalidInput`` with a reason)."""
        validate.identifier(self.sensor_id, "sensor id")
        validate.identifier(self.element_id, "element id")
        validate.property_name(self.property)
        if not isinstance(self.transform, Transform):
            raise InvalidInput("a binding's transform must be a Transform", "bad_value")
        self.transform.check()

    @classmethod
    def from_dict(cls, data: object) -> Binding:
        body = validate.mapping(data, "a binding")
        transform = body.get("transform")
        return cls(
            sensor_id=validate.identifier(validate.field(body, "sensor_id", "a binding"),
                                          "sensor id"),
            element_id=validate.identifier(validate.field(body, "element_id", "a binding"),
                                           "element id"),
            property=validate.property_name(validate.field(body, "property", "a binding")),
            transform=_DEFAULT if transform is None else Transform.from_dict(transform),
        )
