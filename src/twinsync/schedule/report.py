"""A scheduled project as rows: one per activity, dates as P6 writes them.

>>> format_hours(16.0), format_hours(7.5), format_hours(-0.0), format_hours(None)
('16', '7.5', '0', '')
"""

from __future__ import annotations

from datetime import datetime

from .calendar import format_date
from .cpm import ScheduleResult
from .model import Schedule

COLUMNS = ("code", "early_start", "early_finish", "late_start", "late_finish",
           "total_float_hours", "free_float_hours", "critical")


def format_hours(hours: float | None) -> str:
    """Hours to at most two decimals, without trailing zeros; empty for none."""
    if hours is None:
        return ""
    text = f"{hours:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def activity_rows(result: ScheduleResult) -> list[list[str]]:
    """``COLUMNS`` for every activity, in the schedule's order."""
    return [[a.code, format_date(a.early_start), format_date(a.early_finish),
             format_date(a.late_start), format_date(a.late_finish),
             format_hours(a.total_float_hours), format_hours(a.free_float_hours),
             "true" if a.critical else "false"] for a in result.activities]


def agreement(schedule: Schedule, result: ScheduleResult) -> dict[str, float | int]:
    """How far the computed dates agree with the ones the file's scheduler stored, over the
    activities that are not complete and have them: the share whose early start, early
    finish and total float are each within an hour (P6's figures are hours)."""
    stored = {a.id: a.reported for a in schedule.activities
              if a.actual_finish is None and a.reported.early_start is not None}
    started = {a.id for a in schedule.activities if a.actual_start is not None}
    starts = finishes = floats = float_count = 0
    for computed in result.activities:
        reported = stored.get(computed.id)
        if reported is None:
            continue
        # P6 stores, as a started activity's early start, where its remaining work starts
        early_start = computed.early_start
        if computed.id in started and computed.remaining_start is not None:
            early_start = computed.remaining_start
        starts += _within_an_hour(early_start, reported.early_start)
        finishes += _within_an_hour(computed.early_finish, reported.early_finish)
        if reported.total_float_hours is not None and computed.total_float_hours is not None:
            float_count += 1
            floats += abs(computed.total_float_hours - reported.total_float_hours) < 1
    compared = len(stored)
    return {"compared": compared,
            "early_start": starts / compared if compared else 0.0,
            "early_finish": finishes / compared if compared else 0.0,
            "total_float": floats / float_count if float_count else 0.0}


def _within_an_hour(computed: datetime, reported: datetime | None) -> bool:
    return reported is not None and abs((computed - reported).total_seconds()) < 3600
