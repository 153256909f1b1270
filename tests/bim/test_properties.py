"""Every property definition of an element reaches the twin, in a form the API and the
dashboard can show: predefined sets, bounded, enumerated, list, table, reference and
complex properties, and complex quantities."""

from __future__ import annotations

import json
from pathlib import Path

import ifcopenshell.guid
import pytest

from twinsync.model import Twin

from .small_models import SmallModel


def _millimetres_and_kelvin(model: SmallModel) -> None:
    model.assign(model.si("LENGTHUNIT", "MILLI"), model.si("THERMODYNAMICTEMPERATUREUNIT"))


@pytest.mark.parametrize("schema", ["IFC2X3", "IFC4"])
def test_door_lining_and_panel_sets_on_the_type_are_read_in_metres(
    schema: str, tmp_path: Path
) -> None:
    model = SmallModel(schema, "IfcDoor")
    _millimetres_and_kelvin(model)
    door_type = model.element_type("IfcDoorStyle" if schema == "IFC2X3" else "IfcDoorType")
    f = model.file
    lining = f.createIfcDoorLiningProperties(ifcopenshell.guid.new(), None, None, None,
                                             100.0, 50.0)
    panel = f.createIfcDoorPanelProperties(ifcopenshell.guid.new(), None, "Leaf", None,
                                           40.0, "SWINGING", 0.5, "LEFT")
    door_type.HasPropertySets = [lining, panel]
    properties = model.read(tmp_path).properties
    depth = properties["IfcDoorLiningProperties.LiningDepth"]
    assert (depth.value, depth.unit) == (pytest.approx(0.1), "m")
    assert properties["IfcDoorLiningProperties.LiningThickness"].value == pytest.approx(0.05)
    assert properties["Leaf.PanelDepth"].value == pytest.approx(0.04)
    assert properties["Leaf.PanelOperation"].value == "SWINGING"
    assert properties["Leaf.PanelWidth"].value == 0.5  # a ratio of the opening: no unit
    assert properties["Leaf.PanelPosition"].value == "LEFT"


def test_each_window_panel_keeps_its_own_set(tmp_path: Path) -> None:
    model = SmallModel(ifc_class="IfcWindow")
    window_type = model.element_type("IfcWindowType")
    f = model.file
    window_type.HasPropertySets = [
        f.createIfcWindowLiningProperties(ifcopenshell.guid.new(), None, None, None, 0.12),
        f.createIfcWindowPanelProperties(ifcopenshell.guid.new(), None, None, None,
                                         "SIDEHUNGLEFTHAND", "LEFT", 0.06, 0.6),
        f.createIfcWindowPanelProperties(ifcopenshell.guid.new(), None, None, None,
                                         "FIXEDCASEMENT", "RIGHT", 0.06, 0.4),
    ]
    properties = model.read(tmp_path).properties
    assert properties["IfcWindowLiningProperties.LiningDepth"].value == pytest.approx(0.12)
    assert properties["IfcWindowPanelProperties.OperationType"].value == "SIDEHUNGLEFTHAND"
    assert properties["IfcWindowPanelProperties RIGHT.OperationType"].value == "FIXEDCASEMENT"
    assert properties["IfcWindowPanelProperties RIGHT.FrameThickness"].value == 0.4


def test_a_bounded_value_is_its_bounds_and_set_point_in_the_twins_unit(tmp_path: Path) -> None:
    model = SmallModel()
    _millimetres_and_kelvin(model)
    f = model.file
    temperature = "IfcThermodynamicTemperatureMeasure"
    model.property_set("Pset_SpaceThermalRequirements", f.createIfcPropertyBoundedValue(
        "SpaceTemperature", None, model.value(temperature, 297.15),
        model.value(temperature, 291.15), None, model.value(temperature, 294.15)),
        f.createIfcPropertyBoundedValue("Clearance", None, None,
                                        model.value("IfcLengthMeasure", 2400.0), None, None))
    properties = model.read(tmp_path).properties
    temperature_range = properties["Pset_SpaceThermalRequirements.SpaceTemperature"]
    assert temperature_range.unit == "degC"
    assert temperature_range.value == {"lower": pytest.approx(18.0),
                                       "upper": pytest.approx(24.0),
                                       "set_point": pytest.approx(21.0)}
    clearance = properties["Pset_SpaceThermalRequirements.Clearance"]
    assert (clearance.value, clearance.unit) == (
        {"lower": pytest.approx(2.4), "upper": None, "set_point": None}, "m")


