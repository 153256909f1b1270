"""Property sets and quantities of an IFC element, as twinsync properties in the twin's units.

Every property definition of the element is read: property sets, quantity sets, and the
predefined sets IFC gives as entities of their own (``IfcDoorLiningProperties``,
``IfcWindowPanelProperties``, …). Sets on the element's type are inherited; the
occurrence's own sets win.

A property is named ``"<set>.<name>"`` (``"Pset_WallCommon.FireRating"``); a property inside a
complex property (or a quantity inside a complex quantity) adds the complex one's name,
``"<set>.<complex>.<name>"``. It comes from ``Source.BIM`` and is converted to the twin's unit
for its measure (``units.MEASURES``) from its own unit, or the project's when it has none.
Values the twin keeps, all JSON:

- a single value: the number, text or truth value;
- an enumerated value: the chosen value, or a list when several are chosen;
- a list value: the list;
- a bounded value: ``{"lower": …, "upper": …, "set_point": …}`` (null where not given);
- a table value: ``{"defining": [...], "defined": [...], "defining_unit": …,
  "defined_unit": …}``, the two columns in their own units (the property's unit is empty);
- a reference value: the name of what it refers to (a material, a document, a person);
- a value whose unit has no SI meaning (a context-dependent "bag", a currency):
  ``{"value": <one of the above>, "unit": "bag"}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import ifcopenshell
import ifcopenshell.util.element

from ..model import PropertyValue, Source
from .ifc import attribute_types, class_of, is_a
from .units import Conversion, ModelUnits

# Quantity class -> (attribute holding the value, the measure type of that attribute).
_QUANTITIES = {
    "IfcQuantityLength": ("LengthValue", "IfcLengthMeasure"),
    "IfcQuantityArea": ("AreaValue", "IfcAreaMeasure"),
    "IfcQuantityVolume": ("VolumeValue", "IfcVolumeMeasure"),
    "IfcQuantityWeight": ("WeightValue", "IfcMassMeasure"),
    "IfcQuantityTime": ("TimeValue", "IfcTimeMeasure"),
    "IfcQuantityCount": ("CountValue", "IfcCountMeasure"),
    "IfcQuantityNumber": ("NumberValue", "IfcNumericMeasure"),
}
# Attribute positions, the same in IFC2X3, IFC4 and IFC4X3. A read by name is a look-up in
# IfcOpenShell (about 2 us, a quarter of that by position); a property-rich model of 50,000
# elements has millions of these reads, so the common ones go by position.
_HAS_PROPERTIES = 4  # IfcPropertySet.HasProperties
_QUANTITY_LIST = 5  # IfcElementQuantity.Quantities
_NAME = 0  # IfcProperty.Name, IfcPhysicalQuantity.Name
_NOMINAL_VALUE, _SINGLE_UNIT = 2, 3  # IfcPropertySingleValue.NominalValue, .Unit
_QUANTITY_UNIT, _QUANTITY_VALUE = 2, 3  # IfcPhysicalSimpleQuantity.Unit, its value
_WRAPPED = 0  # a typed value's wrappedValue (IfcLengthMeasure(1.5) -> 1.5)
# The attributes every property set definition has; a predefined set's values follow them.
_DEFINITION_ATTRIBUTES = {"GlobalId", "OwnerHistory", "Name", "Description"}

Read = tuple[Any, str]  # a value as the twin keeps it, and its unit


class _Element:
    """The properties of one element, collected set by set."""

    def __init__(self, units: ModelUnits, time: float) -> None:
        self.units = units
        self.time = time
        self.properties: dict[str, PropertyValue] = {}
        self.raw: dict[str, dict[str, Any]] = {}

    def add(self, set_name: str, name: str, read: Read | None) -> None:
        if read is None:
            return
        value, unit = read
        self.raw.setdefault(set_name, {})[name] = value
        self.properties[f"{set_name}.{name}"] = PropertyValue(value, unit, self.time,
                                                              Source.BIM, 1.0)

    def property_set(self, set_name: str, properties: Iterable[ifcopenshell.entity_instance],
                     prefix: str = "") -> None:
        for prop in properties:
            name = prefix + str(prop[_NAME])
            if is_a(prop, "IfcComplexProperty"):
                self.property_set(set_name, prop.HasProperties or (), name + ".")
            else:
                self.add(set_name, name, property_value(prop, self.units))

    def quantity_set(self, set_name: str, quantities: Iterable[ifcopenshell.entity_instance],
                     prefix: str = "") -> None:
        for quantity in quantities:
            name = prefix + str(quantity[_NAME])
            if is_a(quantity, "IfcPhysicalComplexQuantity"):
                self.quantity_set(set_name, quantity.HasQuantities or (), name + ".")
            else:
                self.add(set_name, name, quantity_value(quantity, self.units))

    def predefined_set(self, set_name: str, definition: ifcopenshell.entity_instance) -> None:
        for index, (name, declared) in enumerate(attribute_types(definition)):
            if name in _DEFINITION_ATTRIBUTES:
                continue
            self.add(set_name, name, _attribute_value(definition[index], declared, self.units))


def element_properties(
    product: ifcopenshell.entity_instance, units: ModelUnits, time: float = 0.0,
) -> tuple[dict[str, PropertyValue], dict[str, dict[str, Any]]]:
    """The element's properties for the twin, and its property sets by name (set name ->
    property name -> value as the twin keeps it)."""
    element = _Element(units, time)
    for set_name, definition in _definitions(product):
        if is_a(definition, "IfcPropertySet"):
            element.property_set(set_name, definition[_HAS_PROPERTIES] or ())
        elif is_a(definition, "IfcElementQuantity"):
            element.quantity_set(set_name, definition[_QUANTITY_LIST] or ())
        else:
            # IfcPreDefinedPropertySet in IFC4 (door and window linings and panels,
            # permeable coverings, reinforcement); in IFC2X3 these derive from
            # IfcPropertySetDefinition directly, as do its energy, sound and fluid sets.
            element.predefined_set(set_name, definition)
    return element.properties, element.raw


def _definitions(product: ifcopenshell.entity_instance
                 ) -> list[tuple[str, ifcopenshell.entity_instance]]:
    """Property definitions of the type first, then the occurrence's, so these override;
    each with the name its properties go under."""
    element_type = ifcopenshell.util.element.get_type(product)
    of_type = [d for d in (getattr(element_type, "HasPropertySets", None) or ())
               if is_a(d, "IfcPropertySetDefinition")]
    own: list[ifcopenshell.entity_instance] = []
    for rel in getattr(product, "IsDefinedBy", None) or ():
        if not is_a(rel, "IfcRelDefinesByProperties"):
            continue
        definition = rel.RelatingPropertyDefinition
        # IFC4 allows a set of definitions in one relationship.
        own += list(definition) if isinstance(definition, tuple) else [definition]
    return _named(of_type) + _named(own)


def _named(definitions: Sequence[ifcopenshell.entity_instance]
           ) -> list[tuple[str, ifcopenshell.entity_instance]]:
    """Each definition with a name for its set. A predefined set often has no name, and a
    window has one panel set per panel: these are named by class and, if need be, position."""
    named: list[tuple[str, ifcopenshell.entity_instance]] = []
    seen: set[str] = set()
    for definition in definitions:
        name = str(definition.Name or class_of(definition))
        if name in seen:
            position = getattr(definition, "PanelPosition", None)
            name = f"{name} {position}" if position and f"{name} {position}" not in seen \
                else f"{name} {len(named) + 1}"
        seen.add(name)
        named.append((name, definition))
    return named


def property_value(prop: ifcopenshell.entity_instance, units: ModelUnits) -> Read | None:
    """One simple property (not a complex one) as the twin keeps it; None if it holds
    nothing."""
    if class_of(prop) == "IfcPropertySingleValue":  # most of them: no subtype look-up
        nominal = prop[_NOMINAL_VALUE]
        if nominal is None:
            return None
        values, conversion = _measures([nominal], prop[_SINGLE_UNIT], units)
        return _labelled(values[0], conversion)
    if is_a(prop, "IfcPropertyEnumeratedValue"):
        reference = prop.EnumerationReference
        own = reference.Unit if reference is not None else None
        values, conversion = _measures(prop.EnumerationValues or (), own, units)
        if not values:
            return None
        return _labelled(values[0] if len(values) == 1 else values, conversion)
    if is_a(prop, "IfcPropertyListValue"):
        values, conversion = _measures(prop.ListValues or (), prop.Unit, units)
        return _labelled(values, conversion)
    if is_a(prop, "IfcPropertyBoundedValue"):
        bounds = (prop.LowerBoundValue, prop.UpperBoundValue,
                  getattr(prop, "SetPointValue", None))  # no set point in IFC2X3
        if all(bound is None for bound in bounds):
            return None
        values, conversion = _measures(bounds, prop.Unit, units)
        return _labelled(dict(zip(("lower", "upper", "set_point"), values, strict=True)),
                         conversion)
    if is_a(prop, "IfcPropertyTableValue"):
        return _table(prop, units), ""
    if is_a(prop, "IfcPropertyReferenceValue"):
        return _reference(prop.PropertyReference), ""
    return None


def quantity_value(quantity: ifcopenshell.entity_instance, units: ModelUnits) -> Read | None:
    """One simple quantity in the twin's unit for it; None if it holds no value."""
    spec = _QUANTITIES.get(class_of(quantity))
    if spec is None:
        return None
    _, measure = spec  # the value is at _QUANTITY_VALUE whatever its name
    value = quantity[_QUANTITY_VALUE]
    if value is None:
        return None
    conversion = units.conversion(measure, quantity[_QUANTITY_UNIT])
    return _labelled(_convert(value, conversion), conversion)


