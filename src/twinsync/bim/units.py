"""Units of one IFC model: what a number in a property or quantity means, in the twin's units.

IFC gives a value's unit in one of two places: on the property or quantity itself
(``IfcPropertySingleValue.Unit``, ``IfcQuantityLength.Unit``, …) or, when that is empty, in
the project's ``IfcUnitAssignment`` for the value's measure type (an ``IfcLengthMeasure``
takes the project's ``LENGTHUNIT``). A unit is

- an ``IfcSIUnit``, with a prefix that belongs to the unit before any power (``MILLI``
  ``SQUARE_METRE`` is a square millimetre, 1e-6 m²);
- an ``IfcConversionBasedUnit``: a factor times another unit (a foot is 0.3048 m, a degree
  π/180 rad), ``…WithOffset`` for scales with another zero (Fahrenheit);
- an ``IfcDerivedUnit``: a product of units with exponents (W/(m²·K));
- an ``IfcContextDependentUnit`` (a bag, a roll) or an ``IfcMonetaryUnit``: no SI meaning.

Each unit becomes a pint expression once per model, and ``twinsync.units.converter`` turns it
into the twin's unit for the measure (``MEASURES``): SI, with two exceptions chosen for the
people reading the values on site. Plane angles are in degrees, because that is how drawings,
authoring tools and people give rotations and slopes (a door opening of 1.5708 rad is
unreadable). Temperatures are in °C, because the twin's temperature sensors read °C and a
design temperature is compared with them; temperatures *inside* derived units (W/(m²·K),
J/(kg·K)) stay kelvin, where a degree Celsius is the same size.

A unit with no SI meaning is kept as a label beside the value (``Conversion.label``). A
value whose unit has the wrong dimension for its measure (a length given in kg) is kept in
its own unit rather than converted into a wrong one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ifcopenshell

from ..errors import UnitError
from ..units import canonical, converter
from .ifc import class_of, is_a

# Measure type -> (the unit type the project assigns for it, the unit the twin keeps it in).
MEASURES: dict[str, tuple[str, str]] = {
    # IfcUnitEnum: the named units.
    "IfcLengthMeasure": ("LENGTHUNIT", "m"),
    "IfcPositiveLengthMeasure": ("LENGTHUNIT", "m"),
    "IfcNonNegativeLengthMeasure": ("LENGTHUNIT", "m"),
    "IfcAreaMeasure": ("AREAUNIT", "m²"),
    "IfcVolumeMeasure": ("VOLUMEUNIT", "m³"),
    "IfcMassMeasure": ("MASSUNIT", "kg"),
    "IfcTimeMeasure": ("TIMEUNIT", "s"),
    "IfcPlaneAngleMeasure": ("PLANEANGLEUNIT", "deg"),
    "IfcPositivePlaneAngleMeasure": ("PLANEANGLEUNIT", "deg"),
    "IfcSolidAngleMeasure": ("SOLIDANGLEUNIT", "sr"),
    "IfcThermodynamicTemperatureMeasure": ("THERMODYNAMICTEMPERATUREUNIT", "degC"),
    "IfcAmountOfSubstanceMeasure": ("AMOUNTOFSUBSTANCEUNIT", "mol"),
    "IfcElectricCurrentMeasure": ("ELECTRICCURRENTUNIT", "A"),
    "IfcElectricVoltageMeasure": ("ELECTRICVOLTAGEUNIT", "V"),
    "IfcElectricResistanceMeasure": ("ELECTRICRESISTANCEUNIT", "ohm"),
    # "F" and "C" read as Fahrenheit and Celsius in twinsync.units: spelt out.
    "IfcElectricCapacitanceMeasure": ("ELECTRICCAPACITANCEUNIT", "farad"),
    "IfcElectricChargeMeasure": ("ELECTRICCHARGEUNIT", "coulomb"),
    "IfcElectricConductanceMeasure": ("ELECTRICCONDUCTANCEUNIT", "S"),
    "IfcInductanceMeasure": ("INDUCTANCEUNIT", "H"),
    "IfcMagneticFluxMeasure": ("MAGNETICFLUXUNIT", "Wb"),
    "IfcMagneticFluxDensityMeasure": ("MAGNETICFLUXDENSITYUNIT", "T"),
    "IfcEnergyMeasure": ("ENERGYUNIT", "J"),
    "IfcForceMeasure": ("FORCEUNIT", "N"),
    "IfcFrequencyMeasure": ("FREQUENCYUNIT", "Hz"),
    "IfcPowerMeasure": ("POWERUNIT", "W"),
    "IfcPressureMeasure": ("PRESSUREUNIT", "Pa"),
    "IfcIlluminanceMeasure": ("ILLUMINANCEUNIT", "lx"),
    "IfcLuminousFluxMeasure": ("LUMINOUSFLUXUNIT", "lm"),
    "IfcLuminousIntensityMeasure": ("LUMINOUSINTENSITYUNIT", "cd"),
    "IfcRadioActivityMeasure": ("RADIOACTIVITYUNIT", "Bq"),
    "IfcAbsorbedDoseMeasure": ("ABSORBEDDOSEUNIT", "Gy"),
    "IfcDoseEquivalentMeasure": ("DOSEEQUIVALENTUNIT", "Sv"),
    # IfcDerivedUnitEnum.
    "IfcAccelerationMeasure": ("ACCELERATIONUNIT", "m/s²"),
    "IfcAngularVelocityMeasure": ("ANGULARVELOCITYUNIT", "rad/s"),
    "IfcAreaDensityMeasure": ("AREADENSITYUNIT", "kg/m²"),
    "IfcCurvatureMeasure": ("CURVATUREUNIT", "1/m"),
    "IfcDynamicViscosityMeasure": ("DYNAMICVISCOSITYUNIT", "Pa·s"),
    "IfcHeatFluxDensityMeasure": ("HEATFLUXDENSITYUNIT", "W/m²"),
    "IfcHeatingValueMeasure": ("HEATINGVALUEUNIT", "J/kg"),
    "IfcIntegerCountRateMeasure": ("INTEGERCOUNTRATEUNIT", "1/s"),
    "IfcIonConcentrationMeasure": ("IONCONCENTRATIONUNIT", "kg/m³"),
    "IfcIsothermalMoistureCapacityMeasure": ("ISOTHERMALMOISTURECAPACITYUNIT", "m³/kg"),
    "IfcKinematicViscosityMeasure": ("KINEMATICVISCOSITYUNIT", "m²/s"),
    "IfcLinearForceMeasure": ("LINEARFORCEUNIT", "N/m"),
    "IfcLinearMomentMeasure": ("LINEARMOMENTUNIT", "N·m/m"),
    "IfcLinearStiffnessMeasure": ("LINEARSTIFFNESSUNIT", "N/m"),
    "IfcLinearVelocityMeasure": ("LINEARVELOCITYUNIT", "m/s"),
    "IfcLuminousIntensityDistributionMeasure": ("LUMINOUSINTENSITYDISTRIBUTIONUNIT", "cd/lm"),
    "IfcMassDensityMeasure": ("MASSDENSITYUNIT", "kg/m³"),
    "IfcMassFlowRateMeasure": ("MASSFLOWRATEUNIT", "kg/s"),
    "IfcMassPerLengthMeasure": ("MASSPERLENGTHUNIT", "kg/m"),
    "IfcModulusOfElasticityMeasure": ("MODULUSOFELASTICITYUNIT", "Pa"),
    "IfcModulusOfLinearSubgradeReactionMeasure": ("MODULUSOFLINEARSUBGRADEREACTIONUNIT",
                                                  "N/m²"),
    "IfcModulusOfRotationalSubgradeReactionMeasure": (
        "MODULUSOFROTATIONALSUBGRADEREACTIONUNIT", "N·m/rad/m"),
    "IfcModulusOfSubgradeReactionMeasure": ("MODULUSOFSUBGRADEREACTIONUNIT", "N/m³"),
    "IfcMoistureDiffusivityMeasure": ("MOISTUREDIFFUSIVITYUNIT", "m³/s"),
    "IfcMolecularWeightMeasure": ("MOLECULARWEIGHTUNIT", "kg/mol"),
    "IfcMomentOfInertiaMeasure": ("MOMENTOFINERTIAUNIT", "m⁴"),
    "IfcPlanarForceMeasure": ("PLANARFORCEUNIT", "N/m²"),
    "IfcRotationalFrequencyMeasure": ("ROTATIONALFREQUENCYUNIT", "Hz"),
    "IfcRotationalMassMeasure": ("ROTATIONALMASSUNIT", "kg·m²"),
    "IfcRotationalStiffnessMeasure": ("ROTATIONALSTIFFNESSUNIT", "N·m/rad"),
    "IfcSectionModulusMeasure": ("SECTIONMODULUSUNIT", "m³"),
    "IfcSectionalAreaIntegralMeasure": ("SECTIONAREAINTEGRALUNIT", "m⁵"),
    "IfcShearModulusMeasure": ("SHEARMODULUSUNIT", "Pa"),
    "IfcSoundPowerMeasure": ("SOUNDPOWERUNIT", "W"),
    "IfcSoundPressureMeasure": ("SOUNDPRESSUREUNIT", "Pa"),
    "IfcSpecificHeatCapacityMeasure": ("SPECIFICHEATCAPACITYUNIT", "J/(kg·K)"),
    "IfcTemperatureGradientMeasure": ("TEMPERATUREGRADIENTUNIT", "K/m"),
    "IfcTemperatureRateOfChangeMeasure": ("TEMPERATURERATEOFCHANGEUNIT", "K/s"),
    "IfcThermalAdmittanceMeasure": ("THERMALADMITTANCEUNIT", "W/(m²·K)"),
    # IFC names the unit of conductivity "conductance".
    "IfcThermalConductivityMeasure": ("THERMALCONDUCTANCEUNIT", "W/(m·K)"),
    "IfcThermalExpansionCoefficientMeasure": ("THERMALEXPANSIONCOEFFICIENTUNIT", "1/K"),
    "IfcThermalResistanceMeasure": ("THERMALRESISTANCEUNIT", "m²·K/W"),
    "IfcThermalTransmittanceMeasure": ("THERMALTRANSMITTANCEUNIT", "W/(m²·K)"),
    "IfcTorqueMeasure": ("TORQUEUNIT", "N·m"),
    "IfcVaporPermeabilityMeasure": ("VAPORPERMEABILITYUNIT", "kg/(s·m·Pa)"),
    "IfcVolumetricFlowRateMeasure": ("VOLUMETRICFLOWRATEUNIT", "m³/s"),
    "IfcWarpingConstantMeasure": ("WARPINGCONSTANTUNIT", "m⁶"),
    "IfcWarpingMomentMeasure": ("WARPINGMOMENTUNIT", "N·m²"),
}
# The unit type -> the twin's unit for it (the same for every measure of one unit type).
_TARGETS = {unit_type: target for unit_type, target in MEASURES.values()}
# Levels in decibels are logarithmic: a prefix or a factor means nothing to them.
LEVELS = {"IfcSoundPowerLevelMeasure": "dB", "IfcSoundPressureLevelMeasure": "dB"}
# Money is in the project's currency, a label: nothing converts one currency to another.
MONETARY = "IfcMonetaryMeasure"

_PREFIXES = {
    "EXA": "exa", "PETA": "peta", "TERA": "tera", "GIGA": "giga", "MEGA": "mega",
    "KILO": "kilo", "HECTO": "hecto", "DECA": "deca", "DECI": "deci", "CENTI": "centi",
    "MILLI": "milli", "MICRO": "micro", "NANO": "nano", "PICO": "pico", "FEMTO": "femto",
    "ATTO": "atto",
}
# IfcSIUnitName -> (pint unit, power the prefixed unit is raised to).
_SI_NAMES = {
    "METRE": ("meter", 1), "SQUARE_METRE": ("meter", 2), "CUBIC_METRE": ("meter", 3),
    "GRAM": ("gram", 1), "SECOND": ("second", 1), "AMPERE": ("ampere", 1),
    "KELVIN": ("kelvin", 1), "MOLE": ("mole", 1), "CANDELA": ("candela", 1),
    "RADIAN": ("radian", 1), "STERADIAN": ("steradian", 1), "HERTZ": ("hertz", 1),
    "NEWTON": ("newton", 1), "PASCAL": ("pascal", 1), "JOULE": ("joule", 1),
    "WATT": ("watt", 1), "COULOMB": ("coulomb", 1), "VOLT": ("volt", 1),
    "FARAD": ("farad", 1), "OHM": ("ohm", 1), "SIEMENS": ("siemens", 1),
    "WEBER": ("weber", 1), "TESLA": ("tesla", 1), "HENRY": ("henry", 1),
    "DEGREE_CELSIUS": ("degree_Celsius", 1), "LUMEN": ("lumen", 1), "LUX": ("lux", 1),
    "BECQUEREL": ("becquerel", 1), "GRAY": ("gray", 1), "SIEVERT": ("sievert", 1),
}
# Temperature scales whose zero is not absolute zero, and the same-sized difference unit
# pint uses for them inside a derived unit.
_SCALES = {"degree_Celsius": "delta_degC", "degree_Fahrenheit": "delta_degF"}
# Names exporters give conversion-based units, as pint spells them where it differs.
_CONVERSION_NAMES = {
    "ton uk": "long_ton", "ton us": "short_ton", "tonne": "metric_ton",
    "fluid ounce uk": "imperial_fluid_ounce", "fluid ounce us": "US_fluid_ounce",
    "pint uk": "imperial_pint", "pint us": "US_liquid_pint",
    "gallon uk": "imperial_gallon", "gallon us": "US_liquid_gallon",
    "lbf": "force_pound", "btu": "Btu", "litre": "liter",
}
# A factor in the file within this of pint's own for the unit it names is that unit,
# rounded by the exporter (0.454 kg for a pound): pint's exact value is taken.
_AGREES = 0.01


@dataclass(frozen=True, slots=True)
class Conversion:
    """How a value of one measure reaches the twin: ``value * scale + shift`` in ``unit``.

    ``label`` is a unit with no SI meaning (a context-dependent unit, a currency), kept
    beside the value unconverted; ``unit`` is then empty.
    """

    unit: str = ""
    scale: float = 1.0
    shift: float = 0.0
    label: str = ""

    def apply(self, value: float) -> float:
        return value * self.scale + self.shift


NONE = Conversion()


@dataclass(frozen=True, slots=True)
class _Expression:
    """A model's unit as pint reads it: a value ``v`` is ``v * scale + shift`` of ``pint``."""

    pint: str
    scale: float = 1.0
    shift: float = 0.0


