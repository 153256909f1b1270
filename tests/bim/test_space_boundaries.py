"""Which spaces neighbour which, from a model's space boundaries: the rooms beside each other
in a generated building, and what a model from another tool may write."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.api.root
import ifcopenshell.guid
import pytest

from twinsync.bim import SCHEMAS, GeneratedModel, generate_building, read_model
from twinsync.bim.importer import ADJACENT_SPACES
from twinsync.bim.space_boundaries import adjacent_spaces
from twinsync.model import Source


@pytest.fixture(scope="module")
def offices(tmp_path_factory: pytest.TempPathFactory) -> GeneratedModel:
    """Two storeys of six offices: two across, three deep, a core beside the middle row."""
    return generate_building(tmp_path_factory.mktemp("offices") / "offices.ifc",
                             storeys=2, bays_x=4, bays_y=3)


def _names(model: ifcopenshell.file) -> dict[str, str]:
    return {space.GlobalId: space.Name for space in model.by_type("IfcSpace")}


def test_each_office_neighbours_the_offices_across_its_partitions_on_its_own_storey(
        offices: GeneratedModel) -> None:
    model = ifcopenshell.open(str(offices.path))
    names = _names(model)
    found = {names[space]: sorted(names[other] for other in others)
             for space, others in adjacent_spaces(model).items()}
    assert found["Room L00.00"] == ["Room L00.01", "Room L00.10"]
    assert found["Room L00.11"] == ["Room L00.01", "Room L00.10", "Room L00.21"]
    assert found["Room L01.20"] == ["Room L01.10", "Room L01.21"]
    assert len(found) == 12
    # neighbours are mutual, and the slab between storeys joins no pair
    assert all(space in found[other] for space, others in found.items() for other in others)
    assert all(space[6:9] == other[6:9] for space, others in found.items() for other in others)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_importing_a_model_keeps_each_space_s_neighbours_as_a_bim_property(
        tmp_path: Path, schema: str) -> None:
    generated = generate_building(tmp_path / "b.ifc", schema=schema, storeys=1, bays_x=4,
                                  bays_y=2)
    contents = read_model(generated.path)
    spaces = {e.name: e for e in contents.elements.values() if e.type == "IfcSpace"}
    kept = spaces["Room L00.00"].properties[ADJACENT_SPACES]
    assert kept.source == Source.BIM
    assert sorted(contents.elements[other].name for other in kept.value) == [
        "Room L00.01", "Room L00.10"]


def _space(f: ifcopenshell.file, name: str) -> ifcopenshell.entity_instance:
    return f.create_entity("IfcSpace", GlobalId=ifcopenshell.guid.new(), Name=name)


def _bound(f: ifcopenshell.file, space: ifcopenshell.entity_instance,
           element: ifcopenshell.entity_instance | None, side: str = "INTERNAL",
           level: str = "IfcRelSpaceBoundary") -> ifcopenshell.entity_instance:
    return f.create_entity(level, GlobalId=ifcopenshell.guid.new(), RelatingSpace=space,
                           RelatedBuildingElement=element,
                           PhysicalOrVirtualBoundary="PHYSICAL",
                           InternalOrExternalBoundary=side)


def test_only_a_wall_between_two_spaces_makes_them_neighbours() -> None:
    f = ifcopenshell.file(schema="IFC4")
    a, b, c, d = (_space(f, name) for name in "abcd")
    partition, corridor, facade = (
        ifcopenshell.api.root.create_entity(f, ifc_class="IfcWall", name=name)
        for name in ("partition", "corridor", "facade"))
    slab = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSlab", name="slab")
    _bound(f, a, partition)
    _bound(f, b, partition)
    for space in (b, c, d):  # a long wall with three rooms along it: which side is which?
        _bound(f, space, corridor)
    _bound(f, c, facade, "EXTERNAL")
    _bound(f, d, facade, "EXTERNAL")
    _bound(f, a, slab)
    _bound(f, c, slab)
    names = _names(f)
    found = {names[s]: [names[o] for o in others] for s, others in adjacent_spaces(f).items()}
    assert found == {"a": ["b"], "b": ["a"]}


def test_a_second_level_boundary_pairs_the_space_on_the_other_side_exactly() -> None:
    f = ifcopenshell.file(schema="IFC4")
    a, b, c = (_space(f, name) for name in "abc")
    wall = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWall", name="long wall")
    level = "IfcRelSpaceBoundary2ndLevel"
    facing_a, facing_b = _bound(f, a, wall, level=level), _bound(f, b, wall, level=level)
    facing_a.CorrespondingBoundary = facing_b
    _bound(f, c, wall, level=level)  # the same wall, further along: no boundary faces it
    names = _names(f)
    found = {names[s]: [names[o] for o in others] for s, others in adjacent_spaces(f).items()}
    assert found == {"a": ["b"], "b": ["a"]}


def test_half_written_boundaries_are_passed_over_not_fatal() -> None:
    f = ifcopenshell.file(schema="IFC2X3")
    a, b = _space(f, "a"), _space(f, "b")
    _bound(f, a, None)  # IFC2X3 allows a boundary with no element
    _bound(f, b, None)
    f.create_entity("IfcRelSpaceBoundary", GlobalId=ifcopenshell.guid.new(),
                    PhysicalOrVirtualBoundary="VIRTUAL", InternalOrExternalBoundary="INTERNAL")
    assert adjacent_spaces(f) == {}
