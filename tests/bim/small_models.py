"""A project with one element, made with ``ifcopenshell.api`` as an authoring tool makes it,
to hang units and properties on and read back with ``read_model``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.api.owner
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.type
import ifcopenshell.api.unit

from twinsync.bim import read_model
from twinsync.model import Element

Entity = ifcopenshell.entity_instance
# Measures IFC defines over integers.
INTEGER_MEASURES = {"IfcIntegerCountRateMeasure"}


class SmallModel:
    """One element (a wall) in a project with no units until ``assign`` gives it some."""

    def __init__(self, schema: str = "IFC4", ifc_class: str = "IfcWall") -> None:
        self.file = ifcopenshell.api.project.create_file(version=schema)
        if schema == "IFC2X3":
            # IFC2X3 requires an owner history on every rooted entity.
            person = ifcopenshell.api.owner.add_person(self.file)
            organisation = ifcopenshell.api.owner.add_organisation(self.file)
            ifcopenshell.api.owner.add_person_and_organisation(
                self.file, person=person, organisation=organisation)
            ifcopenshell.api.owner.add_application(self.file)
        self.project = ifcopenshell.api.root.create_entity(self.file, ifc_class="IfcProject",
                                                           name="units")
        self.element = ifcopenshell.api.root.create_entity(self.file, ifc_class=ifc_class,
                                                           name="element")

    def assign(self, *units: Entity) -> None:
        ifcopenshell.api.unit.assign_unit(self.file, units=list(units))

    def si(self, unit_type: str, prefix: str | None = None, name: str | None = None) -> Entity:
        unit = ifcopenshell.api.unit.add_si_unit(self.file, unit_type=unit_type, prefix=prefix)
        if name is not None:
            unit.Name = name
        return unit

    def converted(self, name: str) -> Entity:
        return ifcopenshell.api.unit.add_conversion_based_unit(self.file, name=name)

    def derived(self, unit_type: str, *elements: tuple[Entity, int]) -> Entity:
        return self.file.createIfcDerivedUnit(
            [self.file.createIfcDerivedUnitElement(unit, exponent) for unit, exponent in elements],
            unit_type)

    def value(self, measure: str, value: Any) -> Entity:
        if isinstance(value, float) and value.is_integer() and measure in INTEGER_MEASURES:
            value = int(value)
        return self.file.create_entity(measure, value)

    def single(self, name: str, measure: str, value: Any, unit: Entity | None = None
               ) -> Entity:
        return self.file.createIfcPropertySingleValue(name, None, self.value(measure, value),
                                                      unit)

    def property_set(self, name: str, *properties: Entity, on: Entity | None = None
                     ) -> Entity:
        pset = ifcopenshell.api.pset.add_pset(self.file, product=on or self.element, name=name)
        pset.HasProperties = list(properties)
        return pset

    def quantities(self, name: str, *quantities: Entity) -> Entity:
        qto = ifcopenshell.api.pset.add_qto(self.file, product=self.element, name=name)
        qto.Quantities = list(quantities)
        return qto

    def element_type(self, ifc_class: str = "IfcWallType") -> Entity:
        element_type = ifcopenshell.api.root.create_entity(self.file, ifc_class=ifc_class,
                                                           name="type")
        ifcopenshell.api.type.assign_type(self.file, related_objects=[self.element],
                                          relating_type=element_type)
        return element_type

    def read(self, folder: Path) -> Element:
        """The element as the twin reads it back from the written file."""
        path = folder / "small.ifc"
        self.file.write(str(path))
        return read_model(path).elements[self.element.GlobalId]