class ModelUnits:
    """The units of one model, resolved once each."""

    def __init__(self, model: ifcopenshell.file) -> None:
        self._assigned: dict[str, ifcopenshell.entity_instance] = {}
        for unit in _assignment(model):
            if is_a(unit, "IfcMonetaryUnit"):
                self._assigned.setdefault("MONETARYUNIT", unit)
            elif getattr(unit, "UnitType", None) not in (None, "USERDEFINED"):
                # The first wins, as IfcOpenShell's own lookup does.
                self._assigned.setdefault(str(unit.UnitType), unit)
        self._cache: dict[tuple[int | str, str], Conversion] = {}

    def conversion(self, measure: str, own: ifcopenshell.entity_instance | None = None
                   ) -> Conversion:
        """How a value of IFC type ``measure`` (``"IfcLengthMeasure"``) reaches the twin,
        given in the unit ``own`` if the property names one, else in the project's."""
        if measure in LEVELS:
            return Conversion(LEVELS[measure])
        if measure == MONETARY:
            unit = own if own is not None else self._assigned.get("MONETARYUNIT")
            return Conversion(label=_label(unit)) if unit is not None else NONE
        spec = MEASURES.get(measure)
        if spec is None:
            if own is None:
                return NONE  # a count, a ratio, a label: no unit
            # A plain number (IfcReal) with a unit, as many exporters write a measure: the
            # unit's own type says what it measures.
            return self._of(own, _TARGETS.get(str(getattr(own, "UnitType", "")), ""))
        unit_type, target = spec
        return self._of(own if own is not None else self._assigned.get(unit_type), target,
                        unit_type)

    def _of(self, unit: ifcopenshell.entity_instance | None, target: str,
            unit_type: str = "") -> Conversion:
        key = (unit.id() if unit is not None else unit_type, target)
        found = self._cache.get(key)
        if found is None:
            if unit is None:
                # No unit in the model: IFC's default is the SI unit, without a prefix.
                expression: _Expression | str | None = _DEFAULT_SI.get(
                    unit_type, _Expression(target))
            else:
                expression = _expression(unit)
            found = self._cache[key] = _conversion(expression, target)
        return found


