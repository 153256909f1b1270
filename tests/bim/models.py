"""IFC files the re-import tests need beside the generated building: the wrong file a
person uploads by mistake, a small model of another project."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell.api.aggregate
import ifcopenshell.api.project
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.unit


def unrelated_model(path: Path) -> Path:
    """An IFC4 file of another project holding four elements: a site, a building, a
    storey and one wall, none of whose GlobalIds any generated building shares."""
    f = ifcopenshell.api.project.create_file(version="IFC4")
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="Unrelated")
    ifcopenshell.api.unit.assign_unit(f)

    def entity(ifc_class: str, name: str) -> ifcopenshell.entity_instance:
        return ifcopenshell.api.root.create_entity(f, ifc_class=ifc_class, name=name)

    site, building = entity("IfcSite", "Site"), entity("IfcBuilding", "Shed")
    storey, wall = entity("IfcBuildingStorey", "Ground"), entity("IfcWall", "Wall")
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(f, products=[building], relating_object=site)
    ifcopenshell.api.aggregate.assign_object(f, products=[storey], relating_object=building)
    ifcopenshell.api.spatial.assign_container(f, products=[wall], relating_structure=storey)
    f.write(str(path))
    return path
