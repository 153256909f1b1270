"""A concrete mix as the twin knows it: its strength-maturity relation, the strength an
element of it must reach, and which elements are of it. Kept as a schedule row of kind
``mix`` (keyed by name), so a mix is written in the transaction that declares it.

JSON (``POST /api/mixes``)::

    {"name": "C30-slab", "index": "temperature_time_factor", "datum_temperature": -10,
     "curve": {"form": "logarithmic", "a": -20.0, "b": 12.0},
     "required_strength": 25, "targets": {"striking": 15},
     "ifc_class": "IfcSlab"}

``curve`` is ``{"form": "logarithmic", "a", "b", "scatter"?}``, ``{"form": "hyperbolic",
"ultimate", "rate", "offset"?}``, or ``{"form": "logarithmic", "breaks": [{"maturity",
"strength"}, …]}`` fitted here; a curve fitted from three breaks or more keeps their
``scatter`` (``{"breaks", "residual_sd", "log_mean", "log_spread"}``), which gives the
strength its interval. Strengths are in MPa; the index is ``temperature_time_factor`` (°C·h,
with ``datum_temperature``) or ``equivalent_age`` (hours at ``reference_temperature``,
with ``activation_energy`` in J/mol). An element is of the mix when the mix names it
(``elements``, by id or GlobalId), when its property ``property`` holds ``value`` (a
property set's value, e.g. ``Pset_ConcreteElementGeneral.StrengthClass`` = ``C30/37``), or
by its IFC class; the most specific wins (named, then property, then class).
``temperature_properties`` names the bound properties that hold the concrete's
temperature (default: every bound property whose unit is a temperature).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..errors import InvalidInput
from ..physics.maturity import (
    ACTIVATION_ENERGY,
    DATUM_TEMPERATURE_C,
    INDICES,
    REFERENCE_TEMPERATURE_C,
    BreakScatter,
    Curve,
    HyperbolicCurve,
    Index,
    LogarithmicCurve,
    fit_logarithmic,
)
from . import validate
from .element import Element
from .plan_records import MIX, PlanRow

#: Past this gap between good readings (hours) the maturity is not bridged (a default).
MAX_GAP_HOURS = 2.0
#: Readings of a lower health quality do not count (the fused view's own bound).
MIN_QUALITY = 0.5
#: How far a strength from a lab-calibrated curve is trusted before the readings' quality
#: and coverage lower it: in-place strength from maturity is typically within 10-15 % of
#: cores, a little less sure than a drone survey (0.9), surer than a field report (0.8).
MIX_CONFIDENCE = 0.85
MAX_BREAKS = 1000
#: The most a strength (MPa) may be: ultra-high-performance concrete reaches some 250.
#: A figure past it is another unit, most often psi (4,000 psi is 27.6 MPa): refused, so
#: a curve in psi is never read as a strength in MPa.
MAX_STRENGTH = 300.0
FIELDS = {
    "name",
    "index",
    "curve",
    "required_strength",
    "targets",
    "datum_temperature",
    "activation_energy",
    "reference_temperature",
    "elements",
    "ifc_class",
    "property",
    "value",
    "temperature_properties",
    "max_gap_hours",
    "min_quality",
    "confidence",
}


@dataclass(frozen=True, slots=True)
class Mix:
    name: str
    curve: Curve
    required_strength: float
    index: Index = "temperature_time_factor"
    targets: dict[str, float] = field(default_factory=dict)
    datum_c: float = DATUM_TEMPERATURE_C
    activation_energy: float = ACTIVATION_ENERGY
    reference_c: float = REFERENCE_TEMPERATURE_C
    elements: tuple[str, ...] = ()
    ifc_class: str | None = None
    property: str | None = None
    value: str | None = None
    temperature_properties: tuple[str, ...] = ()  # empty: every bound temperature
    max_gap_hours: float = MAX_GAP_HOURS
    min_quality: float = MIN_QUALITY
    confidence: float = MIX_CONFIDENCE

    def rank(self, element: Element) -> int:
        """How specifically the mix names the element: 3 by id or GlobalId, 2 by a
        property's value, 1 by IFC class, 0 not at all."""
        if element.id in self.elements or (element.global_id or "\0") in self.elements:
            return 3
        if self.property is not None:
            held = element.properties.get(self.property)
            if (
                held is not None
                and str(held.value) == self.value
                and (self.ifc_class is None or element.type == self.ifc_class)
            ):
                return 2
            return 0
        return 1 if self.ifc_class is not None and element.type == self.ifc_class else 0

    def curve_dict(self) -> dict[str, Any]:
        if isinstance(self.curve, LogarithmicCurve):
            curve: dict[str, Any] = {"form": "logarithmic", "a": self.curve.a, "b": self.curve.b}
            scatter = self.curve.scatter
            if scatter is not None:
                curve["scatter"] = {"breaks": scatter.count, "residual_sd": scatter.residual_sd,
                                    "log_mean": scatter.log_mean,
                                    "log_spread": scatter.log_spread}
            return curve
        return {
            "form": "hyperbolic",
            "ultimate": self.curve.ultimate,
            "rate": self.curve.rate,
            "offset": self.curve.offset,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "index": self.index,
            "curve": self.curve_dict(),
            "required_strength": self.required_strength,
            "targets": dict(self.targets),
            "datum_temperature": self.datum_c,
            "activation_energy": self.activation_energy,
            "reference_temperature": self.reference_c,
            "elements": list(self.elements),
            "ifc_class": self.ifc_class,
            "property": self.property,
            "value": self.value,
            "temperature_properties": list(self.temperature_properties),
            "max_gap_hours": self.max_gap_hours,
            "min_quality": self.min_quality,
            "confidence": self.confidence,
        }

    def row(self) -> PlanRow:
        return (MIX, self.name, orjson.dumps(self.to_dict()))

    @classmethod
    def from_body(cls, body: bytes) -> Mix:
        return mix_from_dict(orjson.loads(body))


