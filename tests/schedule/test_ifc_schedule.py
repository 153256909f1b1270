"""Reading an IFC4 work schedule made by hand: nested tasks as the WBS, task times,
sequences with lags, the elements each task builds by GlobalId; scheduled to hand-worked
dates; and files that must fail clearly."""

from __future__ import annotations

from datetime import datetime

import pytest

from twinsync.errors import ScheduleImportError
from twinsync.schedule import ActivityType, RelationType, schedule_cpm
from twinsync.schedule.files import file_format_of
from twinsync.schedule.ifc_schedule import CALENDAR_WARNING, read_ifc_schedule

from .ifc_files import COLUMN, SLAB, gid, tower_ifc


def test_a_work_schedule_is_read_with_its_tasks_sequences_and_elements() -> None:
    schedule = read_ifc_schedule(tower_ifc())
    assert file_format_of(tower_ifc()) == "ifc"
    assert (schedule.project_code, schedule.data_date) == ("WS-1", datetime(2026, 3, 2, 8))
    assert [a.code for a in schedule.activities] == ["A100", "A110", "M900"]
    assert [(n.code, n.parent_id) for n in schedule.wbs.values()] == [("L1", None)]
    slab, columns, milestone = schedule.activities
    assert slab.wbs_id == gid("L1") and milestone.wbs_id is None
    assert (slab.planned_duration_hours, slab.physical_percent_complete) == (16.0, 50.0)
    assert slab.actual_start == datetime(2026, 3, 2, 8)
    # no ScheduleDuration: the work between its planned dates, Thursday to Monday
    assert columns.planned_duration_hours == 24.0
    assert milestone.type is ActivityType.FINISH_MILESTONE
    first = schedule.relationships[0]
    assert (first.type, first.lag_hours) == (RelationType.FS, 8.0)
    assert schedule.element_links == {gid("A100"): (SLAB,), gid("A110"): (COLUMN,)}
    assert schedule.warnings == (CALENDAR_WARNING,)


def test_the_work_schedule_schedules_to_the_hand_worked_dates() -> None:
    schedule = read_ifc_schedule(tower_ifc())
    result = schedule_cpm(schedule, datetime(2026, 3, 2, 8)).by_code()
    # A100 in progress: 8 h left of 16 from Monday 08:00 (half done) ends Monday 17:00; an
    # 8 h lag to Tuesday 17:00; A110's 24 h from Wednesday 08:00 to Friday 17:00.
    assert result["A100"].early_finish == datetime(2026, 3, 2, 17)
    assert result["A110"].early_start == datetime(2026, 3, 4, 8)
    assert result["M900"].early_finish == datetime(2026, 3, 6, 17)


@pytest.mark.parametrize(("data", "message"), [
    (tower_ifc().replace(b"END-ISO-10303-21;", b""), "truncated"),
    (tower_ifc().replace(b"IFCWORKSCHEDULE", b"IFCWORKPLAN"), "holds no IfcWorkSchedule"),
    (tower_ifc(controlled="()"), "controls no task"),
    (tower_ifc(lag="IFCRATIOMEASURE(0.5)"), "only a lag given as an IfcDuration"),
    (tower_ifc(sequence_type=".USERDEFINED."), "SequenceType USERDEFINED"),
    (tower_ifc().replace(b"'PT16H'", b"'sixteen'"),
     r"task A100 \('Slab L1'\): ScheduleDuration 'sixteen' is not a duration"),
], ids=["truncated", "no-schedule", "no-tasks", "ratio-lag", "sequence", "duration"])
def test_a_work_schedule_that_cannot_be_read_is_refused_clearly(data: bytes,
                                                                message: str) -> None:
    with pytest.raises(ScheduleImportError, match=message):
        read_ifc_schedule(data)