def _measures(values: Iterable[ifcopenshell.entity_instance | None],
              own: ifcopenshell.entity_instance | None,
              units: ModelUnits) -> tuple[list[Any], Conversion]:
    """Typed IFC values (``IfcLengthMeasure(1.5)``) converted; the conversion of the first
    one with a unit stands for all (IFC wants one measure type in one property)."""
    converted: list[Any] = []
    first: Conversion | None = None
    for value in values:
        if value is None:
            converted.append(None)
            continue
        conversion = units.conversion(class_of(value), own)
        converted.append(_convert(value[_WRAPPED], conversion))
        if first is None or (not first.unit and not first.label):
            first = conversion
    return converted, first or Conversion()


def _convert(value: Any, conversion: Conversion) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        # Text, truth values, and IfcCompoundPlaneAngleMeasure's degrees-minutes-seconds.
        return list(value) if isinstance(value, tuple) else value
    if conversion.scale == 1.0 and conversion.shift == 0.0:
        return value  # a count stays an integer
    return conversion.apply(float(value))


def _labelled(value: Any, conversion: Conversion) -> Read:
    if conversion.label:
        return {"value": value, "unit": conversion.label}, ""
    return value, conversion.unit


def _table(prop: ifcopenshell.entity_instance, units: ModelUnits) -> dict[str, Any]:
    defining, defining_unit = _measures(prop.DefiningValues or (), prop.DefiningUnit, units)
    defined, defined_unit = _measures(prop.DefinedValues or (), prop.DefinedUnit, units)
    return {"defining": defining, "defined": defined,
            "defining_unit": defining_unit.unit or defining_unit.label,
            "defined_unit": defined_unit.unit or defined_unit.label}


def _reference(target: ifcopenshell.entity_instance | None) -> str | None:
    if target is None:
        return None
    for attribute in ("Name", "Identification", "Location", "FamilyName", "Description"):
        value = getattr(target, attribute, None)
        if isinstance(value, str) and value:
            return value
    return class_of(target)


def _attribute_value(value: Any, declared: str, units: ModelUnits) -> Read | None:
    """An attribute of a predefined property set: numbers by their declared measure type,
    text and enumerations as they are; references to other entities (a shape aspect) are
    geometry's business and left out."""
    if value is None or isinstance(value, ifcopenshell.entity_instance):
        return None
    if isinstance(value, tuple):
        if any(isinstance(item, ifcopenshell.entity_instance) for item in value):
            return None
        conversion = units.conversion(declared)
        return _labelled([_convert(item, conversion) for item in value], conversion)
    conversion = units.conversion(declared)
    return _labelled(_convert(value, conversion), conversion)
