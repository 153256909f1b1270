"""Property sets and quantities of an IFC element, as twinsync properties with SI units.

A property is named ``"<set>.<name>"`` (``"Pset_WallCommon.FireRating"``,
``"Qto_WallBaseQuantities.GrossVolume"``), comes from ``Source.BIM`` and carries the unit
the model gives it, converted to metres, m² and m³ when the project works in other units
(millimetres, say). Sets on the element's type are inherited; the occurrence's own sets win.
"""

from __future__ import annotations

from typing import Any

import ifcopenshell
import ifcopenshell.util.element

from ..model import PropertyValue, Source
from .ifc import class_of, is_a

# IFC measure types whose values scale with the project's units, and the SI unit they
# become. Other measures keep their value and get no unit rather than a wrong one.
_MEASURE_UNITS = {
    "IfcLengthMeasure": ("length", "m"),
    "IfcPositiveLengthMeasure": ("length", "m"),
    "IfcNonNegativeLengthMeasure": ("length", "m"),
    "IfcAreaMeasure": ("area", "m²"),
    "IfcVolumeMeasure": ("volume", "m³"),
    "IfcMassMeasure": ("mass", "kg"),
}
# Attribute positions, the same in IFC2X3, IFC4 and IFC4X3. Reading by position skips
# IfcOpenShell's look-up by name (about 2 us a read, a quarter of that by position): a
# property-rich model of 50,000 elements has millions of these reads.
_HAS_PROPERTIES = 4  # IfcPropertySet.HasProperties
_QUANTITIES = 5  # IfcElementQuantity.Quantities
_NAME = 0  # IfcProperty.Name, IfcPhysicalQuantity.Name
_NOMINAL_VALUE = 2  # IfcPropertySingleValue.NominalValue
_QUANTITY_VALUE = 3  # IfcQuantityLength.LengthValue, IfcQuantityArea.AreaValue, ...
_WRAPPED_VALUE = 0  # the value of a measure, IfcLabel, ...: its wrappedValue
_QUANTITY_UNITS = {
    "IfcQuantityLength": ("LengthValue", "length", "m"),
    "IfcQuantityArea": ("AreaValue", "area", "m²"),
    "IfcQuantityVolume": ("VolumeValue", "volume", "m³"),
    "IfcQuantityWeight": ("WeightValue", "mass", "kg"),
    "IfcQuantityCount": ("CountValue", None, ""),
    "IfcQuantityTime": ("TimeValue", None, "s"),
}


def element_properties(
    product: ifcopenshell.entity_instance, scales: dict[str, float], time: float = 0.0,
) -> tuple[dict[str, PropertyValue], dict[str, dict[str, Any]]]:
    """The element's properties for the twin, and its raw property sets by name."""
    properties: dict[str, PropertyValue] = {}
    raw: dict[str, dict[str, Any]] = {}
    for definition in _definitions(product):
        set_name = definition.Name or ""
        values = raw.setdefault(set_name, {})
        if is_a(definition, "IfcPropertySet"):
            for prop in definition[_HAS_PROPERTIES] or ():
                read = _property_value(prop, scales)
                if read is not None:
                    name = prop[_NAME]
                    values[name] = read[0]
                    properties[f"{set_name}.{name}"] = PropertyValue(
                        read[0], read[1], time, Source.BIM, 1.0)
        elif is_a(definition, "IfcElementQuantity"):
            for quantity in definition[_QUANTITIES] or ():
                read = _quantity_value(quantity, scales)
                if read is not None:
                    name = quantity[_NAME]
                    values[name] = read[0]
                    properties[f"{set_name}.{name}"] = PropertyValue(
                        read[0], read[1], time, Source.BIM, 1.0)
    return properties, raw


def _definitions(product: ifcopenshell.entity_instance) -> list[ifcopenshell.entity_instance]:
    """Property definitions of the type first, then the occurrence's, so these override."""
    found: list[ifcopenshell.entity_instance] = []
    element_type = ifcopenshell.util.element.get_type(product)
    if element_type is not None:
        found += [d for d in (getattr(element_type, "HasPropertySets", None) or ())
                  if is_a(d, "IfcPropertySetDefinition")]
    for rel in getattr(product, "IsDefinedBy", None) or ():
        if not is_a(rel, "IfcRelDefinesByProperties"):
            continue
        definition = rel.RelatingPropertyDefinition
        # IFC4 allows a set of definitions in one relationship.
        found += list(definition) if isinstance(definition, tuple) else [definition]
    return found


def _property_value(prop: ifcopenshell.entity_instance,
                    scales: dict[str, float]) -> tuple[Any, str] | None:
    if is_a(prop, "IfcPropertySingleValue"):
        nominal = prop[_NOMINAL_VALUE]
        if nominal is None:
            return None
        return _measure(nominal, scales)
    if is_a(prop, "IfcPropertyEnumeratedValue"):
        values = [v.wrappedValue for v in prop.EnumerationValues or ()]
        return (values[0] if len(values) == 1 else values), ""
    if is_a(prop, "IfcPropertyListValue"):
        return [v.wrappedValue for v in prop.ListValues or ()], ""
    return None  # bounded, table, reference and complex properties are not carried


def _measure(nominal: ifcopenshell.entity_instance, scales: dict[str, float]) -> tuple[Any, str]:
    value = nominal[_WRAPPED_VALUE]
    measure = _MEASURE_UNITS.get(class_of(nominal))
    if measure is None or not isinstance(value, int | float) or isinstance(value, bool):
        return value, ""
    dimension, unit = measure
    return float(value) * scales[dimension], unit


def _quantity_value(quantity: ifcopenshell.entity_instance,
                    scales: dict[str, float]) -> tuple[Any, str] | None:
    spec = _QUANTITY_UNITS.get(class_of(quantity))
    if spec is None:
        return None  # complex quantities are not carried
    _, dimension, unit = spec  # the value is at _QUANTITY_VALUE whatever its name
    value = quantity[_QUANTITY_VALUE]
    if value is None:
        return None
    if dimension is None:
        return value, unit
    return float(value) * scales[dimension], unit
