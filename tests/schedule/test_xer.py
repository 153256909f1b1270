"""Reading P6 XER files made by hand: tables, encodings, several projects, links into
another project, and files that are broken in the ways real exports are."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from twinsync.errors import ScheduleImportError
from twinsync.schedule import (
    ActivityType,
    ConstraintType,
    FloatType,
    LagCalendar,
    ProgressMode,
    RelationType,
    schedule_cpm,
)
from twinsync.schedule.xer import read_xer

WEEK = ("(0||CalendarData()((0||DaysOfWeek()((0||1()())"
        + "".join(f"(0||{d}()((0||0(s|08:00|f|12:00)())(0||1(s|13:00|f|17:00)())))"
                  for d in range(2, 7))
        + "(0||7()())))(0||Exceptions()((0||0(d|46085)())))))")  # 4 March 2026 off

Table = tuple[str, list[str], list[list[str]]]


def xer(*tables: Table, encoding: str = "cp1252") -> bytes:
    lines = ["ERMHDR\t19.12\t2026-03-01\tProject\tadmin\tplanner\tdbxDatabaseNoName\t"
             "Project Management\tEUR"]
    for name, fields, rows in tables:
        lines += [f"%T\t{name}", "%F\t" + "\t".join(fields)]
        lines += ["%R\t" + "\t".join(row) for row in rows]
    lines.append("%E")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


PROJECT: Table = ("PROJECT", ["proj_id", "proj_short_name", "clndr_id", "last_recalc_date",
                              "plan_start_date", "plan_end_date"],
                  [["1", "TOWER", "10", "2026-03-02 08:00", "2026-03-02 08:00", ""],
                   ["2", "CAR-PARK", "10", "2026-03-09 08:00", "", ""]])
CALENDAR: Table = ("CALENDAR", ["clndr_id", "default_flag", "clndr_name", "proj_id",
                                "day_hr_cnt", "clndr_data"],
                   [["10", "Y", "Site", "", "8", WEEK]])
OPTIONS: Table = ("SCHEDOPTIONS", ["schedoptions_id", "proj_id", "sched_retained_logic",
                                   "sched_progress_override", "sched_float_type",
                                   "sched_calendar_on_relationship_lag"],
                  [["1", "1", "N", "Y", "FT_SF", "rcal_24Hour"]])
WBS: Table = ("PROJWBS", ["wbs_id", "proj_id", "parent_wbs_id", "wbs_short_name", "wbs_name"],
              [["100", "1", "", "TOWER", "Tower"], ["101", "1", "100", "L1", "Level 1"],
               ["200", "2", "", "CP", "Car park"]])
TASK_FIELDS = ["task_id", "proj_id", "wbs_id", "clndr_id", "task_code", "task_name",
               "task_type", "status_code", "target_drtn_hr_cnt", "remain_drtn_hr_cnt",
               "act_start_date", "act_end_date", "cstr_type", "cstr_date",
               "early_start_date", "total_float_hr_cnt"]
TASKS: Table = ("TASK", TASK_FIELDS, [
    ["1001", "1", "101", "10", "A100", "Béton coulé \u2013 dalle", "TT_Task", "TK_Complete",
     "16", "0", "2026-02-26 08:00", "2026-02-27 17:00", "", "", "", ""],
    ["1002", "1", "101", "10", "A110", "Coffrage façade", "TT_Task", "TK_NotStart",
     "16", "16", "", "", "CS_MSOA", "2026-03-03 08:00", "2026-03-03 08:00", "0"],
    ["1003", "1", "100", "10", "M900", "Topped out", "TT_FinMile", "TK_NotStart",
     "0", "0", "", "", "", "", "", ""],
    ["2001", "2", "200", "10", "C100", "Ramp", "TT_Task", "TK_NotStart", "40", "40",
     "", "", "", "", "", ""],
])
PREDS: Table = ("TASKPRED", ["task_pred_id", "task_id", "pred_task_id", "proj_id",
                             "pred_proj_id", "pred_type", "lag_hr_cnt"],
                [["1", "1002", "1001", "1", "1", "PR_FS", "0"],
                 ["2", "1003", "1002", "1", "1", "PR_FF", "16"],
                 ["3", "2001", "1003", "2", "1", "PR_SS", ""]])
FILE = (PROJECT, CALENDAR, OPTIONS, WBS, TASKS, PREDS)


def test_a_project_is_read_with_its_activities_calendar_options_and_links() -> None:
    schedule = read_xer(xer(*FILE), project="TOWER")
    assert schedule.project_code == "TOWER" and schedule.data_date == datetime(2026, 3, 2, 8)
    assert [a.code for a in schedule.activities] == ["A100", "A110", "M900"]
    first, second, milestone = schedule.activities
    # an en dash is byte 0x96 in Windows-1252, a control character in Latin-1
    assert first.name == "Béton coulé \u2013 dalle"
    assert first.actual_finish == datetime(2026, 2, 27, 17)
    assert second.constraints[0].kind is ConstraintType.START_ON_OR_AFTER
    assert second.reported.total_float_hours == 0.0
    assert milestone.type is ActivityType.FINISH_MILESTONE
    assert [(r.predecessor_id, r.successor_id, r.type, r.lag_hours)
            for r in schedule.relationships] == [("1001", "1002", RelationType.FS, 0.0),
                                                 ("1002", "1003", RelationType.FF, 16.0)]
    calendar = schedule.calendars["10"]
    assert calendar.week[0] == ((480, 720), (780, 1020)) and calendar.week[6] == ()
    assert calendar.exceptions == {date(2026, 3, 4): ()}
    assert schedule.options.lag_calendar is LagCalendar.TWENTY_FOUR_HOUR
    assert schedule.options.progress is ProgressMode.PROGRESS_OVERRIDE
    assert schedule.options.float_type is FloatType.START
    assert schedule.wbs["101"].parent_id == "100" and "200" not in schedule.wbs


def test_a_relationship_into_another_project_is_reported_not_dropped() -> None:
    tower = read_xer(xer(*FILE), project="1")
    assert len(tower.external_relationships) == 1
    outside = tower.external_relationships[0]
    assert (outside.activity_id, outside.other_activity_id, outside.other_project_id) == (
        "1003", "2001", "2")
    assert not outside.other_is_predecessor and outside.line == 27
    car_park = read_xer(xer(*FILE), project="CAR-PARK")
    assert [a.code for a in car_park.activities] == ["C100"]
    assert car_park.external_relationships[0].other_is_predecessor
    assert car_park.relationships == ()


def test_a_file_of_two_projects_asks_which_one() -> None:
    with pytest.raises(ScheduleImportError, match=r"2 projects: TOWER \(id 1\), CAR-PARK"):
        read_xer(xer(*FILE))
    with pytest.raises(ScheduleImportError, match="no project 'DEPOT'"):
        read_xer(xer(*FILE), project="DEPOT")


def test_the_schedule_read_from_a_file_can_be_scheduled() -> None:
    found = schedule_cpm(read_xer(xer(*FILE), project="TOWER")).by_code()
    # start on or after Tuesday; 16 hours over Tuesday and Thursday (Wednesday is off)
    assert found["A110"].early_start == datetime(2026, 3, 3, 8)
    assert found["A110"].early_finish == datetime(2026, 3, 5, 17)
    # FF with a 16-hour lag on the 24-hour calendar: from Thursday 17:00 to Friday 09:00
    assert found["M900"].early_finish == datetime(2026, 3, 6, 9)


def test_a_utf8_file_and_a_cp1252_file_read_the_same() -> None:
    as_cp1252 = read_xer(xer(*FILE), project="1")
    as_utf8 = read_xer(xer(*FILE, encoding="utf-8"), project="1")
    assert as_cp1252.activities == as_utf8.activities


def test_lines_may_end_in_a_lone_carriage_return_or_a_line_feed() -> None:
    crlf = xer(*FILE)
    for ending in (b"\r", b"\n"):
        other = read_xer(crlf.replace(b"\r\n", ending), project="1")
        assert other.activities == read_xer(crlf, project="1").activities


def test_empty_fields_and_rows_short_of_trailing_fields_are_read() -> None:
    short = ("TASK", TASK_FIELDS, [["1001", "1", "", "10", "A100", "", "TT_Task",
                                    "TK_NotStart", "8"]])
    schedule = read_xer(xer(PROJECT, CALENDAR, short), project="1")
    activity = schedule.activities[0]
    assert activity.remaining_duration_hours is None and activity.constraints == ()
    assert activity.wbs_id is None and activity.name == ""
    assert schedule.options.lag_calendar is LagCalendar.PREDECESSOR  # no SCHEDOPTIONS


def test_an_activity_on_a_calendar_the_file_lacks_goes_on_the_default_with_a_warning() -> None:
    odd = ("TASK", TASK_FIELDS, [["1001", "1", "", "99", "A100", "", "TT_Task",
                                  "TK_NotStart", "8"]])
    schedule = read_xer(xer(PROJECT, CALENDAR, odd), project="1")
    assert schedule.activities[0].calendar_id == "10"
    assert "calendar '99'" in schedule.warnings[0]


@pytest.mark.parametrize(("text", "line", "what"), [
    (b"%T\tPROJECT\n", 1, "ERMHDR"),
    (b"ERMHDR\t19\n%T\tPROJECT\n%F\tproj_id\n%R\t1\nhello\n", 5, "expected %T"),
    (b"ERMHDR\t19\n%T\tPROJECT\n%R\t1\n", 3, "before its table"),
    (b"ERMHDR\t19\n%T\tPROJECT\n%F\tproj_id\n%R\t1\t2\n", 4, "2 fields"),
    (b"ERMHDR\t19\n%T\tPROJECT\n%F\tproj_id\n%T\tPROJECT\n", 4, "appears twice"),
    (b"ERMHDR\t19\n%T\tPROJECT\n%F\tproj_id\n%E\n%R\t1\n", 5, "after the %E"),
])
def test_a_malformed_file_fails_with_its_line(text: bytes, line: int, what: str) -> None:
    with pytest.raises(ScheduleImportError, match=what) as caught:
        read_xer(text)
    assert caught.value.line == line and f"line {line}" in str(caught.value)


def test_a_bad_field_names_its_line_and_nothing_is_imported() -> None:
    bad_date = ("TASK", TASK_FIELDS, [
        ["1001", "1", "", "10", "A100", "", "TT_Task", "TK_Active", "8", "4",
         "2026-02-30 08:00"]])
    with pytest.raises(ScheduleImportError, match="line 11: act_start_date") as caught:
        read_xer(xer(PROJECT, CALENDAR, bad_date), project="1")
    assert caught.value.reason == "bad_date"
    bad_number = ("TASK", TASK_FIELDS, [
        ["1001", "1", "", "10", "A100", "", "TT_Task", "TK_NotStart", "eight"]])
    with pytest.raises(ScheduleImportError, match="target_drtn_hr_cnt 'eight'"):
        read_xer(xer(PROJECT, CALENDAR, bad_number), project="1")


def test_a_relationship_to_an_activity_the_file_lacks_is_an_error() -> None:
    dangling = ("TASKPRED", PREDS[1], [["1", "1002", "4040", "1", "1", "PR_FS", "0"]])
    with pytest.raises(ScheduleImportError, match="activity '4040'"):
        read_xer(xer(PROJECT, CALENDAR, TASKS, dangling), project="1")


def test_broken_calendar_data_names_the_calendar_and_its_line() -> None:
    broken = ("CALENDAR", CALENDAR[1], [["10", "Y", "Site", "", "8", "(0||CalendarData()(("]])
    with pytest.raises(ScheduleImportError, match="line 8: calendar Site") as caught:
        read_xer(xer(PROJECT, broken, TASKS), project="1")
    assert caught.value.line == 8


@pytest.mark.parametrize(("retained", "override", "float_code", "lag_code", "expected"), [
    ("Y", "N", "FT_FF", "rcal_Predecessor",
     (ProgressMode.RETAINED_LOGIC, FloatType.FINISH, LagCalendar.PREDECESSOR)),
    ("N", "N", "FT_SmallFlt", "rcal_Successor",
     (ProgressMode.ACTUAL_DATES, FloatType.SMALLEST, LagCalendar.SUCCESSOR)),
    ("N", "Y", "", "rcal_ProjDefault",
     (ProgressMode.PROGRESS_OVERRIDE, FloatType.FINISH, LagCalendar.PROJECT_DEFAULT)),
])
def test_scheduling_options_are_read_from_schedoptions(
        retained: str, override: str, float_code: str, lag_code: str,
        expected: tuple[ProgressMode, FloatType, LagCalendar]) -> None:
    options = ("SCHEDOPTIONS", OPTIONS[1], [["1", "1", retained, override, float_code,
                                             lag_code]])
    read = read_xer(xer(PROJECT, CALENDAR, options, TASKS), project="1").options
    assert (read.progress, read.float_type, read.lag_calendar) == expected


def test_a_project_without_a_short_name_fails_with_its_line_not_a_key_error() -> None:
    # proj_short_name is optional to the reader; its error messages must not need it
    fields = ["proj_id", "clndr_id", "last_recalc_date", "plan_start_date"]
    undated: Table = ("PROJECT", fields, [["1", "10", "", ""]])
    with pytest.raises(ScheduleImportError, match="line 4: project 1 has neither"):
        read_xer(xer(undated, CALENDAR, TASKS))
    uncalendared: Table = ("PROJECT", fields, [["1", "99", "2026-03-02 08:00", ""]])
    with pytest.raises(ScheduleImportError, match="line 4: project 1 names default calendar"):
        read_xer(xer(uncalendared, CALENDAR, TASKS))
