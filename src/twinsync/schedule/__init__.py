"""Schedules of the work: activities, relationships and calendars, P6 XER import, and the
critical path method as of a data date.

::

    schedule = read_xer(Path("site.xer").read_bytes(), project="TOWER")
    result = schedule_cpm(schedule)              # early/late dates, floats, critical
"""

from .calendar import WorkCalendar, WorkTime, format_instant, instant, standard_week
from .cpm import ScheduledActivity, ScheduleResult, schedule_cpm
from .model import (
    Activity,
    ActivityType,
    Constraint,
    ConstraintType,
    ExternalRelationship,
    FloatType,
    LagCalendar,
    ProgressMode,
    Relationship,
    RelationType,
    ReportedDates,
    Schedule,
    SchedulingOptions,
    Status,
    WbsNode,
)

__all__ = [
    "Activity",
    "ActivityType",
    "Constraint",
    "ConstraintType",
    "ExternalRelationship",
    "FloatType",
    "LagCalendar",
    "ProgressMode",
    "RelationType",
    "Relationship",
    "ReportedDates",
    "Schedule",
    "ScheduleResult",
    "ScheduledActivity",
    "SchedulingOptions",
    "Status",
    "WbsNode",
    "WorkCalendar",
    "WorkTime",
    "format_instant",
    "instant",
    "schedule_cpm",
    "standard_week",
]
