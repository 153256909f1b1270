"""The twin's operations check their input and record what they did."""

from __future__ import annotations

from typing import Any

import pytest

from twinsync.errors import Conflict, InvalidInput, NotFound, UnitError
from twinsync.model import (
    Binding,
    Element,
    PropertyValue,
    Sensor,
    Source,
    Status,
    Transform,
    Twin,
)


@pytest.fixture
def twin() -> Twin:
    twin = Twin()
    twin.add_element(Element("site", "IfcSite"))
    twin.add_element(Element("L1", "IfcBuildingStorey", parent="site"))
    twin.add_element(Element("room", "IfcSpace", parent="L1"))
    twin.add_element(Element("slab", "IfcSlab", parent="L1"))
    twin.add_element(Element("lamp", "IfcFlowTerminal", parent="room"))
    twin.add_sensor(Sensor("t1", "temperature", "°C"))
    return twin


def test_adding_an_element_twice_is_a_conflict(twin: Twin) -> None:
    with pytest.raises(Conflict):
        twin.add_element(Element("slab", "IfcSlab"))


def test_an_element_finds_its_storey_through_its_space(twin: Twin) -> None:
    assert twin.storey_of("lamp") == "L1"
    assert twin.storey_of("slab") == "L1"
    assert twin.storey_of("site") is None


def test_status_update_records_the_previous_status_and_source(twin: Twin) -> None:
    event = twin.update_status("slab", "in_progress", source="field", time=5.0)
    assert event.kind == "status_changed"
    assert event.data == {"status": "in_progress", "previous": "planned"}
    assert event.source == "field"
    assert twin.element("slab").status is Status.IN_PROGRESS


def test_an_unknown_status_is_refused_with_the_allowed_values(twin: Twin) -> None:
    with pytest.raises(InvalidInput, match="planned, in_progress, completed, issue"):
        twin.update_status("slab", "finished")


def test_a_property_carries_value_unit_time_source_and_confidence(twin: Twin) -> None:
    twin.set_property("slab", "crack_width", 0.3, unit="mm", source=Source.FIELD, time=9.0)
    value = twin.element("slab").properties["crack_width"]
    assert (value.value, value.unit, value.time, value.source) == (0.3, "mm", 9.0, Source.FIELD)
    assert value.confidence == 0.8  # the default trust in a field report


def test_a_property_with_an_unknown_unit_is_refused(twin: Twin) -> None:
    with pytest.raises(UnitError):
        twin.set_property("slab", "width", 3, unit="furlongs-per-fortnight-squared")


def test_binding_checks_that_the_units_convert(twin: Twin) -> None:
    with pytest.raises(UnitError):
        twin.bind_sensor(Binding("t1", "slab", "core_temperature", Transform(unit="m")))
    twin.bind_sensor(Binding("t1", "slab", "core_temperature", Transform(unit="degF")))
    assert twin.sensors_of("slab") == ["t1"]


def test_binding_an_unknown_sensor_or_element_is_not_found(twin: Twin) -> None:
    with pytest.raises(NotFound):
        twin.bind_sensor(Binding("nope", "slab", "x"))
    with pytest.raises(NotFound):
        twin.bind_sensor(Binding("t1", "nope", "x"))


def test_status_summary_counts_physical_elements_only(twin: Twin) -> None:
    twin.update_status("slab", "completed")
    assert twin.status_summary() == {"planned": 1, "in_progress": 0, "completed": 1,
                                     "issue": 0}


def test_rollback_undoes_additions(twin: Twin) -> None:
    saved = twin.checkpoint()
    twin.add_element(Element("wall", "IfcWall", parent="L1"))
    twin.bind_sensor(Binding("t1", "slab", "core_temperature"))
    twin.rollback(saved)
    assert "wall" not in twin.elements
    assert twin.bindings == {}
    assert twin.sensors_of("slab") == []


def test_a_property_json_cannot_carry_is_refused_and_the_element_is_unchanged(
        twin: Twin) -> None:
    twin.set_property("slab", "width", 3, unit="m")
    before = twin.element("slab").to_dict()
    for value, reason in ((2**70, "int_too_large"), (float("nan"), "not_finite"),
                          ({1: "a"}, "bad_value")):
        with pytest.raises(InvalidInput) as refused:
            twin.set_property("slab", "width", value)
        assert refused.value.reason == reason
    assert twin.element("slab").to_dict() == before


def test_a_property_is_kept_as_json_gives_it_back(twin: Twin) -> None:
    twin.set_property("slab", "layers", ("a", "b"))
    assert twin.element("slab").properties["layers"].value == ["a", "b"]


def test_a_time_that_is_not_finite_is_refused(twin: Twin) -> None:
    with pytest.raises(InvalidInput) as refused:
        twin.set_property("slab", "width", 3, time=float("nan"))
    assert refused.value.reason == "not_finite"
    with pytest.raises(InvalidInput):
        twin.update_status("slab", "completed", time=float("inf"))
    assert twin.element("slab").status is Status.PLANNED


def test_an_unknown_source_is_refused_with_a_reason(twin: Twin) -> None:
    with pytest.raises(InvalidInput) as refused:
        twin.update_status("slab", "completed", source="rumour")
    assert refused.value.reason == "bad_source"
    assert twin.element("slab").status is Status.PLANNED


@pytest.mark.parametrize("gain", [float("nan"), float("inf"), "2", 0.0])
def test_binding_with_a_gain_that_is_not_a_finite_nonzero_number_binds_nothing(
        twin: Twin, gain: Any) -> None:
    with pytest.raises(InvalidInput):
        twin.bind_sensor(Binding("t1", "slab", "core_temperature", Transform(gain=gain)))
    assert twin.bindings == {}
    assert twin.sensors_of("slab") == []


def test_a_sensor_or_element_with_a_bad_id_is_not_added(twin: Twin) -> None:
    with pytest.raises(InvalidInput) as refused:
        twin.add_sensor(Sensor("t\x002", "temperature", "degC"))
    assert refused.value.reason == "bad_id"
    with pytest.raises(InvalidInput):
        twin.add_element(Element("x" * 257, "IfcWall"))
    assert set(twin.sensors) == {"t1"}
    assert len(twin.elements) == 5


def test_a_sensor_with_a_nan_interval_is_not_added(twin: Twin) -> None:
    with pytest.raises(InvalidInput) as refused:
        twin.add_sensor(Sensor("t2", "temperature", "degC", expected_interval=float("nan")))
    assert refused.value.reason == "not_finite"
    assert "t2" not in twin.sensors


def test_an_element_with_a_bad_property_is_not_added(twin: Twin) -> None:
    element = Element("wall", "IfcWall", properties={"h": PropertyValue(float("inf"))})
    with pytest.raises(InvalidInput):
        twin.add_element(element)
    assert "wall" not in twin.elements


def test_looking_up_a_huge_id_answers_with_a_short_message(twin: Twin) -> None:
    with pytest.raises(NotFound) as missing:
        twin.element("x" * 1_000_000)
    assert len(str(missing.value)) < 200
