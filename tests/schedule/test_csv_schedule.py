"""A schedule kept as CSV: read with its WBS, links, progress and costs, scheduled to
hand-worked dates, told apart from the other formats, and refused clearly line by line."""

from __future__ import annotations

from datetime import datetime

import pytest

from twinsync.errors import ScheduleImportError
from twinsync.schedule import ActivityType, ConstraintType, RelationType, schedule_cpm
from twinsync.schedule.csv_schedule import CALENDAR_WARNING, read_csv_schedule
from twinsync.schedule.files import file_format_of

TOWER = (
    "\ufeff# project=TOWER\n"
    "# data_date=2026-03-02 08:00\n"
    "code,name,wbs,duration_hours,predecessors,planned_start,budget,percent_complete,"
    "actual_start,constraint,constraint_date\n"
    "A100,Slab L1,Tower/L1,16,,2026-03-02 08:00,1000,50,2026-03-02 08:00,,\n"
    "A110,Columns L1,Tower/L1,24,A100 FS +8,,2000,,,,\n"
    "L1-SS,Scaffold L1,Tower/L1,8,A100 SS; A110 FF -4,,,,,,\n"
    "A120,Slab L2,Tower/L2,8,A110,,,,,start_on_or_after,2026-03-16 08:00\n"
    "M900,Topped out,Tower,0,A120,,,,,,\n"
).encode("utf-8")


def test_a_csv_schedule_is_read_with_its_wbs_links_progress_and_costs() -> None:
    schedule = read_csv_schedule(TOWER)
    assert file_format_of(TOWER) == "csv"
    assert (schedule.project_code, schedule.data_date) == ("TOWER", datetime(2026, 3, 2, 8))
    assert [(n.id, n.parent_id) for n in schedule.wbs.values()] == [
        ("Tower", None), ("Tower/L1", "Tower"), ("Tower/L2", "Tower")]
    slab, columns, scaffold, upper, milestone = schedule.activities
    assert columns.remaining_duration_hours is None  # not started: its planned hours
    assert (slab.wbs_id, slab.budget_cost, slab.physical_percent_complete) == (
        "Tower/L1", 1000.0, 50.0)
    assert slab.remaining_duration_hours == 8.0  # what 50 % leaves of 16 h
    assert milestone.type is ActivityType.FINISH_MILESTONE
    assert upper.constraints[0].kind is ConstraintType.START_ON_OR_AFTER
    assert [(r.predecessor_id, r.successor_id, r.type, r.lag_hours)
            for r in schedule.relationships] == [
        ("A100", "A110", RelationType.FS, 8.0), ("A100", "L1-SS", RelationType.SS, 0.0),
        ("A110", "L1-SS", RelationType.FF, -4.0), ("A110", "A120", RelationType.FS, 0.0),
        ("A120", "M900", RelationType.FS, 0.0)]
    assert schedule.warnings == (CALENDAR_WARNING,)
    assert scaffold.code == "L1-SS"  # a code with a dash is not a lag


def test_the_csv_schedule_schedules_to_the_hand_worked_dates() -> None:
    result = schedule_cpm(read_csv_schedule(TOWER)).by_code()
    # A100 is half done: 8 of its 16 h remain from Monday 08:00, to Monday 17:00; an 8 h
    # lag to Tuesday 17:00; A110's 24 h Wednesday to Friday; A120 not before 16 March.
    assert result["A100"].early_finish == datetime(2026, 3, 2, 17)
    assert result["A110"].early_start == datetime(2026, 3, 4, 8)
    assert result["A110"].early_finish == datetime(2026, 3, 6, 17)
    assert result["A120"].early_start == datetime(2026, 3, 16, 8)
    assert result["M900"].early_finish == datetime(2026, 3, 16, 17)


@pytest.mark.parametrize(("text", "message"), [
    ("code,name\nA,B\n", r"line 1: the header lacks duration_hours"),
    ("code,name,duration_hours\nA,B,ten\n", r"line 2: duration_hours 'ten' is not a number"),
    ("code,name,duration_hours\nA,B,8\nA,C,8\n", r"line 3: activity A appears twice"),
    ("code,name,duration_hours,predecessors\nA,B,8,Z\n", r"line 2: predecessor 'Z' is not"),
    ("code,name,duration_hours,predecessors\nA,B,8,\nC,D,8,A XX\n",
     r"line 3: predecessor 'A XX' is not 'CODE"),
    ("code,name,duration_hours,planned_start\nA,B,8,soon\n", r"line 2: planned_start"),
    ("code,name,duration_hours\nA,B,8\n", "no '# data_date=' line"),
    ("code,name,duration_hours,type\nA,B,8,wbs_summary\n", "unknown type 'wbs_summary'"),
    ("code,name,duration_hours\nA,B,8,9\n", r"line 2: 4 fields, the header has 3"),
], ids=["header", "number", "twice", "unknown-predecessor", "bad-link", "date", "no-date",
        "type", "extra-field"])
def test_a_csv_schedule_that_cannot_be_read_names_its_line(text: str, message: str) -> None:
    with pytest.raises(ScheduleImportError, match=message):
        read_csv_schedule(text.encode())