def _number(
    body: dict[str, Any],
    name: str,
    default: float,
    *,
    low: float = -math.inf,
    high: float = math.inf,
) -> float:
    value = body.get(name)
    return default if value is None else validate.number(value, name, low=low, high=high)


def _strength(value: object, what: str) -> float:
    """A strength in MPa: 0 to ``MAX_STRENGTH``, a figure past it refused as another
    unit's."""
    strength = validate.number(value, what, low=0.0)
    if strength > MAX_STRENGTH:
        raise InvalidInput(
            f"{what} {strength:g}: strengths are in MPa and no concrete reaches "
            f"{MAX_STRENGTH:g} MPa (is it in psi? 1 MPa = 145 psi)", "bad_mix")
    return strength


def _curve(data: object) -> Curve:
    body = validate.mapping(data, "a curve")
    form = body.get("form")
    if form == "logarithmic" and "breaks" in body:
        breaks = body["breaks"]
        if not isinstance(breaks, list) or not 2 <= len(breaks) <= MAX_BREAKS:
            raise InvalidInput(
                f'breaks: a list of 2 to {MAX_BREAKS} {{"maturity", "strength"}}', "bad_mix"
            )
        pairs = [validate.mapping(b, "a break") for b in breaks]
        maturity = [validate.number(b.get("maturity"), "maturity", low=0.0) for b in pairs]
        strength = [_strength(b.get("strength"), "strength") for b in pairs]
        try:
            fitted = fit_logarithmic(maturity, strength)
        except ValueError as exc:
            raise InvalidInput(f"breaks: {exc}", "bad_mix") from None
        # checked as a curve given by its a and b is, so that the mix stored is read back
        return _logarithmic(fitted.a, fitted.b, fitted.scatter)
    if form == "logarithmic":
        return _logarithmic(validate.number(body.get("a"), "a"),
                            validate.number(body.get("b"), "b", low=0.0),
                            _scatter(body.get("scatter")))
    if form == "hyperbolic":
        ultimate = _strength(body.get("ultimate"), "ultimate")
        rate = validate.number(body.get("rate"), "rate", low=0.0)
        if ultimate == 0 or rate == 0:
            raise InvalidInput("ultimate and rate must be above 0", "bad_mix")
        return HyperbolicCurve(ultimate, rate, _number(body, "offset", 0.0, low=0.0))
    raise InvalidInput("a curve's form is 'logarithmic' or 'hyperbolic'", "bad_mix")


def _logarithmic(a: float, b: float, scatter: BreakScatter | None) -> LogarithmicCurve:
    """``S = a + b·log10(M)`` checked: strength grows (``b`` above 0), and ``a`` and ``b``
    are strengths in MPa (at a maturity of 1, and gained a decade), which a curve in psi
    has in thousands."""
    if b == 0:
        raise InvalidInput("b must be above 0: strength grows with maturity", "bad_mix")
    _strength(b, "b")
    _strength(abs(a), "a's size")
    return LogarithmicCurve(a, b, scatter)


