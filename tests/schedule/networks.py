"""Small schedules built by hand for the tests: a Monday-to-Friday 08:00-16:00 calendar
and the week of Monday 2 March 2026 (the data date, 08:00)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from twinsync.schedule import (
    Activity,
    ActivityType,
    Relationship,
    RelationType,
    Schedule,
    SchedulingOptions,
    WorkCalendar,
    standard_week,
)
from twinsync.schedule.calendar import twenty_four_hour

MONDAY = datetime(2026, 3, 2, 8, 0)
STANDARD = WorkCalendar("std", "Mon-Fri 08-16", standard_week(8 * 60, 16 * 60))
#: the same week, with Wednesday 4 March 2026 a holiday
HOLIDAY = WorkCalendar("hol", "Mon-Fri, 4 March off", standard_week(8 * 60, 16 * 60),
                       {date(2026, 3, 4): ()})
ROUND_THE_CLOCK = twenty_four_hour("24h")
CALENDARS = {c.id: c for c in (STANDARD, HOLIDAY, ROUND_THE_CLOCK)}


def at(day: int, hour: int = 8, minute: int = 0) -> datetime:
    """A moment of March 2026."""
    return datetime(2026, 3, day, hour, minute)


def task(code: str, hours: float, calendar: str = "std", **fields: Any) -> Activity:
    kind = fields.pop("type", ActivityType.TASK)
    return Activity(id=code, code=code, name=f"activity {code}", type=kind,
                    calendar_id=calendar, planned_duration_hours=hours, **fields)


def link(predecessor: str, successor: str, kind: str = "FS", lag: float = 0.0) -> Relationship:
    return Relationship(predecessor, successor, RelationType(kind), lag)


def network(activities: list[Activity], links: list[Relationship],
            data_date: datetime = MONDAY, **fields: Any) -> Schedule:
    options = fields.pop("options", SchedulingOptions())
    return Schedule(project_id="1", project_code="TEST", data_date=data_date,
                    default_calendar_id="std", calendars=CALENDARS,
                    activities=tuple(activities), relationships=tuple(links),
                    options=options, **fields)
