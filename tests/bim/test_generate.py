"""The generated building: valid IFC in every schema, stable ids, revisions that differ."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.validate
import pytest

from twinsync.bench.bim import _PER_STOREY
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


def test_the_building_has_slabs_columns_walls_spaces_and_sensors(
    models: dict[str, GeneratedModel],
) -> None:
    counts = {cls: len(ids) for cls, ids in models["IFC4"].by_class.items()}
    # Two storeys of 2 x 2 bays: 9 columns, 8 external walls and 2 partitions, 2 rooms each.
    assert counts == {"IfcSite": 1, "IfcBuilding": 1, "IfcBuildingStorey": 2, "IfcSlab": 2,
                      "IfcColumn": 18, "IfcWall": 20, "IfcSpace": 4, "IfcSensor": 14}


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
    assert {cls for cls, ids in revisions[0].by_class.items() if set(ids) & removed} == {
        "IfcWall"}


def test_a_storey_of_eight_by_six_bays_holds_what_the_benchmark_counts_on(
    tmp_path: Path,
) -> None:
    model = generate_building(tmp_path / "one.ifc", storeys=1, bays_x=8, bays_y=6)
    assert model.element_count == _PER_STOREY + 2  # plus site and building


def test_a_building_without_storeys_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_building(tmp_path / "none.ifc", storeys=0)
