"""The twin's schedule as named operations on a pure model: importing versions, linking
elements by id, GlobalId and rules, progress moving element statuses and back, conflicts
shown, and earned value as of a date, against figures worked out by hand (see
``tests/schedule/plan_files.py`` for the schedule)."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.schedule.plan_files import SLAB_L1_GLOBAL_ID, tower_elements, tower_xer

from twinsync.errors import InvalidInput, NotFound
from twinsync.model import Source, Status, Twin
from twinsync.model.plan import TwinSchedule
from twinsync.model.plan_analysis import Analysis
from twinsync.model.survey import parse_survey
from twinsync.schedule.xer import read_xer

WEDNESDAY_NOON = datetime(2026, 3, 4, 12)


@pytest.fixture
def twin() -> Twin:
    twin = Twin()
    for element in tower_elements():
        twin.add_element(element)
    return twin


@pytest.fixture
def plan(twin: Twin) -> TwinSchedule:
    plan = TwinSchedule()
    plan.import_schedule(read_xer(tower_xer()), tower_xer(), name="tower.xer", time=1.0)
    plan.set_links(twin, "A100", [SLAB_L1_GLOBAL_ID], time=2.0)
    plan.add_rule({"activities": "A11*", "ifc_class": "IfcColumn", "storey": "Level 1"},
                  time=3.0)
    plan.add_rule({"property": "ActivityCode"}, time=4.0)
    return plan


def test_links_come_from_a_globalid_a_class_on_a_storey_and_a_property(
        plan: TwinSchedule, twin: Twin) -> None:
    linked = plan.linked(twin)
    assert linked["A100"] == {"slab-1": "explicit"}
    assert linked["A110"] == {"col-1": "rule 1", "col-2": "rule 1"}
    assert linked["A120"] == {"slab-2": "rule 2"}
    assert linked["M900"] == {}


def test_a_link_to_an_element_the_twin_lacks_is_refused_and_changes_nothing(
        plan: TwinSchedule, twin: Twin) -> None:
    with pytest.raises(NotFound, match="no-such"):
        plan.set_links(twin, "A100", ["slab-1", "no-such"], time=5.0)
    assert plan.links["A100"] == ("slab-1",)
    with pytest.raises(NotFound, match="Z999"):
        plan.set_links(twin, "Z999", ["slab-1"], time=5.0)


def test_a_rule_that_selects_nothing_is_refused() -> None:
    with pytest.raises(InvalidInput, match="names an IFC class"):
        TwinSchedule().add_rule({"activities": "A*"}, time=1.0)
    with pytest.raises(InvalidInput, match="no field 'class'"):
        TwinSchedule().add_rule({"class": "IfcWall"}, time=1.0)


def test_progress_moves_the_statuses_of_the_activitys_elements(
        plan: TwinSchedule, twin: Twin) -> None:
    events, rows, changed = plan.report_progress(
        twin, "A100", percent_complete=25, date=WEDNESDAY_NOON, source=Source.FIELD, time=10.0)
    assert [e.kind for e in events] == ["activity_progress", "status_changed"]
    status = events[1]
    assert (status.element_id, status.source, status.data["status"]) == (
        "slab-1", "schedule", "in_progress")
    assert status.data["confidence"] == 0.8 and status.data["reported_by"] == "field"
    assert [e.id for e in changed] == ["slab-1"] and twin.elements["slab-1"].status is (
        Status.IN_PROGRESS)
    assert [kind for kind, _, _ in rows] == ["progress"]
    plan.report_progress(twin, "A100", percent_complete=100, date=datetime(2026, 3, 6, 16),
                         source=Source.FIELD, time=11.0)
    assert twin.elements["slab-1"].status is Status.COMPLETED
    report = plan.progress["A100"][-1]
    # dates left out follow from the percent: started at the first report, finished now
    assert report.actual_start == WEDNESDAY_NOON and report.actual_finish == datetime(
        2026, 3, 6, 16)


def test_a_more_trusted_observation_of_an_element_stands_and_the_conflict_shows(
        plan: TwinSchedule, twin: Twin) -> None:
    plan.observe_status("slab-1", Status.PLANNED, source=Source.DRONE, confidence=0.95,
                        date=WEDNESDAY_NOON, time=9.0)
    events, _, changed = plan.report_progress(
        twin, "A100", percent_complete=40, date=WEDNESDAY_NOON, source=Source.FIELD,
        confidence=0.6, time=10.0)
    assert [e.kind for e in events] == ["activity_progress"] and changed == []
    assert twin.elements["slab-1"].status is Status.PLANNED
    analysis = Analysis(plan, twin, WEDNESDAY_NOON)
    element = analysis.element_view("slab-1")
    assert element["implied_status"] == "in_progress" and element["conflict"] is True
    assert element["observed"]["source"] == "drone"
    progress = analysis.progress["A100"]
    # the drone's 0.95 beats the field's 0.6: the activity reads as not started, and says
    # what the field reported
    assert progress.conflict and progress.chosen is progress.from_elements
    assert progress.reported is not None and progress.reported.percent_complete == 40


def test_element_statuses_give_an_activity_its_progress(plan: TwinSchedule,
                                                        twin: Twin) -> None:
    plan.observe_status("col-1", Status.COMPLETED, source=Source.FIELD, confidence=None,
                        date=datetime(2026, 3, 10, 9), time=20.0)
    plan.observe_status("col-2", Status.IN_PROGRESS, source=Source.DRONE, confidence=0.9,
                        date=datetime(2026, 3, 10, 10), time=21.0)
    analysis = Analysis(plan, twin, datetime(2026, 3, 10, 12))
    progress = analysis.progress["A110"]
    assert progress.reported is None and progress.chosen is progress.from_elements
    # one of two complete, one half: 75 %, as sure as the least sure observation (field)
    chosen = progress.chosen
    assert chosen is not None
    assert (chosen.percent_complete, chosen.source, chosen.confidence) == (
        75.0, "elements:drone+field", 0.8)
    assert chosen.actual_start == datetime(2026, 3, 10, 9)
    before = Analysis(plan, twin, datetime(2026, 3, 10, 9, 30))
    assert before.progress["A110"].chosen.percent_complete == 50.0  # type: ignore[union-attr]


def test_earned_value_as_of_a_date_rolls_up_to_wbs_and_project(plan: TwinSchedule,
                                                             twin: Twin) -> None:
    plan.report_progress(twin, "A100", percent_complete=25, date=WEDNESDAY_NOON,
                         source=Source.FIELD, actual_start=datetime(2026, 3, 2, 8),
                         actual_cost=400, time=10.0)
    analysis = Analysis(plan, twin, WEDNESDAY_NOON)
    # A100: 20 h of 40 planned by Wednesday noon → PV 500; EV 250; AC 400.
    assert analysis.values["A100"].to_dict() == {
        "bac": 1000.0, "pv": 500.0, "ev": 250.0, "ac": 400.0, "sv": -250.0, "cv": -150.0,
        "spi": 0.5, "cpi": 0.625, "eac": 1600.0, "etc": 1200.0, "vac": -600.0, "tcpi": 1.25}
    level_1 = analysis.wbs_values()["101"].to_dict()  # A100 + A110, BAC 3000
    assert (level_1["bac"], level_1["eac"], level_1["tcpi"]) == (3000.0, 4800.0, 1.0577)
    project = analysis.overview()
    # BAC 7000 (A120: an assignment of 3000 and an expense of 1000); EAC 7000 / 0.625
    assert project["earned_value"]["bac"] == 7000.0
    assert project["earned_value"]["eac"] == 11200.0
    assert project["earned_value"]["tcpi"] == round(6750 / 6600, 4)
    a100 = analysis.activity_view(plan.activity("A100"), with_elements=True)
    assert a100["variance"] == {"standing": "behind", "days": 1.25, "planned_percent": 50.0,
                                "actual_percent": 25.0}
    # 30 h left from Wednesday noon: 4 + 8 + 8 on this week, 8 on Monday, 2 on Tuesday.
    assert (a100["early_start"], a100["early_finish"]) == ("2026-03-02 08:00",
                                                           "2026-03-10 10:00")
    assert a100["elements"][0]["id"] == "slab-1" and a100["critical"] is True


def test_reimporting_keeps_progress_links_and_rules_by_activity_code(
        plan: TwinSchedule, twin: Twin) -> None:
    plan.report_progress(twin, "A100", percent_complete=60, date=WEDNESDAY_NOON,
                         source=Source.FIELD, time=10.0)
    plan.set_links(twin, "M900", ["slab-2"], time=11.0)
    event, rows, report = plan.import_schedule(read_xer(tower_xer(2)), tower_xer(2),
                                               name="tower-2.xer", time=12.0)
    assert event.kind == "schedule_imported" and report["version"] == 2
    assert (report["added"], report["removed"], report["removed_codes"]) == (1, 1, ["M900"])
    assert report["kept"] == {"progress": 1, "links": 1, "rules": 2}
    assert report["orphaned"] == {"progress": [], "links": ["M900"]}
    assert [kind for kind, _, _ in rows] == ["version", "file"]
    progress = plan.direct_progress("A100", WEDNESDAY_NOON)
    assert progress is not None and progress.percent_complete == 60
    assert plan.activity("A100").planned_duration_hours == 48  # the new version's plan
    linked = plan.linked(twin)
    assert linked["A100"] == {"slab-1": "explicit"} and set(linked["A110"]) == {"col-1",
                                                                                 "col-2"}


def test_a_schedule_whose_codes_repeat_is_refused() -> None:
    doubled = tower_xer().replace(b"\tA110\t", b"\tA100\t")
    with pytest.raises(InvalidInput, match="A100"):
        TwinSchedule().import_schedule(read_xer(doubled), doubled, name="x.xer", time=1.0)


def test_the_plan_reloads_from_its_rows(plan: TwinSchedule, twin: Twin) -> None:
    rows = []
    _, imported, _ = TwinSchedule().import_schedule(read_xer(tower_xer()), tower_xer(),
                                                    name="tower.xer", time=1.0)
    rows += imported
    rows += plan.set_links(twin, "A100", ["slab-1"], time=2.0)[1]
    rows += plan.report_progress(twin, "A100", percent_complete=30, date=WEDNESDAY_NOON,
                                 source=Source.FIELD, time=3.0)[1]
    rows += plan.observe_status("col-1", Status.COMPLETED, source=Source.FIELD,
                                confidence=None, date=WEDNESDAY_NOON, time=4.0)
    rows += plan.add_rule({"property": "ActivityCode"}, time=5.0)[1]
    loaded = TwinSchedule()
    loaded.load(rows, lambda data, record: read_xer(data, project=record.project))
    assert loaded.version is not None and loaded.version.number == 1
    assert loaded.links == {"A100": ("slab-1",)}
    assert loaded.progress["A100"][-1].percent_complete == 30
    assert loaded.statuses["col-1"][-1].status is Status.COMPLETED
    assert [r.property for r in loaded.rules.values()] == ["ActivityCode"]
    assert loaded.next_number > max(r.number for r in loaded.rules.values())


def test_a_survey_gives_elements_their_share_and_activities_their_progress(
        plan: TwinSchedule, twin: Twin) -> None:
    survey = parse_survey(b"element,percent_complete,confidence\n"
                          b"col-1,100,0.95\ncol-2,40,\n")
    events, rows, changed = plan.record_survey(twin, survey, source=Source.DRONE,
                                               date=datetime(2026, 3, 11, 12), time=30.0)
    assert [e.kind for e in events] == ["survey_recorded", "status_changed",
                                        "status_changed"]
    assert [(e.element_id, e.source, e.data["status"]) for e in events[1:]] == [
        ("col-1", "drone", "completed"), ("col-2", "drone", "in_progress")]
    assert events[2].data["confidence"] == 0.9  # the drone's default
    assert [e.id for e in changed] == ["col-1", "col-2"] and len(rows) == 2
    progress = Analysis(plan, twin, datetime(2026, 3, 11, 12)).progress["A110"].chosen
    # (100 % + 40 %) / 2 columns, as sure as the less sure row
    assert progress is not None and (progress.percent_complete, progress.confidence) == (
        70.0, 0.9)


def test_a_survey_with_a_bad_row_is_refused_whole(plan: TwinSchedule, twin: Twin) -> None:
    with pytest.raises(InvalidInput, match="survey row 2: percent_complete"):
        parse_survey(b'{"elements": [{"element": "col-1", "percent_complete": 10},'
                     b' {"element": "col-2", "percent_complete": 140}]}')
    with pytest.raises(InvalidInput, match="survey row 1: percent_complete must be a number"):
        parse_survey(b'{"elements": [{"element": "col-1", "percent_complete": "60"}]}')
    with pytest.raises(InvalidInput, match="lacks percent_complete"):
        parse_survey(b"element,done\ncol-1,1\n")
    survey = parse_survey(b'{"date": "2026-03-11", "elements": ['
                          b'{"element": "col-1", "percent_complete": 50},'
                          b'{"element": "ghost", "percent_complete": 50}]}')
    assert survey.date == datetime(2026, 3, 11)
    with pytest.raises(NotFound, match="survey row 2: no element 'ghost'"):
        plan.record_survey(twin, survey, source=Source.DRONE, date=survey.date, time=31.0)
    assert plan.statuses == {} and twin.elements["col-1"].status is Status.PLANNED


def test_a_stored_row_that_no_longer_decodes_is_skipped_and_said(twin: Twin) -> None:
    plan = TwinSchedule()
    _, rows, _ = plan.import_schedule(read_xer(tower_xer()), tower_xer(), name="t.xer",
                                      time=1.0)
    rows += plan.report_progress(twin, "A100", percent_complete=30, date=WEDNESDAY_NOON,
                                 source=Source.FIELD, time=2.0)[1]
    rows.append(("progress", "000000000009", b'{"number": 9, "activity": "A110"}'))
    loaded = TwinSchedule()
    skipped = loaded.load(rows, lambda data, record: read_xer(data))
    assert len(skipped) == 1 and skipped[0].startswith("progress 000000000009: KeyError")
    assert loaded.progress["A100"][-1].percent_complete == 30
    assert loaded.next_number == 10  # past the skipped row's number too
    without_file = [row for row in rows if row[0] != "file"]
    with pytest.raises(InvalidInput, match="file of schedule version 1"):
        TwinSchedule().load(without_file, lambda data, record: read_xer(data))
