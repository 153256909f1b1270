"""The rules every write to the twin is checked against, in one place.

A value the twin keeps must survive the store and every reader: it is written as JSON by
orjson (which refuses integers past 64 bits, deep nesting and lone surrogates, and turns
NaN into ``null``), read back at start-up, and served to the dashboard. Anything that
would not come back exactly as it went in is refused here, before the twin changes, with
an ``InvalidInput`` whose ``reason`` is one of a short, stable list:

=================  ===================================================================
``bad_id``         an id that is not a string, is empty, too long, or holds a control
                   character
``bad_text``       a name, kind, type or unit that is not a string, too long, or holds a
                   control character or a lone surrogate
``missing_field``  a stored or posted object without a field it must have
``not_a_number``   a number field given something else (a string, a bool, null)
``not_finite``     NaN or ±Infinity where a number is expected
``out_of_range``   a number outside its field's bounds (a gain of 0, a negative interval)
``int_too_large``  an integer outside the signed 64-bit range
``bad_value``      a property value JSON cannot carry (a set, bytes, a non-string key)
``value_too_deep`` a property value nested deeper than ``MAX_VALUE_DEPTH``
``value_too_large`` a property value larger than ``MAX_VALUE_SIZE`` as JSON text
``too_many_properties`` an element with more than ``MAX_PROPERTIES`` properties
``bad_confidence`` a confidence that is not a finite number in 0..1
``bad_property``   a property name that is empty, too long or holds a control character
=================  ===================================================================

plus ``bad_status`` and ``bad_source`` for values outside an enumeration, and
``unknown_unit`` (a ``UnitError``) for a unit that does not exist. The functions return
the value as the twin keeps it (a tuple becomes a list, a NumPy scalar a Python one), so
what is stored is what was checked.

>>> json_value({"width": 0.3, "tags": ("a", "b")}, "property 'x'")
{'width': 0.3, 'tags': ['a', 'b']}
>>> json_value(2**70, "property 'x'")
Traceback (most recent call last):
...
twinsync.errors.InvalidInput: property 'x': the integer 1180591620717411303424 is outside \
the signed 64-bit range
"""

from __future__ import annotations

import math
import re
from enum import Enum
from typing import Any, TypeVar

import numpy as np

from ..errors import InvalidInput
from ..units import canonical

#: Ids (elements, sensors, models) appear in URLs, MQTT topics and PostgreSQL ``text``
#: keys, which refuse a NUL character.
MAX_ID_LENGTH = 256
#: Kinds, types, units and property names. A BIM property is "<set>.<name>", each an
#: IfcLabel of up to 255 characters.
MAX_LABEL_LENGTH = 1024
#: Free text: an element's display name.
MAX_TEXT_LENGTH = 4096
#: How deep a property value (or a sensor's ``meta``) may nest lists and objects.
MAX_VALUE_DEPTH = 16
#: How large one property value may be as JSON text. Every change of an element rewrites
#: its whole row, and every element is served on each read of the element list.
MAX_VALUE_SIZE = 64 * 1024
#: Properties one element may carry.
MAX_PROPERTIES = 10_000
#: Times are seconds since 1970; this bound (about the year 5138) keeps them finite and
#: readable as dates everywhere.
MAX_ABS_TIME = 1e11
#: Calibration: ``value * gain + offset``. A gain of 0 would turn every reading into the
#: offset; the magnitudes keep the calibrated value and its running statistics finite.
MIN_ABS_GAIN = 1e-12
MAX_ABS_GAIN = 1e12
MAX_ABS_OFFSET = 1e12
#: A sensor's expected interval and resolution (0: unknown).
MAX_INTERVAL_SECONDS = 10 * 365.25 * 86400.0
MAX_RESOLUTION = 1e12

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# C0 and C1 control characters and lone surrogates (which UTF-8 cannot encode).
_NOT_IN_LABELS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Free text may break lines and indent.
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

# Labels (kinds, types, units, property names) already found clean. A twin repeats a few
# thousand of them (every slab has the same property names); bounded, as they come from
# clients.
_SEEN_LABELS = 65_536
_seen_labels: set[str] = set()

# Sizes counted for scalars as JSON text: their longest spelling.
_NUMBER_SIZE = 24
_LITERAL_SIZE = 5
# Types as tuples: ``isinstance`` with a tuple is several times cheaper than with a union.
_BOOLS = (bool, np.bool_)
_INTEGERS = (int, np.integer)
_FLOATS = (float, np.floating)
_NUMBERS = (int, float, np.integer, np.floating)
_CONTAINERS = (list, tuple, dict)

# Strings shorter than this are within ``MAX_VALUE_SIZE`` whatever else the value holds.
_SHORT_STRING = 1024

E = TypeVar("E", bound=Enum)