# The SI units of the unit types whose SI unit is not the twin's own (which is SI otherwise).
_DEFAULT_SI = {"MASSUNIT": _Expression("kilogram"),
               "THERMODYNAMICTEMPERATUREUNIT": _Expression("kelvin"),
               "PLANEANGLEUNIT": _Expression("radian")}


def _assignment(model: ifcopenshell.file) -> list[ifcopenshell.entity_instance]:
    for project in model.by_type("IfcProject"):
        if project.UnitsInContext is not None:
            return list(project.UnitsInContext.Units or ())
    assignments = model.by_type("IfcUnitAssignment")
    return list(assignments[0].Units or ()) if assignments else []


def _conversion(expression: _Expression | str | None, target: str) -> Conversion:
    if isinstance(expression, str):
        return Conversion(label=expression)
    if expression is None:
        return NONE
    if not target:
        return _own_unit(expression)
    try:
        convert = converter(expression.pint, target)
    except UnitError:
        # Not the dimension the measure needs (a length in kg): kept as it was given.
        return _own_unit(expression)
    return Conversion(target, expression.scale * convert.scale,
                      expression.shift * convert.scale + convert.shift)


def _own_unit(expression: _Expression) -> Conversion:
    try:
        return Conversion(canonical(expression.pint), expression.scale, expression.shift)
    except UnitError:
        return NONE


