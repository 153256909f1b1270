"""The critical path method as of a data date, in work minutes over each activity's calendar.

Each activity is scheduled in *positions* of its own calendar (minutes of work since the
data date's midnight, see ``calendar.WorkTime``); a relationship hands an instant from one
calendar to another, with its lag counted on the calendar the options name. Ordinary
activities drive the network. Level-of-effort and WBS-summary activities do not: they are
fitted afterwards, an LOE between its links, a WBS summary over the activities of its WBS
branch.

Forward pass, for every activity in topological order: its start position is the latest of
the data date (for work not started, the project's planned start when that is later),
every start-type bound from a predecessor (FS, SS) and every finish-type bound (FF, SF)
less its duration, then its constraints. The backward pass mirrors it from
the project finish (or the must-finish-by date). A progressed activity keeps its actual
start; its remaining duration follows its predecessors under retained logic and starts at
the data date under progress override. A completed one is fixed at its actual dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..errors import InvalidInput
from .calendar import WorkTime, instant, to_datetime, twenty_four_hour
from .model import (
    Activity,
    ActivityType,
    ConstraintType,
    FloatType,
    LagCalendar,
    ProgressMode,
    RelationType,
    Schedule,
    Status,
)
from .network import Network, build_network
from .spanning import fit_spanning

_START_BOUND = (RelationType.FS, RelationType.SS)  # the successor's start is bounded
_FROM_FINISH = (RelationType.FS, RelationType.FF)  # counted from the predecessor's finish


@dataclass(frozen=True, slots=True)
class ScheduledActivity:
    id: str
    code: str
    early_start: datetime
    early_finish: datetime
    late_start: datetime
    late_finish: datetime
    remaining_start: datetime | None  # where the remaining work starts; none once complete
    total_float_hours: float | None  # none for a completed activity, as P6 leaves it
    free_float_hours: float | None
    critical: bool
    longest_path: bool


@dataclass(frozen=True)
class ScheduleResult:
    data_date: datetime
    project_finish: datetime
    activities: tuple[ScheduledActivity, ...]  # in the schedule's order

    def by_code(self) -> dict[str, ScheduledActivity]:
        return {activity.code: activity for activity in self.activities}


class SchedulingRun:
    """The state of one scheduling run: per activity, instants and positions."""

    def __init__(self, schedule: Schedule, data_date: datetime) -> None:
        self.schedule = schedule
        self.net: Network = build_network(schedule)
        origin_day = data_date.toordinal()
        self.data_date = instant(data_date)
        planned_start = schedule.planned_start
        self.project_start = self.data_date if planned_start is None else instant(planned_start)
        times: dict[str, WorkTime] = {}
        for calendar_id in {a.calendar_id for a in schedule.activities} | {
                schedule.default_calendar_id}:
            calendar = schedule.calendars.get(calendar_id)
            if calendar is None:
                raise InvalidInput(f"no calendar {calendar_id!r} in the schedule",
                                   "unknown_calendar")
            times[calendar_id] = WorkTime(calendar, origin_day)
        self.work = [times[a.calendar_id] for a in schedule.activities]
        self.default_work = times[schedule.default_calendar_id]
        self.clock = WorkTime(twenty_four_hour(), origin_day)
        self.lag_on = schedule.options.lag_calendar
        count = len(schedule.activities)
        self.duration = [0] * count  # remaining work, minutes
        for index, activity in enumerate(schedule.activities):
            if not activity.is_milestone:
                hours = activity.remaining_duration_hours
                if hours is None or hours < 0:
                    hours = activity.planned_duration_hours
                self.duration[index] = max(0, round(hours * 60))
        self.early_start = [0] * count
        self.early_finish = [0] * count
        self.late_start = [0] * count
        self.late_finish = [0] * count
        # positions of the remaining work on the activity's own calendar
        self.start_pos = [0] * count
        self.finish_pos = [0] * count
        self.late_start_pos = [0] * count
        self.late_finish_pos = [0] * count
        self.driving: list[list[int]] = [[] for _ in range(count)]
        self.anchor = self.data_date  # where open ends finish late: set before the backward pass

    # -- lags --------------------------------------------------------------------------

    def _lag_work(self, predecessor: int, successor: int) -> WorkTime:
        if self.lag_on is LagCalendar.SUCCESSOR:
            return self.work[successor]
        if self.lag_on is LagCalendar.TWENTY_FOUR_HOUR:
            return self.clock
        if self.lag_on is LagCalendar.PROJECT_DEFAULT:
            return self.default_work
        return self.work[predecessor]

    def shift(self, moment: int, lag: int, predecessor: int, successor: int) -> int:
        if lag == 0:
            return moment
        work = self._lag_work(predecessor, successor)
        return work.finish_at(work.position(moment) + lag)

    def unshift(self, moment: int, lag: int, predecessor: int, successor: int) -> int:
        if lag == 0:
            return moment
        work = self._lag_work(predecessor, successor)
        return work.start_at(work.position(moment) - lag)

    # -- faces of a position --------------------------------------------------------------

    def start_instant(self, index: int, position: int) -> int:
        if self.schedule.activities[index].type is ActivityType.FINISH_MILESTONE:
            return self.work[index].finish_at(position)
        return self.work[index].start_at(position)

    def finish_instant(self, index: int, position: int) -> int:
        activity = self.schedule.activities[index]
        if self.duration[index] == 0 and activity.type is not ActivityType.FINISH_MILESTONE:
            return self.work[index].start_at(position)
        return self.work[index].finish_at(position)

    # -- forward -------------------------------------------------------------------------

    def start_bound(self, link: int) -> int:
        """The lowest start position the link allows its successor, on the successor's
        calendar, from the predecessor's early dates."""
        net = self.net
        predecessor, successor = net.pred[link], net.succ[link]
        kind = net.kind[link]
        source = (self.early_finish if kind in _FROM_FINISH else self.early_start)[predecessor]
        moment = self.shift(source, net.lag[link], predecessor, successor)
        position = self.work[successor].position(moment)
        if kind in _START_BOUND:
            return position
        return position - self.duration[successor]

    def forward(self) -> None:
        activities = self.schedule.activities
        override = self.schedule.options.progress is not ProgressMode.RETAINED_LOGIC
        for index in self.net.order:
            activity = activities[index]
            work = self.work[index]
            status = activity.status
            if status is Status.COMPLETE:
                assert activity.actual_start is not None and activity.actual_finish is not None
                self.fix_actual(index, instant(activity.actual_start),
                                 instant(activity.actual_finish))
                continue
            lowest = work.position(self.data_date)
            if status is Status.NOT_STARTED and self.project_start > self.data_date:
                lowest = work.position(self.project_start)
            driving: list[int] = []
            if not (status is Status.IN_PROGRESS and override):
                for link in self.net.incoming[index]:
                    bound = self.start_bound(link)
                    if bound > lowest:
                        lowest, driving = bound, [link]
                    elif bound == lowest:
                        driving.append(link)
            if status is Status.NOT_STARTED:
                constrained = self._constrain_early(activity, index, lowest)
                if constrained != lowest:
                    lowest, driving = constrained, []
            self.driving[index] = driving
            self.start_pos[index] = lowest
            self.finish_pos[index] = lowest + self.duration[index]
            if status is Status.IN_PROGRESS:
                assert activity.actual_start is not None
                self.early_start[index] = instant(activity.actual_start)
            else:
                self.early_start[index] = self.start_instant(index, lowest)
            self.early_finish[index] = self.finish_instant(index, self.finish_pos[index])

    def fix_actual(self, index: int, start: int, finish: int) -> None:
        work = self.work[index]
        self.early_start[index] = self.late_start[index] = start
        self.early_finish[index] = self.late_finish[index] = finish
        self.start_pos[index] = self.late_start_pos[index] = work.position(start)
        self.finish_pos[index] = self.late_finish_pos[index] = work.position(finish)

    def _constrain_early(self, activity: Activity, index: int, lowest: int) -> int:
        work, duration = self.work[index], self.duration[index]
        mandatory: int | None = None
        for constraint in activity.constraints:
            if constraint.date is None:
                continue
            at = work.position(instant(constraint.date))
            kind = constraint.kind
            if kind in (ConstraintType.START_ON, ConstraintType.START_ON_OR_AFTER):
                lowest = max(lowest, at)
            elif kind in (ConstraintType.FINISH_ON, ConstraintType.FINISH_ON_OR_AFTER):
                lowest = max(lowest, at - duration)
            elif kind is ConstraintType.MANDATORY_START:
                mandatory = at
            elif kind is ConstraintType.MANDATORY_FINISH:
                mandatory = at - duration
        # a mandatory date holds whatever the logic says, as P6 does
        return lowest if mandatory is None else mandatory

    # -- backward ------------------------------------------------------------------------

    def finish_bound(self, link: int, early: bool = False) -> int:
        """The highest finish position the link allows its predecessor, on the
        predecessor's calendar, from the successor's late (or early) dates."""
        net = self.net
        predecessor, successor = net.pred[link], net.succ[link]
        kind = net.kind[link]
        if kind in _START_BOUND:  # of a started successor: where its remaining work starts
            position = (self.start_pos if early else self.late_start_pos)[successor]
        else:
            position = (self.finish_pos if early else self.late_finish_pos)[successor]
        # the latest instant with that much work done: a successor waiting over a weekend
        # leaves its predecessor the weekend, so the passes undo each other exactly
        source = self.work[successor].start_at(position)
        moment = self.unshift(source, net.lag[link], predecessor, successor)
        position = self.work[predecessor].position(moment)
        if kind in _FROM_FINISH:
            return position
        return position + self.duration[predecessor]

    def counts_backward(self, link: int) -> bool:
        """Whether a link bounds its predecessor's late dates."""
        activities = self.schedule.activities
        successor = activities[self.net.succ[link]]
        if successor.status is Status.COMPLETE:
            return False
        if successor.status is Status.IN_PROGRESS and (
                self.schedule.options.progress is not ProgressMode.RETAINED_LOGIC):
            return False
        # a started predecessor's start is history: only its finish can be bounded
        started = activities[self.net.pred[link]].status is Status.IN_PROGRESS
        return not (started and self.net.kind[link] not in _FROM_FINISH)

    def backward(self) -> None:
        activities = self.schedule.activities
        for index in reversed(self.net.order):
            activity = activities[index]
            if activity.status is Status.COMPLETE:
                continue
            work = self.work[index]
            highest: int | None = None
            finish_bound = False
            for link in self.net.outgoing[index]:
                if not self.counts_backward(link):
                    continue
                bound = self.finish_bound(link)
                highest = bound if highest is None else min(highest, bound)
                finish_bound = finish_bound or self.net.kind[link] in _FROM_FINISH
            if highest is None or not finish_bound:
                # an open finish (no successor, or only SS/SF ones, which hang on its
                # start) finishes by the project's finish at the latest, as P6 does
                anchor = work.position(self.anchor)
                highest = anchor if highest is None else min(highest, anchor)
            if activity.status is Status.NOT_STARTED:
                highest = self._constrain_late(activity, index, highest)
            self.late_finish_pos[index] = highest
            self.late_start_pos[index] = highest - self.duration[index]
            self.late_finish[index] = self.finish_instant(index, highest)
            self.late_start[index] = self.start_instant(index, highest - self.duration[index])

    def _constrain_late(self, activity: Activity, index: int, highest: int) -> int:
        work, duration = self.work[index], self.duration[index]
        mandatory: int | None = None
        for constraint in activity.constraints:
            if constraint.date is None:
                continue
            at = work.position(instant(constraint.date))
            kind = constraint.kind
            if kind in (ConstraintType.START_ON, ConstraintType.START_ON_OR_BEFORE):
                highest = min(highest, at + duration)
            elif kind in (ConstraintType.FINISH_ON, ConstraintType.FINISH_ON_OR_BEFORE):
                highest = min(highest, at)
            elif kind is ConstraintType.MANDATORY_START:
                mandatory = at + duration
            elif kind is ConstraintType.MANDATORY_FINISH:
                mandatory = at
        return highest if mandatory is None else mandatory

    # -- floats --------------------------------------------------------------------------

    def total_float(self, index: int) -> int | None:
        activity = self.schedule.activities[index]
        if activity.status is Status.COMPLETE:
            return None
        finish = self.late_finish_pos[index] - self.finish_pos[index]
        if activity.status is Status.IN_PROGRESS:
            return finish  # its start is history: only the finish can float
        start = self.late_start_pos[index] - self.start_pos[index]
        float_type = self.schedule.options.float_type
        if float_type is FloatType.START:
            return start
        if float_type is FloatType.FINISH:
            return finish
        return min(start, finish)

    def free_float(self, index: int, total: int | None) -> int | None:
        if total is None:
            return None
        highest: int | None = None
        for link in self.net.outgoing[index]:
            if not self.counts_backward(link):
                continue
            bound = self.finish_bound(link, early=True)
            highest = bound if highest is None else min(highest, bound)
        if highest is None:
            return total
        return min(total, highest - self.finish_pos[index])


