"""A scheduled project as rows: one per activity, dates as P6 writes them.

>>> format_hours(16.0), format_hours(7.5), format_hours(-0.0), format_hours(None)
('16', '7.5', '0', '')
"""

from __future__ import annotations

from datetime import datetime

from .cpm import ScheduleResult

COLUMNS = ("code", "early_start", "early_finish", "late_start", "late_finish",
           "total_float_hours", "free_float_hours", "critical")


def format_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


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
