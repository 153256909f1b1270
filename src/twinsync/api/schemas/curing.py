"""What the routes of progress from sensors read and answer: concrete mixes and an
element's maturity. A maturity's figures per sensor and its targets are open objects here,
described in docs/SCHEDULE.md ("Progress from sensors")."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class MixIn(BaseModel):
    """A concrete mix (a new version of one by name): its strength-maturity curve
    (``{"form": "logarithmic", "a", "b"}``, lab ``breaks`` to fit one, or ``{"form":
    "hyperbolic", "ultimate", "rate", "offset"?}``), the strength its elements must reach,
    and which elements are of it (ids, an IFC class, or a property's value)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "C30-slab",
                    "curve": {"form": "logarithmic", "a": -20.0, "b": 12.0},
                    "required_strength": 20.0,
                    "ifc_class": "IfcSlab",
                }
            ]
        },
    )
    name: str
    index: str | None = None
    """``temperature_time_factor`` (Nurse-Saul, the default) or ``equivalent_age``."""
    curve: dict[str, Any]
    required_strength: float
    targets: dict[str, float] | None = None
    """Other strengths to report reaching (``{"stripping": 10}``), MPa."""
    datum_temperature: float | None = None
    activation_energy: float | None = None
    reference_temperature: float | None = None
    elements: list[str] | None = None
    ifc_class: str | None = None
    property: str | None = None
    value: str | None = None
    temperature_properties: list[str] | None = None
    max_gap_hours: float | None = None
    min_quality: float | None = None
    confidence: float | None = None


class MixOut(BaseModel):
    """A declared mix, its defaults filled in."""

    model_config = ConfigDict(extra="allow")
    name: str
    index: str
    curve: dict[str, Any]
    required_strength: float
    targets: dict[str, float]
    elements: list[str]
    ifc_class: str | None
    property: str | None
    value: str | None


class Maturity(BaseModel):
    """An element's concrete maturity and estimated strength as of ``as_of``: per sensor
    and governing, with gaps, excluded readings and the confidence; without a known pour
    or a temperature sensor, ``estimate`` is null and ``detail`` says why."""

    model_config = ConfigDict(extra="allow")
    element_id: str
    mix: str
    as_of: float
    recorded: bool
    """Whether the required strength is already recorded for the element."""
    not_temperature_sensors: list[str]
    poured_at: float | None
    strength_interval: dict[str, float] | None = None
    """``{"coverage": 0.9, "low", "high"}`` (MPa) for a mix whose curve was fitted from
    three breaks or more; null otherwise."""
    pace: dict[str, float] | None = None
    """The governing sensor's maturity gained an hour over its last day of readings
    (``per_hour``, ``slowest`` and ``fastest`` of its quarters, over ``hours``); each
    target's ``expected_at`` (``time``, ``earliest``, ``latest``) is projected at it."""