def schedule_cpm(schedule: Schedule, data_date: datetime | None = None) -> ScheduleResult:
    """Early and late dates, floats, the critical activities and the longest path."""
    when = data_date or schedule.data_date
    run = SchedulingRun(schedule, when)
    run.forward()
    driving_ones = run.net.driving_indices
    finishes = [run.early_finish[i] for i in driving_ones] or [run.data_date]
    project_finish = max(finishes)
    run.anchor = project_finish
    if schedule.must_finish_by is not None:
        run.anchor = instant(schedule.must_finish_by)
    run.backward()
    totals: list[int | None] = [None] * len(schedule.activities)
    for index in driving_ones:
        totals[index] = run.total_float(index)
    frees = [run.free_float(i, totals[i]) if i in run.net.driving_set else None
             for i in range(len(schedule.activities))]
    # the longest path is the chain that drives the finish, before anything is pushed later
    on_path = _longest_path(run, project_finish)
    _as_late_as_possible(run, totals)
    fit_spanning(run, totals, frees)
    scheduled = []
    for index, activity in enumerate(schedule.activities):
        total = totals[index]
        free = frees[index]
        scheduled.append(ScheduledActivity(
            id=activity.id, code=activity.code,
            early_start=to_datetime(run.early_start[index]),
            early_finish=to_datetime(run.early_finish[index]),
            late_start=to_datetime(run.late_start[index]),
            late_finish=to_datetime(run.late_finish[index]),
            remaining_start=None if activity.status is Status.COMPLETE else to_datetime(
                run.work[index].start_at(run.start_pos[index])),
            total_float_hours=None if total is None else total / 60,
            free_float_hours=None if free is None else free / 60,
            critical=total is not None and total <= 0,
            longest_path=index in on_path))
    return ScheduleResult(data_date=when, project_finish=to_datetime(project_finish),
                          activities=tuple(scheduled))