def _expression(unit: ifcopenshell.entity_instance) -> _Expression | str | None:
    """The unit as pint reads it; a label for one with no SI meaning; None if unreadable."""
    if is_a(unit, "IfcSIUnit"):
        return _si(unit)
    if is_a(unit, "IfcConversionBasedUnit"):
        return _converted(unit)
    if is_a(unit, "IfcDerivedUnit"):
        return _derived(unit)
    if is_a(unit, "IfcContextDependentUnit") or is_a(unit, "IfcMonetaryUnit"):
        return _label(unit)
    return None


def _label(unit: ifcopenshell.entity_instance) -> str:
    if is_a(unit, "IfcMonetaryUnit"):
        return str(unit.Currency)
    return str(getattr(unit, "Name", None) or class_of(unit))


def _si(unit: ifcopenshell.entity_instance) -> _Expression | None:
    named = _SI_NAMES.get(str(unit.Name))
    if named is None:
        return None
    name, power = named
    if name == "degree_Celsius":
        return _Expression(name)  # a prefixed degree Celsius is not a thing
    prefixed = _PREFIXES.get(str(unit.Prefix), "") + name
    return _Expression(prefixed if power == 1 else f"{prefixed}**{power}")


def _converted(unit: ifcopenshell.entity_instance) -> _Expression | None:
    factor = unit.ConversionFactor
    if factor is None or factor.UnitComponent is None:
        return None
    base = _expression(factor.UnitComponent)
    value = factor.ValueComponent.wrappedValue if factor.ValueComponent is not None else None
    if not isinstance(base, _Expression) or not isinstance(value, int | float):
        return None
    name = str(unit.Name or "").strip()
    offset = getattr(unit, "ConversionOffset", None)
    if unit.UnitType == "THERMODYNAMICTEMPERATUREUNIT":
        scale = _temperature_scale(name)
        if scale is not None:
            # IFC4 and IFC4.3 give Fahrenheit's factor as 1.8 and as 1/1.8: the name is surer.
            return _Expression(scale)
    size = float(value) * base.scale
    if offset:
        # IFC4.3: f = k / factor + offset, so k = (f - offset) * factor.
        return _Expression(base.pint, size, -float(offset) * size + base.shift)
    known = _pint_name(name)
    if known is not None:
        try:
            exact = converter(known, base.pint).scale
        except UnitError:
            exact = math.nan
        if math.isclose(exact, size, rel_tol=_AGREES):
            return _Expression(known)
    return _Expression(base.pint, size, base.shift)


