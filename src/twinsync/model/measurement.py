"""Field measurements of a sensor-fed property: a value someone on site measured, with its
standard uncertainty, to be fused with the property's sensors (``service/fusion.py``).

A body reads::

    {"property": "temperature", "value": 21.4, "unit": "degC", "uncertainty": 0.3,
     "time": 1765000000.0, "instrument": "handheld probe HT-2"}

The uncertainty is required, never a default: a handheld thermometer (± 0.3 °C) and a
thermocouple taped to formwork (± 2 °C) differ forty-fold in weight, and a default per
unit would give one of them a weight it has not earned. The unit is required where the
property has one, and must convert to it (a reading in °F of a property in °C is converted,
its uncertainty scaled, not shifted). The time (epoch seconds or ISO 8601) is optional
(now); a time ahead of the
server's clock by more than the readings' own tolerance (``MAX_AHEAD_SECONDS``) is refused.
Everything is checked before anything is built: a refused body changes nothing.

>>> value, given = measured({"property": "temperature", "value": 68.0, "unit": "degF",
...                          "uncertainty": 0.9}, unit="degC", now=1000.0)
>>> round(value.value, 6), round(value.uncertainty or 0.0, 6), value.time
(20.0, 0.5, 1000.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidInput
from ..pipeline.accept import MAX_AHEAD_SECONDS
from ..pipeline.times import parse_time
from ..units import converter
from . import validate
from .element import DEFAULT_CONFIDENCE, PropertyValue, Source

#: The keys a body may carry; any other is a mistake the client should hear about.
MEASUREMENT_KEYS = frozenset({"property", "value", "unit", "uncertainty", "time",
                              "instrument"})


def property_named(body: object) -> str:
    """The property a measurement body names (checked), to look up its unit first."""
    given = validate.mapping(body, "a measurement")
    return validate.property_name(validate.field(given, "property", "a measurement"))


def measured(body: object, *, unit: str, now: float) -> tuple[PropertyValue, dict[str, Any]]:
    """The property value a measurement sets, in the property's ``unit``, and the body as
    given (for the event and the audit); raises ``InvalidInput`` with a reason."""
    given = validate.mapping(body, "a measurement")
    unknown = sorted(str(key) for key in given if key not in MEASUREMENT_KEYS)
    if unknown:
        raise InvalidInput(f"a measurement has unknown keys {unknown[:5]}; allowed: "
                           f"{', '.join(sorted(MEASUREMENT_KEYS))}", "bad_measurement")
    name = validate.property_name(validate.field(given, "property", "a measurement"))
    value = validate.number(validate.field(given, "value", "a measurement"), "value")
    if "uncertainty" not in given:
        raise InvalidInput("a measurement needs its standard uncertainty (the instrument's, "
                           "in the unit of its value)", "missing_uncertainty")
    uncertainty = validate.uncertainty(given["uncertainty"])
    unit_given = validate.unit(given.get("unit"), "unit")
    if unit and not unit_given:
        raise InvalidInput(f"a measurement of {validate.shown(name)} needs its unit "
                           f"(the property is in {unit})", "missing_unit")
    convert = converter(unit_given, unit)
    time = (now if given.get("time") is None
            else validate.event_time(parse_time(given["time"])))
    if time > now + MAX_AHEAD_SECONDS:
        raise InvalidInput(f"a measurement taken at {time} is {time - now:.0f} s ahead of "
                           f"the server's clock ({now}); at most {MAX_AHEAD_SECONDS:.0f} s",
                           "future_time")
    instrument = given.get("instrument")
    pv = PropertyValue.checked(
        convert.apply(value), unit, time, Source.FIELD, DEFAULT_CONFIDENCE[Source.FIELD],
        name=name, uncertainty=abs(convert.scale) * uncertainty,
        instrument=None if instrument is None else validate.label(instrument, "instrument"))
    return pv, {"property": name, "value": value, "unit": unit_given,
                "uncertainty": uncertainty, "time": time, "instrument": pv.instrument}


def is_measurement(value: PropertyValue | None) -> bool:
    """Whether a property's stored value is a field measurement fusion can take."""
    return (value is not None and value.uncertainty is not None
            and value.source is Source.FIELD and isinstance(value.value, int | float)
            and not isinstance(value.value, bool))


def measurement_of(values: Mapping[str, PropertyValue], name: str) -> PropertyValue | None:
    """The field measurement stored for property ``name``, if that is what is stored."""
    value = values.get(name)
    return value if is_measurement(value) else None
