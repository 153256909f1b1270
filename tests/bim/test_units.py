"""Every measure reaches the twin in its unit: from the property's own unit when it names
one, else from the project's, whatever kind of unit the model uses."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from twinsync.bim.units import MEASURES
from twinsync.model import Twin
from twinsync.units import canonical

from .small_models import Entity, SmallModel

# In no unit at all, IFC means the SI unit: the twin keeps SI but for angles and temperatures.
DEFAULT_SI_READS = {"deg": math.degrees(2.0), "degC": 2.0 - 273.15}


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_every_measure_in_a_project_without_units_is_read_as_si(
    measure: str, tmp_path: Path
) -> None:
    model = SmallModel()
    model.property_set("Units", model.single("Value", measure, 2.0))
    read = model.read(tmp_path).properties["Units.Value"]
    target = MEASURES[measure][1]
    assert read.unit == target == canonical(target)
    assert read.value == pytest.approx(DEFAULT_SI_READS.get(target, 2.0))


# name -> (the project's units and the property, value read, unit read)
Case = Callable[[SmallModel], Entity]


def _kilogram_project(m: SmallModel) -> Entity:
    m.assign(m.si("MASSUNIT", "KILO"))
    return m.single("Value", "IfcMassMeasure", 1200.0)


def _gram_project(m: SmallModel) -> Entity:
    m.assign(m.si("MASSUNIT"))
    return m.single("Value", "IfcMassMeasure", 1200.0)


def _tonne_property_in_kilogram_project(m: SmallModel) -> Entity:
    m.assign(m.si("MASSUNIT", "KILO"))
    return m.single("Value", "IfcMassMeasure", 2.5, m.converted("tonne"))


def _millimetre_project(m: SmallModel) -> Entity:
    m.assign(m.si("LENGTHUNIT", "MILLI"))
    return m.single("Value", "IfcLengthMeasure", 1500.0)


def _own_metres_in_millimetre_project(m: SmallModel) -> Entity:
    m.assign(m.si("LENGTHUNIT", "MILLI"))
    return m.single("Value", "IfcLengthMeasure", 1.5, m.si("LENGTHUNIT"))


def _square_millimetres(m: SmallModel) -> Entity:
    m.assign(m.si("AREAUNIT", "MILLI"))  # a prefix goes before the power: mm², not m²/1000
    return m.single("Value", "IfcAreaMeasure", 2_000_000.0)


def _cubic_centimetres(m: SmallModel) -> Entity:
    m.assign(m.si("VOLUMEUNIT", "CENTI"))
    return m.single("Value", "IfcVolumeMeasure", 1_000_000.0)


def _feet(m: SmallModel) -> Entity:
    m.assign(m.converted("foot"))
    return m.single("Value", "IfcLengthMeasure", 10.0)


def _inches_own(m: SmallModel) -> Entity:
    m.assign(m.converted("foot"))
    return m.single("Value", "IfcPositiveLengthMeasure", 12.0, m.converted("inch"))


def _square_feet(m: SmallModel) -> Entity:
    m.assign(m.converted("square foot"))
    return m.single("Value", "IfcAreaMeasure", 100.0)


def _pounds(m: SmallModel) -> Entity:
    # IfcOpenShell writes 0.454 kg to a pound: pint's exact pound is taken.
    m.assign(m.converted("pound"))
    return m.single("Value", "IfcMassMeasure", 1000.0)


def _custom_module(m: SmallModel) -> Entity:
    # A unit pint does not know is read by the factor the model gives it.
    module = m.file.createIfcConversionBasedUnit(
        m.file.createIfcDimensionalExponents(1, 0, 0, 0, 0, 0, 0), "LENGTHUNIT", "module",
        m.file.createIfcMeasureWithUnit(m.value("IfcLengthMeasure", 0.6), m.si("LENGTHUNIT")))
    m.assign(module)
    return m.single("Value", "IfcLengthMeasure", 5.0)


def _degree_angle(m: SmallModel) -> Entity:
    m.assign(m.converted("degree"))
    return m.single("Value", "IfcPlaneAngleMeasure", 90.0)


def _radian_angle(m: SmallModel) -> Entity:
    m.assign(m.si("PLANEANGLEUNIT"))
    return m.single("Value", "IfcPositivePlaneAngleMeasure", math.pi / 2)


def _celsius_project(m: SmallModel) -> Entity:
    m.assign(m.si("THERMODYNAMICTEMPERATUREUNIT", name="DEGREE_CELSIUS"))
    return m.single("Value", "IfcThermodynamicTemperatureMeasure", 20.0)


def _kelvin_project(m: SmallModel) -> Entity:
    m.assign(m.si("THERMODYNAMICTEMPERATUREUNIT"))
    return m.single("Value", "IfcThermodynamicTemperatureMeasure", 293.15)


def _fahrenheit_as_ifcopenshell_writes_it(m: SmallModel) -> Entity:
    m.assign(m.converted("fahrenheit"))  # factor 1.8, offset -459.67
    return m.single("Value", "IfcThermodynamicTemperatureMeasure", 212.0)


def _fahrenheit_as_ifc4x3_writes_it(m: SmallModel) -> Entity:
    fahrenheit = m.file.createIfcConversionBasedUnitWithOffset(
        m.file.createIfcDimensionalExponents(0, 0, 0, 0, 1, 0, 0),
        "THERMODYNAMICTEMPERATUREUNIT", "Fahrenheit",
        m.file.createIfcMeasureWithUnit(m.value("IfcThermodynamicTemperatureMeasure", 1 / 1.8),
                                        m.si("THERMODYNAMICTEMPERATUREUNIT")), -459.67)
    m.assign(m.si("THERMODYNAMICTEMPERATUREUNIT", name="DEGREE_CELSIUS"))
    return m.single("Value", "IfcThermodynamicTemperatureMeasure", 32.0, fahrenheit)


def _unnamed_offset_unit(m: SmallModel) -> Entity:
    # IFC 4.3's rule for a scale the name does not give away: k = (v - offset) * factor.
    scale = m.file.createIfcConversionBasedUnitWithOffset(
        m.file.createIfcDimensionalExponents(0, 0, 0, 0, 1, 0, 0),
        "THERMODYNAMICTEMPERATUREUNIT", "site scale",
        m.file.createIfcMeasureWithUnit(m.value("IfcThermodynamicTemperatureMeasure", 0.5),
                                        m.si("THERMODYNAMICTEMPERATUREUNIT")), -100.0)
    m.assign(scale)
    return m.single("Value", "IfcThermodynamicTemperatureMeasure", 446.3)


def _thermal_transmittance(m: SmallModel) -> Entity:
    m.assign(m.derived("THERMALTRANSMITTANCEUNIT", (m.si("POWERUNIT"), 1),
                       (m.si("AREAUNIT"), -1), (m.si("THERMODYNAMICTEMPERATUREUNIT"), -1)))
    return m.single("Value", "IfcThermalTransmittanceMeasure", 0.28)


def _thermal_transmittance_per_celsius(m: SmallModel) -> Entity:
    # A degree Celsius in a derived unit is a difference: the same size as a kelvin.
    celsius = m.si("THERMODYNAMICTEMPERATUREUNIT", name="DEGREE_CELSIUS")
    m.assign(m.derived("THERMALTRANSMITTANCEUNIT", (m.si("POWERUNIT", "MILLI"), 1),
                       (m.si("AREAUNIT"), -1), (celsius, -1)))
    return m.single("Value", "IfcThermalTransmittanceMeasure", 280.0)


def _kilopascal(m: SmallModel) -> Entity:
    m.assign(m.si("PRESSUREUNIT", "KILO"))
    return m.single("Value", "IfcPressureMeasure", 101.325)


def _kilonewton(m: SmallModel) -> Entity:
    m.assign(m.si("FORCEUNIT", "KILO"))
    return m.single("Value", "IfcForceMeasure", 12.0)


def _kilowatt(m: SmallModel) -> Entity:
    m.assign(m.si("POWERUNIT", "KILO"))
    return m.single("Value", "IfcPowerMeasure", 3.5)


def _kilowatt_hour(m: SmallModel) -> Entity:
    m.assign(m.derived("USERDEFINED", (m.si("POWERUNIT", "KILO"), 1), (m.converted("hour"), 1)))
    return m.single("Value", "IfcEnergyMeasure", 2.0, m.file.by_type("IfcDerivedUnit")[0])


def _gram_per_cubic_centimetre(m: SmallModel) -> Entity:
    m.assign(m.derived("MASSDENSITYUNIT", (m.si("MASSUNIT"), 1),
                       (m.si("LENGTHUNIT", "CENTI"), -3)))
    return m.single("Value", "IfcMassDensityMeasure", 2.4)


def _litres_per_second(m: SmallModel) -> Entity:
    m.assign(m.derived("VOLUMETRICFLOWRATEUNIT", (m.converted("litre"), 1),
                       (m.si("TIMEUNIT"), -1)))
    return m.single("Value", "IfcVolumetricFlowRateMeasure", 12.0)


def _milliampere(m: SmallModel) -> Entity:
    m.assign(m.si("ELECTRICCURRENTUNIT", "MILLI"))
    return m.single("Value", "IfcElectricCurrentMeasure", 20.0)


def _kilovolt(m: SmallModel) -> Entity:
    m.assign(m.si("ELECTRICVOLTAGEUNIT", "KILO"))
    return m.single("Value", "IfcElectricVoltageMeasure", 11.0)


def _lux_and_lumen(m: SmallModel) -> Entity:
    m.assign(m.si("ILLUMINANCEUNIT"))
    return m.single("Value", "IfcIlluminanceMeasure", 500.0)


def _kilometres_per_hour(m: SmallModel) -> Entity:
    m.assign(m.derived("LINEARVELOCITYUNIT", (m.si("LENGTHUNIT", "KILO"), 1),
                       (m.converted("hour"), -1)))
    return m.single("Value", "IfcLinearVelocityMeasure", 36.0)


def _millimetres_to_the_fourth(m: SmallModel) -> Entity:
    m.assign(m.derived("MOMENTOFINERTIAUNIT", (m.si("LENGTHUNIT", "MILLI"), 4)))
    return m.single("Value", "IfcMomentOfInertiaMeasure", 1e8)


def _newtons_per_square_millimetre(m: SmallModel) -> Entity:
    m.assign(m.derived("MODULUSOFELASTICITYUNIT", (m.si("FORCEUNIT"), 1),
                       (m.si("LENGTHUNIT", "MILLI"), -2)))
    return m.single("Value", "IfcModulusOfElasticityMeasure", 210_000.0)


def _kilonewtons_per_metre(m: SmallModel) -> Entity:
    m.assign(m.derived("LINEARFORCEUNIT", (m.si("FORCEUNIT", "KILO"), 1),
                       (m.si("LENGTHUNIT"), -1)))
    return m.single("Value", "IfcLinearForceMeasure", 5.0)


def _kilonewtons_per_square_metre(m: SmallModel) -> Entity:
    m.assign(m.derived("PLANARFORCEUNIT", (m.si("FORCEUNIT", "KILO"), 1),
                       (m.si("AREAUNIT"), -1)))
    return m.single("Value", "IfcPlanarForceMeasure", 1.5)


def _minutes(m: SmallModel) -> Entity:
    m.assign(m.converted("minute"))
    return m.single("Value", "IfcTimeMeasure", 90.0)


def _real_number_with_its_own_unit(m: SmallModel) -> Entity:
    # Exporters often write a measure as a plain IfcReal and name its unit beside it.
    return m.single("Value", "IfcReal", 101.325, m.si("PRESSUREUNIT", "KILO"))


def _length_given_in_kilograms(m: SmallModel) -> Entity:
    # The wrong dimension for the measure: kept as given rather than turned into metres.
    return m.single("Value", "IfcLengthMeasure", 3.0, m.si("MASSUNIT", "KILO"))


CASES: dict[str, tuple[Case, float, str]] = {
    "kilogram project": (_kilogram_project, 1200.0, "kg"),
    "gram project": (_gram_project, 1.2, "kg"),
    "tonnes on the property": (_tonne_property_in_kilogram_project, 2500.0, "kg"),
    "millimetre project": (_millimetre_project, 1.5, "m"),
    "own metres in a millimetre project": (_own_metres_in_millimetre_project, 1.5, "m"),
    "square millimetres": (_square_millimetres, 2.0, "m²"),
    "cubic centimetres": (_cubic_centimetres, 1.0, "m³"),
    "feet": (_feet, 3.048, "m"),
    "own inches in a foot project": (_inches_own, 0.3048, "m"),
    "square feet": (_square_feet, 9.290304, "m²"),
    "pounds": (_pounds, 453.59237, "kg"),
    "a unit of the model's own": (_custom_module, 3.0, "m"),
    "degrees": (_degree_angle, 90.0, "deg"),
    "radians": (_radian_angle, 90.0, "deg"),
    "degrees Celsius": (_celsius_project, 20.0, "degC"),
    "kelvin": (_kelvin_project, 20.0, "degC"),
    "Fahrenheit as IfcOpenShell writes it": (_fahrenheit_as_ifcopenshell_writes_it, 100.0,
                                             "degC"),
    "Fahrenheit as IFC 4.3 writes it": (_fahrenheit_as_ifc4x3_writes_it, 0.0, "degC"),
    "an unnamed scale with an offset": (_unnamed_offset_unit, 273.15 - 273.15, "degC"),
    "W/(m²·K)": (_thermal_transmittance, 0.28, "W/(m²·K)"),
    "mW/(m²·°C)": (_thermal_transmittance_per_celsius, 0.28, "W/(m²·K)"),
    "kPa": (_kilopascal, 101_325.0, "Pa"),
    "kN": (_kilonewton, 12_000.0, "N"),
    "kW": (_kilowatt, 3500.0, "W"),
    "kWh on the property": (_kilowatt_hour, 7.2e6, "J"),
    "g/cm³": (_gram_per_cubic_centimetre, 2400.0, "kg/m³"),
    "l/s": (_litres_per_second, 0.012, "m³/s"),
    "mA": (_milliampere, 0.02, "A"),
    "kV": (_kilovolt, 11_000.0, "V"),
    "lx": (_lux_and_lumen, 500.0, "lx"),
    "km/h": (_kilometres_per_hour, 10.0, "m/s"),
    "mm⁴": (_millimetres_to_the_fourth, 1e-4, "m⁴"),
    "N/mm²": (_newtons_per_square_millimetre, 2.1e11, "Pa"),
    "kN/m": (_kilonewtons_per_metre, 5000.0, "N/m"),
    "kN/m²": (_kilonewtons_per_square_metre, 1500.0, "N/m²"),
    "minutes": (_minutes, 5400.0, "s"),
    "a plain number in kPa": (_real_number_with_its_own_unit, 101_325.0, "Pa"),
    "a length in kilograms": (_length_given_in_kilograms, 3.0, "kilogram"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_value_is_converted_by_its_own_unit_or_the_projects(
    case: str, tmp_path: Path
) -> None:
    make, expected, unit = CASES[case]
    model = SmallModel()
    model.property_set("Units", make(model))
    read = model.read(tmp_path).properties["Units.Value"]
    assert (read.value, read.unit) == (pytest.approx(expected, rel=1e-9, abs=1e-9), unit)


def test_quantities_take_their_own_unit_before_the_projects(tmp_path: Path) -> None:
    model = SmallModel()
    model.assign(model.si("LENGTHUNIT", "MILLI"), model.si("MASSUNIT", "KILO"))
    f = model.file
    model.quantities("Qto_WallBaseQuantities",
                     f.createIfcQuantityLength("Length", None, None, 6000.0),
                     f.createIfcQuantityLength("Height", None, model.si("LENGTHUNIT"), 3.25),
                     f.createIfcQuantityWeight("GrossWeight", None, None, 1200.0),
                     f.createIfcQuantityCount("Count", None, None, 3))
    properties = model.read(tmp_path).properties
    assert properties["Qto_WallBaseQuantities.Length"].value == pytest.approx(6.0)
    assert properties["Qto_WallBaseQuantities.Height"].value == pytest.approx(3.25)
    assert (properties["Qto_WallBaseQuantities.GrossWeight"].value,
            properties["Qto_WallBaseQuantities.GrossWeight"].unit) == (1200.0, "kg")
    count = properties["Qto_WallBaseQuantities.Count"]
    assert (count.value, count.unit) == (3, "")


def test_a_context_dependent_unit_and_a_currency_are_kept_as_labels(tmp_path: Path) -> None:
    model = SmallModel()
    bags = model.file.createIfcContextDependentUnit(
        model.file.createIfcDimensionalExponents(0, 0, 0, 0, 0, 0, 0), "USERDEFINED", "bag")
    model.assign(model.file.createIfcMonetaryUnit("EUR"))
    model.property_set("Units", model.single("Cement", "IfcCountMeasure", 12, bags),
                       model.single("Cost", "IfcMonetaryMeasure", 450.0))
    properties = model.read(tmp_path).properties
    assert (properties["Units.Cement"].value, properties["Units.Cement"].unit) == (
        {"value": 12, "unit": "bag"}, "")
    assert properties["Units.Cost"].value == {"value": 450.0, "unit": "EUR"}


def test_every_value_read_is_one_the_twin_accepts(tmp_path: Path) -> None:
    model = SmallModel()
    model.assign(model.si("LENGTHUNIT", "MILLI"), model.converted("degree"),
                 model.si("THERMODYNAMICTEMPERATUREUNIT", name="DEGREE_CELSIUS"))
    model.property_set("Units", *(model.single(measure.removeprefix("Ifc"), measure, 2.0)
                                  for measure in sorted(MEASURES)))
    wall = model.read(tmp_path)
    Twin().add_element(wall)  # checks every value and unit; raises on one it would refuse
    assert len(wall.properties) == len(MEASURES)