def _scatter(data: object) -> BreakScatter | None:
    """How a logarithmic curve's breaks scatter about it: kept when it was fitted here (and
    read back from the stored mix), or given with the curve by a lab."""
    if data is None:
        return None
    body = validate.mapping(data, "a curve's scatter")
    count = validate.number(body.get("breaks"), "scatter breaks", low=3.0, high=MAX_BREAKS)
    if count != int(count):
        raise InvalidInput("scatter breaks: a whole number of 3 or more", "bad_mix")
    spread = validate.number(body.get("log_spread"), "scatter log_spread", low=0.0)
    if spread == 0:
        raise InvalidInput("scatter log_spread must be above 0: breaks at more than one "
                           "maturity", "bad_mix")
    # The residual sd is a strength, and the mean a log10 of a maturity (a float's):
    # past them the interval overflowed to a strength of infinity, answered as null.
    return BreakScatter(int(count), _strength(body.get("residual_sd"), "scatter residual_sd"),
                        validate.number(body.get("log_mean"), "scatter log_mean", low=-324.0,
                                        high=309.0), spread)


def _names(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 100:
        raise InvalidInput("temperature_properties: a list of property names", "bad_mix")
    return tuple(validate.property_name(name) for name in value)


def mix_from_dict(data: object) -> Mix:
    """A mix from a posted body or a stored row, checked (``InvalidInput``, reason
    ``bad_mix``, naming what is wrong)."""
    body = validate.mapping(data, "a mix")
    unknown = set(body) - FIELDS
    if unknown:
        raise InvalidInput(f"a mix has no field {sorted(unknown)[0]!r}", "bad_mix")
    name = validate.identifier(body.get("name"), "mix name")
    try:
        index = body.get("index", "temperature_time_factor")
        if index not in INDICES:
            raise InvalidInput(f"index is one of {', '.join(INDICES)}", "bad_mix")
        targets = validate.mapping(body.get("targets") or {}, "targets")
        elements = body.get("elements") or []
        if not isinstance(elements, list) or len(elements) > 100_000:
            raise InvalidInput("elements: a list of element ids or GlobalIds", "bad_mix")
        texts = {key: body.get(key) for key in ("ifc_class", "property", "value")}
        for key, value in texts.items():
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{key} must be text", "bad_mix")
        if (texts["property"] is None) != (texts["value"] is None):
            raise InvalidInput("property and value go together", "bad_mix")
        if not elements and texts["ifc_class"] is None and texts["property"] is None:
            raise InvalidInput(
                "a mix names its elements, a property's value or an IFC class", "bad_mix"
            )
        mix = Mix(
            name=name,
            curve=_curve(body.get("curve")),
            index=index,
            required_strength=_strength(body.get("required_strength"), "required_strength"),
            targets={
                validate.label(k, "target"): _strength(v, f"target {k}")
                for k, v in targets.items()
            },
            datum_c=_number(body, "datum_temperature", DATUM_TEMPERATURE_C, low=-50.0, high=20.0),
            activation_energy=_number(
                body, "activation_energy", ACTIVATION_ENERGY, low=1_000.0, high=200_000.0
            ),
            reference_c=_number(
                body, "reference_temperature", REFERENCE_TEMPERATURE_C, low=-20.0, high=60.0
            ),
            elements=tuple(validate.identifier(e, "element") for e in elements),
            ifc_class=texts["ifc_class"] or None,
            property=texts["property"],
            value=texts["value"],
            temperature_properties=_names(body.get("temperature_properties")),
            max_gap_hours=_number(body, "max_gap_hours", MAX_GAP_HOURS, low=0.01, high=720.0),
            min_quality=_number(body, "min_quality", MIN_QUALITY, low=0.0, high=1.0),
            confidence=validate.confidence(body.get("confidence", MIX_CONFIDENCE)),
        )
    except InvalidInput as exc:
        raise InvalidInput(f"mix {validate.shown(name)}: {exc}", "bad_mix") from None
    if mix.required_strength <= 0:
        raise InvalidInput(f"mix {name!r}: required_strength must be above 0", "bad_mix")
    return mix


def mix_of(mixes: dict[str, Mix], element: Element) -> Mix | None:
    """The mix an element is of: the most specific, then the first by name."""
    best: tuple[int, str] | None = None
    for name, mix in mixes.items():
        rank = mix.rank(element)
        if rank and (best is None or (-rank, name) < (-best[0], best[1])):
            best = (rank, name)
    return None if best is None else mixes[best[1]]
