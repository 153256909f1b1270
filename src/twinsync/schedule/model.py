"""What a schedule is made of: activities, relationships, WBS nodes and scheduling options.

Durations are hours of work on the activity's own calendar, lags hours on the calendar the
options name, as P6 keeps them. Dates are naive datetimes in the schedule's local time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .calendar import WorkCalendar


class ActivityType(StrEnum):
    TASK = "task"
    START_MILESTONE = "start_milestone"
    FINISH_MILESTONE = "finish_milestone"
    LEVEL_OF_EFFORT = "level_of_effort"
    WBS_SUMMARY = "wbs_summary"


class RelationType(StrEnum):
    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


class ConstraintType(StrEnum):
    START_ON = "start_on"
    START_ON_OR_AFTER = "start_on_or_after"
    START_ON_OR_BEFORE = "start_on_or_before"
    FINISH_ON = "finish_on"
    FINISH_ON_OR_AFTER = "finish_on_or_after"
    FINISH_ON_OR_BEFORE = "finish_on_or_before"
    AS_LATE_AS_POSSIBLE = "as_late_as_possible"
    MANDATORY_START = "mandatory_start"
    MANDATORY_FINISH = "mandatory_finish"


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"


class LagCalendar(StrEnum):
    """Which calendar relationship lags are counted on (P6's scheduling options)."""

    PREDECESSOR = "predecessor"
    SUCCESSOR = "successor"
    TWENTY_FOUR_HOUR = "24_hour"
    PROJECT_DEFAULT = "project_default"


class FloatType(StrEnum):
    """Total float as late start minus early start, late finish minus early finish, or the
    smaller of the two."""

    START = "start"
    FINISH = "finish"
    SMALLEST = "smallest"


class ProgressMode(StrEnum):
    """How progressed activities that started out of sequence are scheduled."""

    RETAINED_LOGIC = "retained_logic"
    PROGRESS_OVERRIDE = "progress_override"
    ACTUAL_DATES = "actual_dates"


@dataclass(frozen=True, slots=True)
class Constraint:
    kind: ConstraintType
    date: datetime | None = None  # none for as late as possible


@dataclass(frozen=True, slots=True)
class ReportedDates:
    """What the file's own scheduler last computed, kept to compare with."""

    early_start: datetime | None = None
    early_finish: datetime | None = None
    late_start: datetime | None = None
    late_finish: datetime | None = None
    remaining_start: datetime | None = None  # where the remaining work starts (P6 restart_date)
    remaining_finish: datetime | None = None
    total_float_hours: float | None = None
    free_float_hours: float | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    code: str
    name: str
    type: ActivityType
    calendar_id: str
    wbs_id: str | None = None
    planned_duration_hours: float = 0.0
    remaining_duration_hours: float | None = None  # none: the planned duration
    planned_start: datetime | None = None
    planned_finish: datetime | None = None
    actual_start: datetime | None = None
    actual_finish: datetime | None = None
    physical_percent_complete: float = 0.0
    constraints: tuple[Constraint, ...] = ()
    reported: ReportedDates = field(default_factory=ReportedDates)
    budget_cost: float = 0.0  # at completion, from its resource assignments and expenses
    actual_cost: float = 0.0  # to the data date

    @property
    def status(self) -> Status:
        if self.actual_finish is not None:
            return Status.COMPLETE
        if self.actual_start is not None:
            return Status.IN_PROGRESS
        return Status.NOT_STARTED

    @property
    def duration_percent_complete(self) -> float:
        """Share of the planned duration done, from the remaining duration (0..100)."""
        if self.actual_finish is not None:
            return 100.0
        if self.planned_duration_hours <= 0 or self.remaining_duration_hours is None:
            return 0.0
        done = 1.0 - self.remaining_duration_hours / self.planned_duration_hours
        return max(0.0, min(100.0, 100.0 * done))

    @property
    def is_milestone(self) -> bool:
        return self.type in (ActivityType.START_MILESTONE, ActivityType.FINISH_MILESTONE)


@dataclass(frozen=True, slots=True)
class Relationship:
    predecessor_id: str
    successor_id: str
    type: RelationType = RelationType.FS
    lag_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class ExternalRelationship:
    """A relationship between an activity of this project and one of another project.

    It is kept and reported, not scheduled: the other project's dates are not this
    schedule's to compute."""

    activity_id: str  # the activity of this project
    other_activity_id: str
    other_project_id: str
    other_is_predecessor: bool
    type: RelationType
    lag_hours: float
    line: int  # where the relationship is in the file


@dataclass(frozen=True, slots=True)
class WbsNode:
    id: str
    code: str
    name: str
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class SchedulingOptions:
    lag_calendar: LagCalendar = LagCalendar.PREDECESSOR
    float_type: FloatType = FloatType.FINISH
    progress: ProgressMode = ProgressMode.RETAINED_LOGIC


@dataclass(frozen=True)
class Schedule:
    """One project's schedule as of its data date, ready to be scheduled."""

    project_id: str
    project_code: str
    data_date: datetime
    default_calendar_id: str
    calendars: Mapping[str, WorkCalendar]
    activities: tuple[Activity, ...]
    relationships: tuple[Relationship, ...]
    wbs: Mapping[str, WbsNode] = field(default_factory=dict)
    options: SchedulingOptions = field(default_factory=SchedulingOptions)
    name: str = ""
    must_finish_by: datetime | None = None
    # the project's planned start: work not yet started is never scheduled before it, even
    # when the data date is earlier (P6 does so: see docs/SCHEDULE.md, real exports)
    planned_start: datetime | None = None
    external_relationships: tuple[ExternalRelationship, ...] = ()
    warnings: tuple[str, ...] = ()
    # the elements the file itself says each activity builds: activity id → IFC GlobalIds
    element_links: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