def within(context: str, error: InvalidInput) -> InvalidInput:
    """``error`` again, its message prefixed with ``context`` (``"property 'x'"``), its
    class and reason kept. Checks name the field they refuse ("unit", "time"); the caller
    adds where the field is only when something is refused, so checking stays cheap."""
    again = type(error)(f"{context}: {error}", error.reason)
    again.__cause__ = error.__cause__
    return again


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages that echo input back."""
    if isinstance(value, str | bytes) and len(value) > limit:
        # Not a repr of all of a 20 MB id only to cut it.
        return f"{value[:limit]!r}… ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def identifier(value: object, what: str) -> str:
    """An element, sensor or model id: a non-empty string of at most ``MAX_ID_LENGTH``
    characters without control characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, not {type(value).__name__}", "bad_id")
    if not value:
        raise InvalidInput(f"{what} must not be empty", "bad_id")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInput(f"{what} has {len(value)} characters; at most {MAX_ID_LENGTH}",
                           "bad_id")
    if _NOT_IN_LABELS.search(value):
        raise InvalidInput(f"{what} {shown(value)} holds a control character", "bad_id")
    return str.__str__(value)


def optional_identifier(value: object, what: str) -> str | None:
    return None if value is None else identifier(value, what)


def label(value: object, what: str, *, empty: bool = False) -> str:
    """A kind, type, unit or property name: a string of at most ``MAX_LABEL_LENGTH``
    characters without control characters (empty only where ``empty`` allows it)."""
    return _string(value, what, MAX_LABEL_LENGTH, _NOT_IN_LABELS, empty)


def property_name(value: object) -> str:
    """A property's name: a label, never empty (``bad_property`` when refused)."""
    return _string(value, "property name", MAX_LABEL_LENGTH, _NOT_IN_LABELS, False,
                   "bad_property")


def text(value: object, what: str) -> str:
    """Free text (a display name): tabs and line breaks allowed, other control characters
    not, at most ``MAX_TEXT_LENGTH`` characters."""
    return _string(value, what, MAX_TEXT_LENGTH, _NOT_IN_TEXT, True)


def _string(value: object, what: str, limit: int, refused: re.Pattern[str],
            empty: bool, reason: str = "bad_text") -> str:
    if type(value) is str and value in _seen_labels and refused is _NOT_IN_LABELS:
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, not {type(value).__name__}", reason)
    if not value and not empty:
        raise InvalidInput(f"{what} must not be empty", reason)
    if len(value) > limit:
        raise InvalidInput(f"{what} has {len(value)} characters; at most {limit}", reason)
    if refused.search(value):
        raise InvalidInput(f"{what} {shown(value)} holds a control character or a lone "
                           "surrogate", reason)
    if refused is _NOT_IN_LABELS and value and len(_seen_labels) < _SEEN_LABELS:
        _seen_labels.add(str.__str__(value))
    return str.__str__(value)


def unit(value: object, what: str) -> str:
    """A unit that exists (see ``twinsync.units``), in the spelling the twin stores; ``""``
    (and ``None``) mean no unit. Raises ``UnitError`` (``unknown_unit``) for one pint does
    not know."""
    if value is None:
        return ""
    if type(value) is str and value in _seen_labels:
        return canonical(value)
    return canonical(label(value, what, empty=True))


def number(value: object, what: str, *, low: float = -math.inf,
           high: float = math.inf) -> float:
    """A finite real number within ``low``..``high``. Strings and bools are refused, not
    converted: ``"1"`` or ``true`` as a gain is a client's mistake, not a gain."""
    if type(value) is float:  # the common case first: one type check
        result = value
    else:
        if isinstance(value, bool) or not isinstance(value, _NUMBERS):
            raise InvalidInput(f"{what} must be a number, not {shown(value)}", "not_a_number")
        if isinstance(value, _INTEGERS) and not INT64_MIN <= int(value) <= INT64_MAX:
            raise InvalidInput(f"{what} {value} is outside the signed 64-bit range",
                               "int_too_large")
        result = float(value)
    if not math.isfinite(result):
        raise InvalidInput(f"{what} must be finite, not {result}", "not_finite")
    if not low <= result <= high:
        raise InvalidInput(f"{what} {result} is outside {low}..{high}", "out_of_range")
    return result


def event_time(value: object, what: str = "time") -> float:
    """A time in seconds since 1970, finite and within ±``MAX_ABS_TIME``."""
    return number(value, what, low=-MAX_ABS_TIME, high=MAX_ABS_TIME)


def confidence(value: object, what: str = "confidence") -> float:
    """How far a value is trusted: a finite number in 0..1."""
    try:
        return number(value, what, low=0.0, high=1.0)
    except InvalidInput as exc:
        raise InvalidInput(str(exc), "bad_confidence") from None


def uncertainty(value: object, what: str = "uncertainty") -> float:
    """A standard uncertainty: a finite number above 0 (a measurement known exactly would
    outweigh every other source without limit)."""
    try:
        result = number(value, what)
    except InvalidInput as exc:
        raise InvalidInput(str(exc), "bad_uncertainty") from None
    if not result > 0.0:
        raise InvalidInput(f"{what} must be above 0, not {result}", "bad_uncertainty")
    return result