def test_enumerated_and_list_values_are_converted_by_their_units(tmp_path: Path) -> None:
    model = SmallModel()
    _millimetres_and_kelvin(model)
    f = model.file
    metre = model.si("LENGTHUNIT")
    sizes = f.createIfcPropertyEnumeration(
        "PEnum_Sizes", [model.value("IfcPositiveLengthMeasure", v) for v in (0.6, 0.9, 1.2)],
        metre)
    model.property_set(
        "Pset_Custom",
        f.createIfcPropertyEnumeratedValue(
            "Width", None, [model.value("IfcPositiveLengthMeasure", 0.9)], sizes),
        f.createIfcPropertyEnumeratedValue(
            "Finishes", None, [model.value("IfcLabel", "paint"), model.value("IfcLabel", "tile")],
            None),
        f.createIfcPropertyListValue(
            "Offsets", None, [model.value("IfcLengthMeasure", v) for v in (100.0, 250.0)], None))
    properties = model.read(tmp_path).properties
    width = properties["Pset_Custom.Width"]
    assert (width.value, width.unit) == (pytest.approx(0.9), "m")
    assert properties["Pset_Custom.Finishes"].value == ["paint", "tile"]
    offsets = properties["Pset_Custom.Offsets"]
    assert (offsets.value, offsets.unit) == ([pytest.approx(0.1), pytest.approx(0.25)], "m")


def test_a_table_keeps_both_columns_in_their_own_units(tmp_path: Path) -> None:
    model = SmallModel()
    _millimetres_and_kelvin(model)
    f = model.file
    model.property_set("Pset_Curve", f.createIfcPropertyTableValue(
        "Output", None,
        [model.value("IfcThermodynamicTemperatureMeasure", v) for v in (273.15, 283.15)],
        [model.value("IfcPowerMeasure", v) for v in (1500.0, 2000.0)], None, None,
        model.si("POWERUNIT", "KILO"), "LINEAR"))
    output = model.read(tmp_path).properties["Pset_Curve.Output"]
    assert output.unit == ""
    assert output.value == {"defining": [pytest.approx(0.0), pytest.approx(10.0)],
                            "defined": [1_500_000.0, 2_000_000.0],
                            "defining_unit": "degC", "defined_unit": "W"}


def test_complex_properties_and_quantities_are_named_by_their_nesting(tmp_path: Path) -> None:
    model = SmallModel()
    _millimetres_and_kelvin(model)
    f = model.file
    layer = f.createIfcComplexProperty("Layer", None, "Layer", [
        model.single("Thickness", "IfcPositiveLengthMeasure", 200.0),
        f.createIfcComplexProperty("Material", None, "Material", [
            model.single("Name", "IfcLabel", "Concrete C30/37")]),
    ])
    model.property_set("Pset_Build-up", layer,
                       f.createIfcPropertyReferenceValue("Document", None, None,
                                                         f.createIfcDocumentReference(
                                                             "https://example.org/spec", "S-1",
                                                             "Specification")))
    model.quantities("Qto_Custom", f.createIfcPhysicalComplexQuantity(
        "Finish", None, [f.createIfcQuantityArea("Area", None, model.si("AREAUNIT", "MILLI"),
                                                 2_000_000.0)],
        "Layer", None, None))
    properties = model.read(tmp_path).properties
    assert properties["Pset_Build-up.Layer.Thickness"].value == pytest.approx(0.2)
    assert properties["Pset_Build-up.Layer.Material.Name"].value == "Concrete C30/37"
    assert properties["Pset_Build-up.Document"].value == "Specification"
    area = properties["Qto_Custom.Finish.Area"]
    assert (area.value, area.unit) == (pytest.approx(2.0), "m²")


def test_the_occurrences_sets_win_over_the_types(tmp_path: Path) -> None:
    model = SmallModel()
    wall_type = model.element_type()
    model.property_set("Pset_WallCommon", model.single("FireRating", "IfcLabel", "EI30"),
                       model.single("Reference", "IfcIdentifier", "W-1"), on=wall_type)
    model.property_set("Pset_WallCommon", model.single("FireRating", "IfcLabel", "EI90"))
    properties = model.read(tmp_path).properties
    assert properties["Pset_WallCommon.FireRating"].value == "EI90"
    assert properties["Pset_WallCommon.Reference"].value == "W-1"


def test_every_kind_of_property_is_kept_by_the_twin_and_goes_through_json(
    tmp_path: Path
) -> None:
    model = SmallModel()
    _millimetres_and_kelvin(model)
    f = model.file
    model.property_set(
        "Pset_All",
        f.createIfcPropertyBoundedValue("Bounded", None, model.value("IfcLengthMeasure", 2.0),
                                        None, None, None),
        f.createIfcPropertyTableValue("Table", None, [model.value("IfcReal", 1.0)],
                                      [model.value("IfcLabel", "a")], None, None, None, None),
        f.createIfcComplexProperty("Complex", None, "x", [
            f.createIfcPropertyListValue("List", None, [model.value("IfcInteger", 3)], None)]),
        model.single("Angle", "IfcCompoundPlaneAngleMeasure", (51, 30, 0)))
    wall = model.read(tmp_path)
    twin = Twin()
    twin.add_element(wall)
    kept = twin.elements[wall.id].to_dict()["properties"]
    assert json.loads(json.dumps(kept)) == kept
    assert kept["Pset_All.Complex.List"]["value"] == [3]
    assert kept["Pset_All.Angle"]["value"] == [51, 30, 0]
