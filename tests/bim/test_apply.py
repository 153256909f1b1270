"""Importing model revisions into the twin: added, changed, archived, and what is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinsync.bim import (
    GeneratedModel,
    ModelContents,
    generate_building,
    import_ifc,
    plan_import,
    read_model,
)
from twinsync.bim.apply import MAX_ARCHIVE_SHARE, apply_import
from twinsync.bim.importer import ADJACENT_SPACES
from twinsync.config import MAX_ARCHIVE_SHARE as SETTINGS_MAX_ARCHIVE_SHARE
from twinsync.config import Settings
from twinsync.errors import Conflict, ImportRefused, InvalidInput
from twinsync.model import Binding, Element, Source, Status, Twin


@pytest.fixture(scope="module")
def contents(revisions: list[GeneratedModel]) -> list[ModelContents]:
    return [read_model(r.path) for r in revisions]


@pytest.fixture(scope="module")
def one_storey(tmp_path_factory: pytest.TempPathFactory) -> ModelContents:
    """Revision 0 of the same building cut to its ground storey: the upper storey's 72 of
    158 elements (46 %) leave, with the seven sensors bound to them (the roof stays, on
    the ground storey now)."""
    folder = tmp_path_factory.mktemp("one-storey")
    return read_model(generate_building(folder / "l00.ifc", storeys=1, bays_x=4, bays_y=2).path)


@pytest.fixture(scope="module")
def shed(unrelated: Path) -> ModelContents:
    return read_model(unrelated)


def imported(contents: ModelContents) -> Twin:
    """A twin holding ``contents`` as its current model."""
    twin = Twin()
    import_ifc(twin, contents, time=0.0)
    return twin


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
    # the rooms beside each dropped partition are no longer neighbours
    rooms_apart = {space for space, element in contents[1].elements.items()
                   if element.type == "IfcSpace"
                   and element.properties.get(ADJACENT_SPACES)
                   != contents[0].elements[space].properties.get(ADJACENT_SPACES)}
    assert len(rooms_apart) == 4
    assert all(report["changes"][space] == ["properties"] for space in rooms_apart)
    assert set(report["changed"]) == {ids[f"column-L0{n}-A1"] for n in (0, 1)} | {
        ids[f"slab-L0{n}"] for n in (0, 1)} | rooms_apart
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


def test_the_model_imported_event_records_the_ifc_project_global_id(
    contents: list[ModelContents],
) -> None:
    result = import_ifc(Twin(), contents[0], time=0.0)
    assert contents[0].project_id and len(contents[0].project_id) == 22
    assert result.events[-1].data["project_id"] == contents[0].project_id
    assert result.report["project_id"] == contents[0].project_id


def test_a_file_of_another_project_is_refused_and_changes_nothing(
    contents: list[ModelContents], shed: ModelContents,
) -> None:
    twin = imported(contents[0])
    before = {e.id: e.to_dict() for e in twin.elements.values()}
    plan = plan_import(twin, shed, time=1.0, current_project=contents[0].project_id)
    assert [r["reason"] for r in plan.refusals] == ["other_project", "archives_too_much"]
    with pytest.raises(ImportRefused) as refused:
        apply_import(twin, plan)
    assert refused.value.reason == "import_refused"
    assert refused.value.counts["archived"] == len(contents[0].elements)
    assert refused.value.counts["added"] == 4
    too_much = refused.value.refusals[1]
    assert (too_much["archived"], too_much["current"], too_much["share"]) == (
        len(contents[0].elements), len(contents[0].elements), 1.0)
    assert refused.value.refusals[0]["project_id"] == shed.project_id
    assert {e.id: e.to_dict() for e in twin.elements.values()} == before


def test_a_forced_import_of_another_project_archives_the_old_model_and_says_what_it_overrode(
    contents: list[ModelContents], shed: ModelContents,
) -> None:
    twin = imported(contents[0])
    result = import_ifc(twin, shed, time=1.0, current_project=contents[0].project_id,
                        force=True)
    assert all(twin.elements[i].archived for i in contents[0].elements)
    assert set(result.report["added"]) == set(shed.elements)
    assert result.report["forced"] == ["other_project", "archives_too_much"]
    final = result.events[-1]
    assert final.data["forced"] == ["other_project", "archives_too_much"]
    assert final.data["project_id"] == shed.project_id


def test_an_import_archiving_more_than_the_allowed_share_is_refused_even_from_the_same_project(
    contents: list[ModelContents], one_storey: ModelContents,
) -> None:
    twin = imported(contents[0])
    project = contents[0].project_id
    assert one_storey.project_id == project
    # 72 of 158 elements: under the default half, over a setting of 40 %.
    assert plan_import(twin, one_storey, time=1.0, current_project=project).refusals == []
    plan = plan_import(twin, one_storey, time=1.0, current_project=project,
                       max_archive_share=0.4)
    assert [r["reason"] for r in plan.refusals] == ["archives_too_much"]
    assert plan.refusals[0]["archived"] == 72 and plan.refusals[0]["current"] == 158
    with pytest.raises(ImportRefused, match=r"72 of the current model's 158 elements \(46%\)"):
        apply_import(twin, plan)
    assert not any(e.archived for e in twin.elements.values())


def test_a_normal_next_revision_is_not_refused(contents: list[ModelContents]) -> None:
    twin = imported(contents[0])
    plan = plan_import(twin, contents[1], time=1.0, current_project=contents[0].project_id)
    assert plan.refusals == [] and plan.removed


def test_the_first_import_into_a_twin_without_a_model_is_never_refused(
    shed: ModelContents,
) -> None:
    twin = Twin()
    twin.add_element(Element(id="crane-1", type="Crane"))  # added by hand, not from a model
    plan = plan_import(twin, shed, time=0.0, current_project="another", max_archive_share=0.0)
    assert plan.refusals == []
    apply_import(twin, plan)
    assert set(shed.elements) <= set(twin.elements)


def test_a_model_whose_project_was_never_recorded_is_judged_by_the_share_alone(
    contents: list[ModelContents], shed: ModelContents,
) -> None:
    twin = imported(contents[0])
    plan = plan_import(twin, shed, time=1.0, current_project=None)
    assert [r["reason"] for r in plan.refusals] == ["archives_too_much"]


def test_the_share_is_checked_and_the_settings_default_is_the_cores() -> None:
    assert SETTINGS_MAX_ARCHIVE_SHARE == MAX_ARCHIVE_SHARE == Settings().reimport_max_archive_share
    with pytest.raises(InvalidInput):
        plan_import(Twin(), ModelContents("IFC4", "r", "p"), time=0.0, max_archive_share=1.5)


def test_a_report_with_a_limit_caps_each_list_but_keeps_the_counts_whole(
    contents: list[ModelContents],
) -> None:
    twin = Twin()
    plan = plan_import(twin, contents[0], time=0.0)
    report = plan.report(limit=5)
    assert len(report["added"]) == 5
    assert report["counts"]["added"] == len(contents[0].elements)
    assert report["added"] == [e.id for e in plan.added[:5]]
    assert twin.elements == {}


def test_a_sensor_on_an_archived_element_is_unbound_until_a_revision_restores_it(
    contents: list[ModelContents], one_storey: ModelContents,
) -> None:
    twin = imported(contents[0])
    gone = {b.sensor_id for b in twin.bindings.values()
            if b.element_id not in one_storey.elements}
    assert "L01-SLAB-T1" in gone
    result = import_ifc(twin, one_storey, time=1.0)
    assert set(result.report["sensors_unbound"]) == gone
    # The binding is kept, for the restore, but the sensor feeds nothing now.
    assert "L01-SLAB-T1" in twin.bindings
    assert twin.live_binding("L01-SLAB-T1") is None
    assert twin.binding_state("L01-SLAB-T1") == "element_archived"
    assert twin.binding_state("L00-SLAB-T1") == "bound"
    # Saved again, so their revision moves and the service rebuilds what feeds what.
    assert gone <= {b.sensor_id for b in result.bindings}

    back = import_ifc(twin, contents[0], time=2.0)
    assert set(back.report["sensors_rebound"]) == gone
    assert twin.binding_state("L01-SLAB-T1") == "bound"
    assert twin.live_binding("L01-SLAB-T1") == twin.bindings["L01-SLAB-T1"]
