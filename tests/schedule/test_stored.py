"""Scheduling an XER file again without the dates P6 stored, and comparing with them: the
computed fields are blanked and nothing else moves; matches and differences are counted
field by field, and each difference says what the activity has."""

from __future__ import annotations

from datetime import datetime

from twinsync.schedule import report, schedule_cpm
from twinsync.schedule.stored import COMPUTED_FIELDS, compare_with_stored, strip_computed_fields
from twinsync.schedule.xer import read_xer

TASK_FIELDS = [
    "task_id",
    "act_start_date",
    "proj_id",
    "clndr_id",
    "task_code",
    "task_name",
    "task_type",
    "status_code",
    "target_drtn_hr_cnt",
    "remain_drtn_hr_cnt",
    "cstr_type",
    "cstr_date",
    "early_start_date",
    "early_end_date",
    "late_start_date",
    "late_end_date",
    "total_float_hr_cnt",
    "free_float_hr_cnt",
]
# a calendar without data works Monday to Friday from 08:00 for day_hr_cnt hours; data
# date Monday 2 March 2026. A (16 h) fills Monday and Tuesday, B (8 h) follows on
# Wednesday: both critical. The dates stored for A are right; B's are a day late.
ROWS = [
    [
        "1",
        "",
        "7",
        "10",
        "A",
        "Fondations",
        "TT_Task",
        "TK_NotStart",
        "16",
        "16",
        "",
        "",
        "2026-03-02 08:00",
        "2026-03-03 16:00",
        "2026-03-02 08:00",
        "2026-03-03 16:00",
        "0",
        "0",
    ],
    [
        "2",
        "",
        "7",
        "10",
        "B",
        "Élévation",
        "TT_Task",
        "TK_NotStart",
        "8",
        "8",
        "CS_MSOA",
        "2026-03-02 08:00",
        "2026-03-05 08:00",
        "2026-03-05 16:00",
        "2026-03-04 08:00",
        "2026-03-04 16:00",
        "-8",
        "0",
    ],
]


def xer_file(rows: list[list[str]] = ROWS) -> bytes:
    lines = [
        "ERMHDR\t20.12\t2026-03-01\tProject\tadmin\tplanner\tdbx\tProject Management\tEUR",
        "%T\tPROJECT",
        "%F\tproj_id\tproj_short_name\tclndr_id\tlast_recalc_date\tscd_end_date",
        "%R\t7\tSITE\t10\t2026-03-02 08:00\t2026-03-05 16:00",
        "%T\tCALENDAR",
        "%F\tclndr_id\tdefault_flag\tclndr_name\tday_hr_cnt\tclndr_data",
        "%R\t10\tY\tSite\t8\t",
        "%T\tTASK",
        "%F\t" + "\t".join(TASK_FIELDS),
        *("%R\t" + "\t".join(row) for row in rows),
        "%T\tTASKPRED",
        "%F\ttask_pred_id\ttask_id\tpred_task_id\tproj_id\tpred_proj_id\t"
        "pred_type\tlag_hr_cnt\taref\tarls",
        "%R\t1\t2\t1\t7\t7\tPR_FS\t0\t2026-03-03 16:00\t2026-03-04 08:00",
        "%E",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def test_stripping_blanks_what_p6_computes_and_keeps_every_other_byte() -> None:
    original = xer_file()
    stripped = strip_computed_fields(original)
    assert b"\xc9l\xe9vation" in stripped and stripped.count(b"\r\n") == original.count(b"\r\n")
    schedule = read_xer(stripped)
    assert all(
        a.reported.early_start is None
        and a.reported.total_float_hours is None
        and a.reported.late_finish is None
        for a in schedule.activities
    )
    # what a planner typed is still there: durations, the constraint, the link
    assert read_xer(original).activities[1].constraints == schedule.activities[1].constraints
    assert [a.planned_duration_hours for a in schedule.activities] == [16, 8]
    assert len(schedule.relationships) == 1
    # only the named fields went: blanking them in the original by hand gives the same bytes
    lines = original.split(b"\r\n")
    for index, line in enumerate(lines):
        if line.startswith(b"%R\t") and (
            b"\tTT_Task\t" in line or b"PR_FS" in line or b"SITE" in line
        ):
            fields = line.split(b"\t")
            table = (
                b"TASK" if b"TT_Task" in line else b"TASKPRED" if b"PR_FS" in line else b"PROJECT"
            )
            header = next(
                lines[i] for i in range(index, -1, -1) if lines[i].startswith(b"%F")
            ).split(b"\t")
            lines[index] = b"\t".join(
                b"" if header[i] in COMPUTED_FIELDS[table] else value
                for i, value in enumerate(fields)
            )
    assert stripped == b"\r\n".join(lines)


def test_the_comparison_counts_each_field_and_says_what_a_differing_activity_has() -> None:
    original = xer_file()
    result = schedule_cpm(read_xer(strip_computed_fields(original)))
    agreement = compare_with_stored(read_xer(original), result)
    assert agreement.compared == 2 and agreement.all_fields == 1
    assert agreement.matching == {
        "early_start": 1,
        "early_finish": 1,
        "late_start": 2,
        "late_finish": 2,
        "total_float": 1,
    }
    (different,) = agreement.mismatches
    assert different.code == "B"
    assert different.fields == ("early_start", "early_finish", "total_float")
    assert different.computed == {
        "early_start": "2026-03-04 08:00",
        "early_finish": "2026-03-04 16:00",
        "total_float": "0.0",
    }
    assert different.stored["early_start"] == "2026-03-05 08:00"
    assert "constraint start_on_or_after" in different.traits and "link FS" in different.traits
    assert agreement.traits["type task"] == 1
    assert agreement.figures()["all_fields"] == 0.5
    assert result.by_code()["B"].early_start == datetime(2026, 3, 4, 8, 0)


def test_p6s_early_start_of_a_started_activity_is_where_its_remaining_work_starts() -> None:
    # A started on Friday 27 February with 8 h left: P6 stores the data date, where the
    # rest of the work goes on, as its early start (as the Cairo export does), and B's
    # dates follow from there
    started = [
        "1",
        "2026-02-27 08:00",
        "7",
        "10",
        "A",
        "Fondations",
        "TT_Task",
        "TK_Active",
        "16",
        "8",
        "",
        "",
        "2026-03-02 08:00",
        "2026-03-02 16:00",
        "2026-03-02 08:00",
        "2026-03-02 16:00",
        "0",
        "0",
    ]
    following = [
        "2",
        "",
        "7",
        "10",
        "B",
        "Élévation",
        "TT_Task",
        "TK_NotStart",
        "8",
        "8",
        "",
        "",
        "2026-03-03 08:00",
        "2026-03-03 16:00",
        "2026-03-03 08:00",
        "2026-03-03 16:00",
        "0",
        "0",
    ]
    original = xer_file([started, following])
    result = schedule_cpm(read_xer(strip_computed_fields(original)))
    assert result.by_code()["A"].early_start == datetime(2026, 2, 27, 8, 0)  # its actual
    agreement = compare_with_stored(read_xer(original), result)
    assert agreement.all_fields == agreement.compared == 2
    # the figure ``schedule cpm --json`` prints reads P6's field the same way
    assert report.agreement(read_xer(original), result)["early_start"] == 1.0
