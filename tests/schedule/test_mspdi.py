"""Reading MS Project XML (MSPDI) made by hand: calendars with a base and exceptions,
summary tasks as the WBS, links with lags, constraints, costs; scheduled to hand-worked
dates; and files broken in the ways that must fail clearly."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from twinsync.errors import ScheduleImportError
from twinsync.schedule import ActivityType, ConstraintType, RelationType, schedule_cpm
from twinsync.schedule.files import file_format_of, read_schedule
from twinsync.schedule.mspdi import read_mspdi

from .mspdi_files import TASKS, link, task, tower_mspdi


def test_a_project_is_read_with_its_calendars_wbs_tasks_and_links() -> None:
    schedule = read_mspdi(tower_mspdi())
    assert (schedule.project_code, schedule.name) == ("Tower.xml", "Tower")
    assert schedule.data_date == datetime(2026, 3, 2, 8)
    assert [a.code for a in schedule.activities] == ["2", "3", "5", "6"]
    assert {n.id: (n.code, n.parent_id) for n in schedule.wbs.values()} == {
        "1": ("1", None), "4": ("2", None)}
    slab, columns, upper, milestone = schedule.activities
    assert (slab.wbs_id, slab.planned_duration_hours, slab.budget_cost) == ("1", 16.0, 1000.0)
    assert slab.planned_finish == datetime(2026, 3, 3, 17)
    assert columns.calendar_id == "2" and upper.wbs_id == "4" and milestone.wbs_id is None
    assert upper.constraints[0].kind is ConstraintType.START_ON_OR_AFTER
    assert milestone.type is ActivityType.FINISH_MILESTONE
    first = schedule.relationships[0]
    assert (first.predecessor_id, first.successor_id, first.type, first.lag_hours) == (
        "2", "3", RelationType.FS, 8.0)
    six_days = schedule.calendars["2"]
    assert six_days.week[5] == ((480, 720),)  # Saturday mornings, its own
    assert six_days.week[0] == ((480, 720), (780, 1020))  # Monday, from its base
    assert six_days.exceptions[date(2026, 3, 4)] == ()  # the base's holiday
    assert "9" not in schedule.calendars  # no task uses the calendar without working days


def test_the_project_schedules_to_the_hand_worked_dates() -> None:
    result = schedule_cpm(read_mspdi(tower_mspdi())).by_code()
    # 16 h Monday and Tuesday; an 8 h lag on the project calendar skips Wednesday's holiday
    # and ends Thursday 17:00; 24 h on the six-day calendar: Friday 8, Saturday 4, Monday 8,
    # Tuesday 4.
    assert result["2"].early_finish == datetime(2026, 3, 3, 17)
    assert result["3"].early_start == datetime(2026, 3, 6, 8)
    assert result["3"].early_finish == datetime(2026, 3, 10, 12)
    assert result["5"].early_start == datetime(2026, 3, 16, 8)  # start no earlier than
    assert result["6"].early_finish == datetime(2026, 3, 16, 17)


def test_files_are_told_apart_by_their_content() -> None:
    assert file_format_of(b"\xef\xbb\xbf  <?xml version='1.0'?><Project/>") == "mspdi"
    assert file_format_of(b"ERMHDR\t19.12") == "xer"
    assert read_schedule(tower_mspdi()).project_code == "Tower.xml"


@pytest.mark.parametrize(("data", "message"), [
    (b"<Project xmlns='http://schemas.microsoft.com/project'>\n<Tasks>\n</Project>",
     r"line 3: not well-formed XML"),
    (b"<?xml version='1.0'?><!DOCTYPE p [<!ENTITY a 'aaaa'>]><Project>&a;</Project>",
     "declares a DOCTYPE"),
    (b"<Workbook/>", "its root is 'Workbook', not 'Project'"),
    (b"<Project><Name>x</Name></Project>", "no status, current or start date"),
], ids=["broken", "entities", "not-a-project", "no-date"])
def test_a_file_that_is_not_a_readable_project_is_refused_clearly(data: bytes,
                                                                  message: str) -> None:
    with pytest.raises(ScheduleImportError, match=message):
        read_mspdi(data)


@pytest.mark.parametrize(("tasks", "message"), [
    ([task(7, "Odd", 1, "<Duration>sixteen hours</Duration>")],
     r"task UID 7 \('Odd'\): Duration 'sixteen hours' is not a duration"),
    ([task(7, "Late", 1, "<Duration>PT8H0M0S</Duration>" + link(99))],
     "names task UID '99', which the file does not hold"),
    ([task(7, "A", 1), task(7, "B", 1)], "UID 7 appears twice"),
    ([task(7, "Pinned", 1, "<ConstraintType>2</ConstraintType>")], "has no ConstraintDate"),
    ([task(7, "Idle", 1, "<CalendarUID>9</CalendarUID>")], "has no working day"),
    ([task(7, "Linked", 1, link(2, kind=8)), *TASKS[2:3]], "unknown type '8'"),
    ([task(7, "Dated", 1, "<ActualStart>yesterday</ActualStart>")], "ActualStart"),
], ids=["duration", "missing-predecessor", "duplicate", "constraint", "calendar", "link",
        "date"])
def test_a_task_that_cannot_be_read_fails_the_import_naming_it(tasks: list[str],
                                                               message: str) -> None:
    with pytest.raises(ScheduleImportError, match=message):
        read_mspdi(tower_mspdi(tasks))