def gain(value: object) -> float:
    """A calibration gain: finite, not 0, of magnitude within ``MIN_ABS_GAIN``..``MAX_ABS_GAIN``."""
    result = number(value, "gain", low=-MAX_ABS_GAIN, high=MAX_ABS_GAIN)
    if abs(result) < MIN_ABS_GAIN:
        raise InvalidInput(f"gain {result} would erase the reading: its magnitude must be at "
                           f"least {MIN_ABS_GAIN}", "out_of_range")
    return result


def offset(value: object) -> float:
    """A calibration offset: finite, within ±``MAX_ABS_OFFSET``."""
    return number(value, "offset", low=-MAX_ABS_OFFSET, high=MAX_ABS_OFFSET)


def choice(value: object, kind: type[E], what: str, reason: str) -> E:
    """A member of the enumeration ``kind`` (given as itself or its value)."""
    if type(value) is kind:
        return value
    member = kind._value2member_map_.get(value) if isinstance(value, str) else None
    if member is not None:
        return member  # type: ignore[return-value]
    try:
        return kind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(str(member.value) for member in kind)
        raise InvalidInput(f"{what} {shown(value)} is not one of {allowed}", reason) from None


def field(data: dict[str, Any], key: str, what: str) -> Any:
    """``data[key]``, or a clear refusal naming what lacks it."""
    try:
        return data[key]
    except KeyError:
        raise InvalidInput(f"{what} has no {key!r}", "missing_field") from None


def mapping(value: object, what: str) -> dict[str, Any]:
    """A JSON object as a dict (what ``from_dict`` constructors take)."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be an object, not {type(value).__name__}",
                           "bad_value")
    return value


def json_value(value: object, what: str) -> Any:
    """``value`` as the twin keeps it, if it goes through JSON and back unchanged.

    Allowed: ``None``, bools, integers within 64 bits, finite floats, strings without lone
    surrogates, and lists and string-keyed objects of these, at most ``MAX_VALUE_DEPTH``
    deep and ``MAX_VALUE_SIZE`` characters as JSON. Tuples become lists and NumPy scalars
    Python ones; anything else is refused.
    """
    # A lone number or short string, as a JSON parser or a BIM model gives it, is kept
    # as it is; anything else (or anything refused) takes the full walk.
    if type(value) is float:
        if math.isfinite(value):
            return value
    elif type(value) is str:
        if len(value) < _SHORT_STRING and (value.isascii() or not _SURROGATE.search(value)):
            return value
    elif type(value) is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
    elif value is None or type(value) is bool:
        return value
    return _Walk(what).node(value, 0)


def json_object(value: object, what: str) -> dict[str, Any]:
    """A JSON object (a sensor's ``meta``) under the same rules as ``json_value``."""
    result = json_value(mapping(value, what), what)
    assert isinstance(result, dict)
    return result


class _Walk:
    """One walk over a value: checks and normalises each node. ``left`` is the JSON text
    still allowed, so a huge list is refused after ``MAX_VALUE_SIZE`` items, not after
    walking them all; depth is checked before descending, so a deep (or looped) value
    never reaches Python's recursion limit."""

    __slots__ = ("left", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self.left = MAX_VALUE_SIZE

    def node(self, value: object, depth: int) -> Any:
        what = self.what
        if type(value) is float or isinstance(value, _FLOATS):
            self.spend(_NUMBER_SIZE)
            number_ = float(value)
            if not math.isfinite(number_):
                raise InvalidInput(f"{what}: {number_} is not a finite number; JSON cannot "
                                   "carry it", "not_finite")
            return number_
        if isinstance(value, str):
            return self.string(value)
        if value is None or isinstance(value, _BOOLS):
            self.spend(_LITERAL_SIZE)
            return None if value is None else bool(value)
        if isinstance(value, _INTEGERS):
            self.spend(_NUMBER_SIZE)
            result = int(value)
            if not INT64_MIN <= result <= INT64_MAX:
                raise InvalidInput(f"{what}: the integer {result} is outside the signed "
                                   "64-bit range", "int_too_large")
            return result
        if isinstance(value, float):
            return self.node(float(value), depth)
        if not isinstance(value, _CONTAINERS):
            raise InvalidInput(f"{what}: a {type(value).__name__} cannot be kept as JSON",
                               "bad_value")
        if depth >= MAX_VALUE_DEPTH:
            raise InvalidInput(f"{what} nests deeper than {MAX_VALUE_DEPTH} levels",
                               "value_too_deep")
        self.spend(2)
        if not isinstance(value, dict):
            items = []
            for item in value:
                self.spend(1)
                items.append(self.node(item, depth + 1))
            return items
        entries: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{what} has a key {shown(key)} that is not a string",
                                   "bad_value")
            name = self.string(key)
            self.spend(2)
            entries[name] = self.node(item, depth + 1)
        return entries

    def string(self, value: str) -> str:
        self.spend(len(value) + 2)
        if not value.isascii() and _SURROGATE.search(value):
            raise InvalidInput(f"{self.what} holds a lone surrogate, which UTF-8 cannot "
                               "carry", "bad_value")
        return str.__str__(value)

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise InvalidInput(f"{self.what} is larger than {MAX_VALUE_SIZE} characters as "
                               "JSON", "value_too_large")