def _temperature_scale(name: str) -> str | None:
    lowered = name.lower()
    for word, scale in (("fahrenheit", "degree_Fahrenheit"), ("celsius", "degree_Celsius"),
                        ("rankine", "degree_Rankine")):
        if word in lowered:
            return scale
    return {"°f": "degree_Fahrenheit", "°c": "degree_Celsius"}.get(lowered)


def _pint_name(name: str) -> str | None:
    """The pint spelling of a conversion-based unit's name (``"square foot"`` → foot**2)."""
    lowered = " ".join(name.lower().replace("_", " ").split())
    power = 1
    for word, exponent in (("square ", 2), ("cubic ", 3)):
        if lowered.startswith(word):
            lowered, power = lowered[len(word):], exponent
    lowered = _CONVERSION_NAMES.get(lowered, lowered)
    if not lowered:
        return None
    try:
        known = canonical(lowered)
    except UnitError:
        return None
    return known if power == 1 else f"({known})**{power}"


def _derived(unit: ifcopenshell.entity_instance) -> _Expression | None:
    parts: list[str] = []
    scale = 1.0
    for element in unit.Elements or ():
        part = _expression(element.Unit)
        if not isinstance(part, _Expression):
            return None
        # A degree inside W/(m²·°C) is a temperature difference: it has no zero to shift.
        parts.append(_power(_SCALES.get(part.pint, part.pint), int(element.Exponent)))
        scale *= part.scale ** int(element.Exponent)
    return _Expression("*".join(parts), scale) if parts else None


def _power(expression: str, exponent: int) -> str:
    """``expression`` to ``exponent``, spelt short: twinsync.units refuses a unit longer than
    100 characters, and a derived unit of five prefixed parts comes close."""
    base = expression if expression.isidentifier() else f"({expression})"
    return base if exponent == 1 else f"{base}**{exponent}"
