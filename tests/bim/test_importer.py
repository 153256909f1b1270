"""Reading IFC files: every element with its place, properties and sensors, or a clear error."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from twinsync.bim import SCHEMAS, GeneratedModel, generate_building, read_model
from twinsync.bim.importer import open_ifc
from twinsync.errors import ModelImportError
from twinsync.model import Source


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_generated_element_is_read_with_its_class(
    models: dict[str, GeneratedModel], schema: str
) -> None:
    generated = models[schema]
    contents = read_model(generated.path)
    assert contents.schema.startswith(schema)
    assert contents.counts() == {cls: len(ids) for cls, ids in generated.by_class.items()}
    assert all(element.id == element.global_id for element in contents.elements.values())


@pytest.mark.parametrize("schema", SCHEMAS)
def test_each_element_hangs_from_its_spatial_container(
    models: dict[str, GeneratedModel], schema: str
) -> None:
    contents = read_model(models[schema].path)
    elements = contents.elements
    type_of_parent = {
        element.type: elements[element.parent].type if element.parent else None
        for element in elements.values() if element.type not in ("IfcSensor",)
        and not element.type.startswith("IfcDistribution")
    }
    assert type_of_parent == {
        "IfcSite": None, "IfcBuilding": "IfcSite", "IfcBuildingStorey": "IfcBuilding",
        "IfcSpace": "IfcBuildingStorey", "IfcSlab": "IfcBuildingStorey",
        "IfcColumn": "IfcBuildingStorey", "IfcWall": "IfcBuildingStorey",
        "IfcDoor": "IfcBuildingStorey", "IfcWindow": "IfcBuildingStorey",
        "IfcRoof": "IfcBuildingStorey", "IfcStair": "IfcBuildingStorey",
        # A flight is part of its stair, and hangs from the stair's storey.
        "IfcStairFlight": "IfcBuildingStorey",
    }
    ids = models[schema].ids
    # A room sensor is contained in its room; one aggregated by a column is on the storey.
    assert elements[ids["sensor-L00-R00-T"]].parent == ids["space-L00-00"]
    assert elements[ids["sensor-L00-COL-S2"]].parent == ids["storey-L00"]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_property_sets_and_quantities_become_bim_properties(
    models: dict[str, GeneratedModel], schema: str
) -> None:
    contents = read_model(models[schema].path)
    wall = contents.elements[models[schema].ids["wall-L00-P000"]]
    assert wall.properties["Pset_WallCommon.FireRating"].value == "EI60"
    assert wall.properties["Pset_WallCommon.IsExternal"].value is True
    length = wall.properties["Qto_WallBaseQuantities.Length"]
    assert (length.value, length.unit, length.source) == (6.0, "m", Source.BIM)
    volume = wall.properties["Qto_WallBaseQuantities.GrossVolume"]
    assert volume.value == pytest.approx(6.0 * 3.25 * 0.2)
    assert volume.unit == "m³"


def test_quantities_of_a_model_in_millimetres_are_read_in_metres(tmp_path: Path) -> None:
    generated = generate_building(tmp_path / "mm.ifc", storeys=1, bays_x=1, bays_y=1,
                                  length_unit="mm", sensors=False)
    slab = read_model(generated.path).elements[generated.ids["slab-L00"]]
    assert slab.properties["Qto_SlabBaseQuantities.Width"].value == pytest.approx(6.0)
    assert slab.properties["Qto_SlabBaseQuantities.Depth"].value == pytest.approx(0.25)
    assert slab.properties["Qto_SlabBaseQuantities.GrossArea"].value == pytest.approx(36.0)


def test_storeys_carry_their_elevation_in_metres(tmp_path: Path) -> None:
    model = generate_building(tmp_path / "mm.ifc", storeys=3, length_unit="mm")
    storeys = [e for e in read_model(model.path).elements.values()
               if e.type == "IfcBuildingStorey"]
    elevations = sorted((e.properties["Elevation"].value, e.properties["Elevation"].unit)
                        for e in storeys)
    assert elevations == [(0.0, "m"), (3.5, "m"), (7.0, "m")]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_sensors_are_read_and_bound_to_the_host_the_model_names(
    models: dict[str, GeneratedModel], schema: str
) -> None:
    generated = models[schema]
    contents = read_model(generated.path)
    sensors = {sensor.id: sensor for sensor in contents.sensors}
    assert set(sensors) == set(generated.sensors)
    assert {b.sensor_id: b.element_id for b in contents.bindings} == generated.sensors
    bound = {b.sensor_id: b.property for b in contents.bindings}
    assert bound["L00-SLAB-T1"] == "core_temperature"
    assert bound["L00-R00-T"] == "air_temperature"
    assert bound["L00-R00-H"] == "relative_humidity"
    assert bound["L01-COL-S1"] == "strain"
    assert (sensors["L00-SLAB-T1"].unit, sensors["L00-SLAB-T1"].expected_interval) == (
        "degC", 600.0)
    assert sensors["L00-R00-H"].unit == "percent"
    assert sensors["L01-COL-S2"].kind == "strain"
    assert {s.meta["bound_by"] for s in contents.sensors} == {
        "assignment", "containment", "pset", "aggregation"}


def test_bytes_and_path_read_the_same_model(models: dict[str, GeneratedModel],
                                            model_bytes: bytes) -> None:
    from_path = read_model(models["IFC4"].path)
    from_bytes = read_model(model_bytes)
    assert from_bytes.revision == from_path.revision
    assert from_bytes.elements.keys() == from_path.elements.keys()


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.ifc", data)
    return buffer.getvalue()


BROKEN = {
    "empty": (lambda good: b"", "not_ifc"),
    "text": (lambda good: b"Meeting notes: pour level 2 on Monday.\n", "not_ifc"),
    "garbage": (lambda good: bytes(range(256)) * 8, "not_ifc"),
    "xml": (lambda good: b"<?xml version='1.0'?><ifcXML/>", "not_ifc"),
    "zip": (_zip, "not_ifc"),
    "truncated": (lambda good: good[: len(good) // 2], "broken_ifc"),
    "corrupt": (lambda good: good.replace(b"IFCWALL(", b"IFCWALL((", 1), "broken_ifc"),
    "unsupported_schema": (lambda good: good.replace(b"FILE_SCHEMA(('IFC4'))",
                                                     b"FILE_SCHEMA(('IFC2X2_FINAL'))"),
                           "unsupported_schema"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_file_that_is_not_a_whole_supported_ifc_model_is_refused(
    case: str, model_bytes: bytes, tmp_path: Path
) -> None:
    make, reason = BROKEN[case]
    data = make(model_bytes)
    assert data != model_bytes
    path = tmp_path / f"{case}.ifc"
    path.write_bytes(data)
    for source in (path, data):
        with pytest.raises(ModelImportError) as caught:
            read_model(source)
        assert caught.value.reason == reason
        assert str(caught.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelImportError):
        read_model(tmp_path / "nowhere.ifc")


@pytest.mark.parametrize("spelling", ["IFC4X3", "IFC4X3_TC1", "IFC4X3_ADD1", "IFC4X3_ADD2"])
def test_every_ifc4x3_spelling_is_read(models: dict[str, GeneratedModel], spelling: str,
                                       tmp_path: Path) -> None:
    data = Path(models["IFC4X3"].path).read_bytes()
    respelt = data.replace(b"FILE_SCHEMA(('IFC4X3_ADD2'))",
                           f"FILE_SCHEMA(('{spelling}'))".encode())
    assert (respelt != data) is (spelling != "IFC4X3_ADD2")
    path = tmp_path / "respelt.ifc"
    path.write_bytes(respelt)
    for source in (path, respelt):
        contents = read_model(source)
        assert contents.schema == spelling
        assert contents.counts() == read_model(models["IFC4X3"].path).counts()
    # The geometry export opens the same file the same way.
    assert open_ifc(path, respelt).schema_identifier == "IFC4X3_ADD2"


def test_a_file_starting_with_a_byte_order_mark_is_read(model_bytes: bytes,
                                                        tmp_path: Path) -> None:
    marked = b"\xef\xbb\xbf" + model_bytes
    path = tmp_path / "bom.ifc"
    path.write_bytes(marked)
    for source in (path, marked):
        assert read_model(source).elements.keys() == read_model(model_bytes).elements.keys()


def _line_of(data: bytes, needle: bytes) -> int:
    return data[: data.index(needle)].count(b"\n") + 1


@pytest.mark.parametrize(("damage", "words"), [
    ((b"IFCWALL('", b"IFCWALL(@@'"), "unexpected text @@"),
    ((b"IFCWALL(", b"IFCWALL(("), "enumeration literal"),
    ((b"IFCWALL(", b"IFCWALLX("), "IFCWALLX"),
])
def test_a_file_that_does_not_parse_is_refused_with_the_line_and_the_reason(
    model_bytes: bytes, damage: tuple[bytes, bytes], words: str
) -> None:
    before, after = damage
    data = model_bytes.replace(before, after, 1)
    with pytest.raises(ModelImportError) as caught:
        read_model(data)
    line = _line_of(data, after)
    assert (caught.value.reason, caught.value.line) == ("broken_ifc", line)
    assert f"line {line}" in str(caught.value) and words in str(caught.value)
    assert "check logs" not in str(caught.value) and "St7variant" not in str(caught.value)


@pytest.mark.parametrize("global_id", ["2O2Fr", "4O2Fr$t4X7Zf8NOew3FLOH", "2O2Fr-t4X7Zf8NOew3FLOH",
                                       "2O2Fr$t4X7Zf8NOew3FLOHx"])
def test_an_element_whose_global_id_is_not_an_ifc_global_id_is_refused(
    models: dict[str, GeneratedModel], model_bytes: bytes, global_id: str
) -> None:
    wall = models["IFC4"].ids["wall-L00-P000"]
    data = model_bytes.replace(f"'{wall}'".encode(), f"'{global_id}'".encode())
    with pytest.raises(ModelImportError) as caught:
        read_model(data)
    assert caught.value.reason == "bad_global_id"
    assert caught.value.line == _line_of(data, f"'{global_id}'".encode())
    assert global_id in str(caught.value)


def test_a_utf16_file_is_refused_as_not_ifc(model_bytes: bytes) -> None:
    data = "\ufeff".encode("utf-16-le") + model_bytes.decode().encode("utf-16-le")
    with pytest.raises(ModelImportError) as caught:
        read_model(data)
    assert caught.value.reason == "not_ifc" and "UTF-16" in str(caught.value)
