"""The generated building: valid IFC in every schema, stable ids, revisions that differ."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.validate
import pytest

from twinsync.bench.bim import _PER_BUILDING, _PER_STOREY
from twinsync.bim import SCHEMAS, GeneratedModel, generate_building


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_generated_file_is_valid_against_its_schema(
    models: dict[str, GeneratedModel], schema: str
) -> None:
    model = ifcopenshell.open(str(models[schema].path))
    log = ifcopenshell.validate.json_logger()
    ifcopenshell.validate.validate(model, log)
    assert log.statements == []


def test_each_schema_holds_the_same_elements_under_the_same_global_ids(
    models: dict[str, GeneratedModel],
) -> None:
    ifc4 = models["IFC4"]
    # IFC2X3 also has sensor types, as it has no IfcSensor occurrence.
    for schema in SCHEMAS:
        assert {k: v for k, v in models[schema].ids.items()
                if not k.startswith("sensor-type")} == ifc4.ids
    assert models["IFC2X3"].by_class["IfcDistributionControlElement"] == ifc4.by_class["IfcSensor"]


def test_the_building_has_slabs_columns_walls_doors_windows_stairs_a_roof_and_sensors(
    models: dict[str, GeneratedModel],
) -> None:
    counts = {cls: len(ids) for cls, ids in models["IFC4"].by_class.items()}
    # Two storeys of 2 x 2 bays, the core in the north-west bay. Each storey: a slab and a
    # stair landing, 9 columns, 8 external walls, one partition (the other is the core's
    # wall), 5 core walls, 2 rooms, a stair of two flights. Windows in the 6 façade bays
    # that do not close the core, but the ground floor's entrance; a door in each
    # partition and 3 in the core. On top: the roof slab, 4 parapets, the head house's 4
    # walls, its door and its roof slab.
    assert counts == {"IfcSite": 1, "IfcBuilding": 1, "IfcBuildingStorey": 2,
                      "IfcSlab": 2 + 2 + 2, "IfcColumn": 18, "IfcWall": 2 * 14 + 4 + 4,
                      "IfcWindow": 5 + 6, "IfcDoor": 2 * 4 + 1 + 1, "IfcStair": 2,
                      "IfcStairFlight": 4, "IfcRoof": 1, "IfcSpace": 4, "IfcSensor": 14}


def test_doors_and_windows_fill_openings_that_void_their_wall(
    models: dict[str, GeneratedModel],
) -> None:
    model = ifcopenshell.open(str(models["IFC4"].path))
    fillings = model.by_type("IfcDoor") + model.by_type("IfcWindow")
    for filling in fillings:
        opening = filling.FillsVoids[0].RelatingOpeningElement
        assert opening.VoidsElements[0].RelatingBuildingElement.is_a("IfcWall")
        assert filling.ContainedInStructure  # the storey holds it, not only the wall
    # The stair wells and lift shafts go through the upper floor and the roof.
    voided = {rel.RelatingBuildingElement.GlobalId for rel in model.by_type("IfcRelVoidsElement")}
    ids = models["IFC4"].ids
    assert {ids["slab-L01"], ids["roof-slab"]} <= voided and ids["slab-L00"] not in voided
    assert len(model.by_type("IfcOpeningElement")) == len(fillings) + 4


def test_each_stair_rises_one_storey_in_two_flights(models: dict[str, GeneratedModel]) -> None:
    model = ifcopenshell.open(str(models["IFC4"].path))
    for stair in model.by_type("IfcStair"):
        parts = [p for rel in stair.IsDecomposedBy for p in rel.RelatedObjects]
        assert sorted(p.is_a() for p in parts) == ["IfcSlab", "IfcStairFlight", "IfcStairFlight"]
        flights = [ifcopenshell.util.element.get_pset(p, "Pset_StairFlightCommon")
                   for p in parts if p.is_a("IfcStairFlight")]
        assert sum(f["NumberOfRiser"] * f["RiserHeight"] for f in flights) == pytest.approx(3.5)


def test_regenerating_gives_the_same_global_ids(tmp_path: Path,
                                               models: dict[str, GeneratedModel]) -> None:
    again = generate_building(tmp_path / "again.ifc", storeys=2, bays_x=2, bays_y=2)
    assert again.ids == models["IFC4"].ids
    assert again.sensors == models["IFC4"].sensors


def test_a_revision_renames_drops_and_adds_elements(revisions: list[GeneratedModel]) -> None:
    before, after = (set(r.ids.values()) for r in revisions)
    added, removed = after - before, before - after
    assert {cls for cls, ids in revisions[1].by_class.items() if set(ids) & added} == {
        "IfcBeam", "IfcSensor"}
    # A dropped partition takes its door with it.
    assert {cls for cls, ids in revisions[0].by_class.items() if set(ids) & removed} == {
        "IfcWall", "IfcDoor"}


def test_a_storey_of_eight_by_six_bays_holds_what_the_benchmark_counts_on(
    tmp_path: Path,
) -> None:
    model = generate_building(tmp_path / "one.ifc", storeys=1, bays_x=8, bays_y=6)
    assert model.element_count == _PER_STOREY + _PER_BUILDING
    two = generate_building(tmp_path / "two.ifc", storeys=2, bays_x=8, bays_y=6)
    assert two.element_count == 2 * _PER_STOREY + _PER_BUILDING


def test_a_building_without_storeys_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_building(tmp_path / "none.ifc", storeys=0)
