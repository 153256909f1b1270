"""Unit conversion, resolved once per unit pair and applied to whole columns.

pint parses units and knows their relations, but calling it per reading costs tens of
microseconds. Every conversion twinsync needs is affine (``y = x * scale + shift``:
°F→°C, kPa→MPa, %→fraction), so a pair of units is resolved through pint once, cached,
and then applied to NumPy columns at the cost of one multiply-add.

>>> to_c = converter("degF", "degC")
>>> round(to_c.apply(212.0), 6)
100.0
>>> converter("m", "mm").scale
1000.0
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pint

from .errors import UnitError

_registry: pint.UnitRegistry[float] = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
# Units seen on sites that pint spells differently.
_ALIASES = {
    "°C": "degC",
    "C": "degC",
    "celsius": "degC",
    "°F": "degF",
    "F": "degF",
    "K": "kelvin",
    "%RH": "percent",
    "%": "percent",
    "ppm": "ppm",
    "µε": "microstrain",
    "ustrain": "microstrain",
    "με": "microstrain",
    # SenML's registered unit names (RFC 8428 §12.1) that pint spells differently.
    "Cel": "degC",
    "/": "dimensionless",
    "1": "dimensionless",
    "%EL": "percent",
    "count": "dimensionless",
    "beat/min": "1/minute",
    "m3/s": "m**3/s",
    "m2": "m**2",
    "m3": "m**3",
}
_registry.define("strain = [] ")
_registry.define("microstrain = 1e-6 * strain = µstrain")


@dataclass(frozen=True, slots=True)
class Converter:
    """An affine conversion ``value * scale + shift`` between two units."""

    source: str
    target: str
    scale: float
    shift: float

    def apply(self, value: Any) -> Any:
        """Convert a number or a NumPy array."""
        if self.scale == 1.0 and self.shift == 0.0:
            return value
        return value * self.scale + self.shift


#: No unit twinsync knows is longer; a longer "unit" is refused before pint parses it.
MAX_UNIT_LENGTH = 100


def canonical(unit: object) -> str:
    """The spelling twinsync stores for ``unit``; raises UnitError if pint does not know it
    (or it is not a string: a unit of ``123`` or ``["degC"]`` is a client's mistake).

    >>> canonical("°C"), canonical(None)
    ('degC', '')
    """
    if unit is None or unit == "":
        return ""
    if not isinstance(unit, str):
        raise UnitError(f"a unit is a string, not {type(unit).__name__}", "bad_unit")
    if len(unit) > MAX_UNIT_LENGTH:
        raise UnitError(f"a unit of {len(unit)} characters; at most {MAX_UNIT_LENGTH}",
                        "unknown_unit")
    return _canonical(unit)


@lru_cache(maxsize=4096)
def _canonical(unit: str) -> str:
    name = _ALIASES.get(unit.strip(), unit.strip())
    try:
        _registry.Unit(name)
    except Exception as exc:  # pint raises several unrelated types for bad input
        raise UnitError(f"unknown unit {unit!r}", "unknown_unit") from exc
    return name


def converter(source: str, target: str) -> Converter:
    """The conversion from ``source`` to ``target`` (either may be empty: dimensionless)."""
    if type(source) is str and type(target) is str:
        return _converter(source, target)
    # Not a string (a list cannot even be a cache key): refused with the reason.
    canonical(source)
    canonical(target)
    return _converter(str(source or ""), str(target or ""))


@lru_cache(maxsize=4096)
def _converter(source: str, target: str) -> Converter:
    src, dst = canonical(source), canonical(target)
    if src == dst:
        return Converter(src, dst, 1.0, 0.0)
    try:
        zero = _registry.Quantity(0.0, src or "dimensionless").to(dst or "dimensionless")
        one = _registry.Quantity(1.0, src or "dimensionless").to(dst or "dimensionless")
    except pint.DimensionalityError as exc:
        raise UnitError(f"cannot convert {source!r} to {target!r}", "incompatible_unit") from exc
    except Exception as exc:
        raise UnitError(f"cannot convert {source!r} to {target!r}: {exc}", "bad_unit") from exc
    shift = float(zero.magnitude)
    return Converter(src, dst, float(one.magnitude) - shift, shift)
