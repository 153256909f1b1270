"""Field measurements of a sensor-fed property: a value someone on site measured, with its
standard uncertainty, to be fused with the property's sensors (``service/fusion.py``).

A body reads::

    {"property": "temperature", "value": 21.4, "unit": "degC", "uncertainty": 0.3,
     "time": 1765000000.0, "instrument": "handheld probe HT-2", "id": "phone-7/0001"}

The uncertainty is required, never a default: a handheld thermometer (± 0.3 °C) and a
thermocouple taped to formwork (± 2 °C) differ forty-fold in weight, and a default per
unit would give one of them a weight it has not earned. The unit is required where the
property has one, and must convert to it (a reading in °F of a property in °C is converted,
its uncertainty scaled, not shifted). The time (epoch seconds or ISO 8601) is optional
(now); a time ahead of the
server's clock by more than the readings' own tolerance (``MAX_AHEAD_SECONDS``) is refused.
The uncertainty is bounded (``MIN_UNCERTAINTY``..``MAX_UNCERTAINTY`` in the property's
unit) where its square and the square's inverse stay well inside the float range: past them
the variance fusion weighs by is 0 or infinite and the property's fused value is lost.
Everything is checked before anything is built: a refused body changes nothing.

The ``id`` (optional) is the client's name for this measurement, its idempotency key: a
phone whose answer was lost sends the same body with the same id again, and the twin
answers with what it recorded the first time (``service/measurements.py``).
``same_measurement`` tells a retry from another measurement under a reused id.

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
from .events import Event

#: The keys a body may carry; any other is a mistake the client should hear about.
MEASUREMENT_KEYS = frozenset({"property", "value", "unit", "uncertainty", "time",
                              "instrument", "id"})

#: An id is the client's (a UUID, or a device's name and counter): printable, not long.
MAX_ID_LENGTH = 128

#: Uncertainties (in the property's unit) whose variance, its inverse and a sum of a few
#: of them are finite, normal floats: 1e-100² = 1e-200, 1e100² = 1e200.
MIN_UNCERTAINTY = 1e-100
MAX_UNCERTAINTY = 1e100

#: What a retry must repeat to be one; ``time`` only if the retry gives one (a first
#: sending without a time was stamped on arrival, which its retry cannot know).
_SAME = ("property", "value", "unit", "uncertainty", "instrument")


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
    key = measurement_id(given)
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
    scaled = abs(convert.scale) * uncertainty
    if not MIN_UNCERTAINTY <= scaled <= MAX_UNCERTAINTY:
        raise InvalidInput(f"uncertainty {scaled:g} {unit} is outside "
                           f"{MIN_UNCERTAINTY:g}..{MAX_UNCERTAINTY:g}: its variance could "
                           "not be weighed", "bad_uncertainty")
    pv = PropertyValue.checked(
        convert.apply(value), unit, time, Source.FIELD, DEFAULT_CONFIDENCE[Source.FIELD],
        name=name, uncertainty=scaled,
        instrument=None if instrument is None else validate.label(instrument, "instrument"))
    recorded: dict[str, Any] = {"property": name, "value": value, "unit": unit_given,
                                "uncertainty": uncertainty, "time": time,
                                "instrument": pv.instrument}
    if key is not None:
        recorded["id"] = key
    return pv, recorded


def measurement_id(body: object, header: str | None = None) -> str | None:
    """The measurement's id, from its body or (``header``) an ``Idempotency-Key``; None
    when it has none. Both given must agree; ``bad_measurement_id`` otherwise."""
    given = validate.mapping(body, "a measurement")
    key = given.get("id")
    if key is not None:
        try:
            key = validate.label(key, "a measurement id")
        except InvalidInput as exc:
            raise InvalidInput(str(exc), "bad_measurement_id") from None
        if len(key) > MAX_ID_LENGTH:
            raise InvalidInput(f"a measurement id has at most {MAX_ID_LENGTH} characters",
                               "bad_measurement_id")
    if header is not None:
        if key is not None and key != header:
            raise InvalidInput(f"the body's measurement id {validate.shown(key)} is not the "
                               f"Idempotency-Key {validate.shown(header)}; send one",
                               "bad_measurement_id")
        return measurement_id({"id": header})
    return key


def recorded_key(event: Event) -> str | None:
    """The id ``event`` recorded a measurement under, if it recorded one with an id: what
    the store indexes it by (``store/event_keys.py``), so a retry is found at once."""
    if event.kind != "property_changed" or event.element_id is None:
        return None
    given = event.data.get("measured")
    if not isinstance(given, dict):
        return None
    key = given.get("id")
    return key if isinstance(key, str) else None


def same_measurement(body: object, recorded: Mapping[str, Any]) -> list[str]:
    """The fields in which ``body`` differs from the measurement ``recorded`` under its id
    (the event's ``measured``), each as ``"value 22.5, not 21.5"``; empty for a retry."""
    given = validate.mapping(body, "a measurement")
    asked: dict[str, Any] = {
        "property": validate.property_name(validate.field(given, "property", "a measurement")),
        "value": validate.number(validate.field(given, "value", "a measurement"), "value"),
        "unit": validate.unit(given.get("unit"), "unit"),
        "uncertainty": given.get("uncertainty"),
        "instrument": given.get("instrument"),
    }
    fields = list(_SAME)
    if given.get("time") is not None:
        asked["time"] = validate.event_time(parse_time(given["time"]))
        fields.append("time")
    return [f"{name} {validate.shown(asked[name])}, not {validate.shown(recorded.get(name))}"
            for name in fields if asked[name] != recorded.get(name)]


def is_measurement(value: PropertyValue | None) -> bool:
    """Whether a property's stored value is a field measurement fusion can take."""
    return (value is not None and value.uncertainty is not None
            and value.source is Source.FIELD and isinstance(value.value, int | float)
            and not isinstance(value.value, bool))


def measurement_of(values: Mapping[str, PropertyValue], name: str) -> PropertyValue | None:
    """The field measurement stored for property ``name``, if that is what is stored."""
    value = values.get(name)
    return value if is_measurement(value) else None