def _as_late_as_possible(run: SchedulingRun, totals: Sequence[int | None]) -> None:
    """Push as-late-as-possible activities with float to the latest early dates that leave
    their successors' early dates where they are (successors first)."""
    activities = run.schedule.activities
    for index in reversed(run.net.order):
        activity = activities[index]
        total = totals[index]
        if activity.status is not Status.NOT_STARTED or total is None or total <= 0:
            continue
        if not any(c.kind is ConstraintType.AS_LATE_AS_POSSIBLE for c in activity.constraints):
            continue
        highest = run.late_finish_pos[index]
        for link in run.net.outgoing[index]:
            if run.counts_backward(link):
                highest = min(highest, run.finish_bound(link, early=True))
        if highest > run.finish_pos[index]:
            run.finish_pos[index] = highest
            run.start_pos[index] = highest - run.duration[index]
            run.early_start[index] = run.start_instant(index, run.start_pos[index])
            run.early_finish[index] = run.finish_instant(index, highest)


def _longest_path(run: SchedulingRun, project_finish: int) -> set[int]:
    """Activities on the chains of driving relationships that end at the project finish."""
    activities = run.schedule.activities
    last = [i for i in run.net.driving_indices if run.early_finish[i] == project_finish
            and activities[i].status is not Status.COMPLETE]
    # the chain ends at the activities that finish the project; one that merely finishes at
    # the same time but hands on to a successor (a negative lag) ends nothing
    stack = [i for i in last if not run.net.outgoing[i]] or last
    found: set[int] = set()
    while stack:
        index = stack.pop()
        if index in found or activities[index].status is Status.COMPLETE:
            continue
        found.add(index)
        stack.extend(run.net.pred[link] for link in run.driving[index])
    return found
