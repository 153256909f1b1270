"""Field property updates as clients send them, read into what ``Twin.set_property`` takes.

A field update names each property with either its bare value or the value with its unit
and how far it is trusted::

    {"crack_width": 0.3}
    {"crack_width": {"value": 0.3, "unit": "mm", "confidence": 0.8}}

A dict is read as the second form, so an object-valued property is sent as
``{"value": {...}}``. Every update of the request is read and checked before any is
applied: one bad entry refuses the request whole, with the ``validate`` reason.

>>> property_updates({"note": "honeycombing", "width": {"value": 0.3, "unit": "mm"}})
[PropertyUpdate(name='note', value='honeycombing', unit='', confidence=None), \
PropertyUpdate(name='width', value=0.3, unit='mm', confidence=None)]
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..errors import InvalidInput
from . import validate

#: The keys of the long form; any other key is a mistake the client should hear about,
#: not a field silently dropped.
UPDATE_KEYS = frozenset({"value", "unit", "confidence"})
#: Properties one request may update.
MAX_UPDATES = 1000


class PropertyUpdate(NamedTuple):
    """One property to set. ``confidence`` None: the source's default trust."""

    name: str
    value: Any
    unit: str
    confidence: float | None


def property_updates(properties: object) -> list[PropertyUpdate]:
    """The updates in a field update's ``properties``, each checked; raises
    ``InvalidInput`` with the reason of the first that cannot be used."""
    given = validate.mapping(properties, "properties")
    if len(given) > MAX_UPDATES:
        raise InvalidInput(f"{len(given)} properties in one update; at most {MAX_UPDATES}",
                           "too_many_properties")
    return [_update(validate.property_name(name), entry) for name, entry in given.items()]


def _update(name: str, entry: object) -> PropertyUpdate:
    what = f"property {validate.shown(name)}"
    if not isinstance(entry, dict):
        return PropertyUpdate(name, validate.json_value(entry, what), "", None)
    if "value" not in entry:
        raise InvalidInput(f"{what} has no value: send {{\"value\": …}} for an object",
                           "bad_property")
    unknown = sorted(str(key) for key in entry if key not in UPDATE_KEYS)
    if unknown:
        raise InvalidInput(f"{what} has unknown keys {unknown[:5]}; allowed: value, unit, "
                           "confidence", "bad_property")
    confidence = entry.get("confidence")
    return PropertyUpdate(
        name,
        validate.json_value(entry["value"], what),
        validate.unit(entry.get("unit"), f"unit of {what}"),
        None if confidence is None else validate.confidence(confidence,
                                                            f"confidence of {what}"),
    )
