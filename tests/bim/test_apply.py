"""Importing model revisions into the twin: added, changed, archived, and what is kept."""

from __future__ import annotations

import pytest

from twinsync.bim import GeneratedModel, ModelContents, import_ifc, plan_import, read_model
from twinsync.bim.apply import apply_import
from twinsync.errors import Conflict
from twinsync.model import Binding, Element, Source, Status, Twin


@pytest.fixture(scope="module")
def contents(revisions: list[GeneratedModel]) -> list[ModelContents]:
    return [read_model(r.path) for r in revisions]


def test_a_first_import_adds_every_element_and_binds_every_sensor(
    contents: list[ModelContents],
) -> None:
    twin = Twin()
    result = import_ifc(twin, contents[0], time=10.0)
    assert set(result.report["added"]) == set(contents[0].elements)
    assert len(result.elements) == len(contents[0].elements)
    assert {s.id for s in result.sensors} == {s.id for s in contents[0].sensors}
    assert set(twin.bindings) == {b.sensor_id for b in contents[0].bindings}
    imported = result.events[-1]
    assert imported.kind == "model_imported"
    assert imported.data["revision"] == contents[0].revision
    assert imported.data["counts"]["added"] == len(contents[0].elements)
    assert {e.source for e in result.events} == {"bim"}
    wall = next(e for e in twin.elements.values() if e.type == "IfcWall")
    assert wall.properties["Pset_WallCommon.FireRating"].time == 10.0


def test_importing_the_same_revision_again_changes_nothing(
    contents: list[ModelContents],
) -> None:
    twin = Twin()
    import_ifc(twin, contents[0], time=0.0)
    result = import_ifc(twin, contents[0], time=1.0)
    assert result.report["unchanged"] == len(contents[0].elements)
    assert [e.kind for e in result.events] == ["model_imported"]
    assert result.elements == [] and result.sensors == [] and result.bindings == []


def test_a_new_revision_reports_added_removed_and_changed_by_global_id(
    contents: list[ModelContents], revisions: list[GeneratedModel],
) -> None:
    twin = Twin()
    import_ifc(twin, contents[0], time=0.0)
    report = import_ifc(twin, contents[1], time=1.0).report
    before, after = (set(r.ids.values()) for r in revisions)
    assert set(report["added"]) == after - before - {
        v for k, v in revisions[1].ids.items() if k == "project"}
    assert set(report["removed"]) == before - after
    ids = revisions[1].ids
    assert report["changes"][ids["column-L00-A1"]] == ["name"]
    assert report["changes"][ids["slab-L01"]] == ["properties"]
    assert set(report["changed"]) == {ids[f"column-L0{n}-A1"] for n in (0, 1)} | {
        ids[f"slab-L0{n}"] for n in (0, 1)}
    assert report["sensors_added"] == ["L00-SLAB-T2"]
    assert twin.elements[ids["slab-L01"]].properties["Pset_SlabCommon.FireRating"].value == "REI90"


def test_removed_elements_are_archived_not_deleted(
    contents: list[ModelContents], revisions: list[GeneratedModel],
) -> None:
    twin = Twin()
    import_ifc(twin, contents[0], time=0.0)
    result = import_ifc(twin, contents[1], time=1.0)
    removed = result.report["removed"]
    assert removed
    assert all(twin.elements[i].archived for i in removed)
    assert {e.kind for e in result.events if e.element_id in removed} == {"element_archived"}


def test_a_changed_element_keeps_its_status_field_values_and_bindings(
    contents: list[ModelContents], revisions: list[GeneratedModel],
) -> None:
    twin = Twin()
    import_ifc(twin, contents[0], time=0.0)
    slab = revisions[0].ids["slab-L00"]
    twin.update_status(slab, Status.IN_PROGRESS, source=Source.FIELD, time=0.5)
    twin.set_property(slab, "core_temperature", 21.5, unit="degC", source=Source.IOT, time=0.5)
    bound_before = twin.sensors_of(slab)
    assert bound_before

    result = import_ifc(twin, contents[1], time=1.0)
    assert slab in result.report["changed"]
    element = twin.elements[slab]
    assert element.status is Status.IN_PROGRESS
    assert element.properties["core_temperature"].value == 21.5
    assert set(bound_before) <= set(twin.sensors_of(slab))
    # The sensor the revision adds in the same slab is bound beside the old one.
    assert "L00-SLAB-T2" in twin.sensors_of(slab)


def test_a_binding_made_in_the_twin_is_not_overridden_by_the_model(
    contents: list[ModelContents],
) -> None:
    twin = Twin()
    import_ifc(twin, contents[0], time=0.0)
    binding = next(b for b in contents[0].bindings if b.property == "strain")
    twin.unbind_sensor(binding.sensor_id)
    twin.bind_sensor(Binding(binding.sensor_id, binding.element_id, "surface_strain"))
    import_ifc(twin, contents[0], time=1.0)
    assert twin.bindings[binding.sensor_id].property == "surface_strain"


def test_an_element_back_in_a_later_revision_is_restored(
    contents: list[ModelContents],
) -> None:
    twin = Twin()
    import_ifc(twin, contents[0], time=0.0)
    removed = import_ifc(twin, contents[1], time=1.0).report["removed"]
    report = import_ifc(twin, contents[0], time=2.0).report
    assert set(report["restored"]) == set(removed)
    assert not any(twin.elements[i].archived for i in removed)


def test_elements_added_by_hand_are_not_archived_by_an_import(
    contents: list[ModelContents],
) -> None:
    twin = Twin()
    twin.add_element(Element(id="crane-1", type="Crane"))
    import_ifc(twin, contents[0], time=0.0)
    assert not twin.elements["crane-1"].archived


def test_planning_leaves_the_twin_alone_and_a_stale_plan_changes_nothing(
    contents: list[ModelContents],
) -> None:
    twin = Twin()
    plan = plan_import(twin, contents[0], time=0.0)
    assert twin.elements == {} and twin.sensors == {}
    first = plan.added[0]
    twin.add_element(Element(id=first.id, type=first.type, global_id=first.id))
    with pytest.raises(Conflict):
        apply_import(twin, plan)
    assert list(twin.elements) == [first.id]
    assert twin.sensors == {}
