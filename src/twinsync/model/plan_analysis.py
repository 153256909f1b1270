"""The twin's schedule as of a date: progress from every source, the critical path with
that progress, planned versus actual, and earned value per activity, WBS node and project.
Pure: reads a ``TwinSchedule`` and the ``Twin``, changes nothing.

An activity's progress has up to two sources. *Reported*: the latest progress report
dated on or before the date (the twin's, or the file's). *From its elements*: the statuses
sources observed of the elements it builds (a completed element counts whole, one in
progress or with an issue half, a surveyed one by its surveyed share, over all its
elements), as confident as the least confident observation used. The more confident of
the two is the activity's progress (the newer on a tie); when they disagree on whether it
has not started, is in progress or is complete, the view says so (``conflict``) and shows
both.

The critical path is computed as of the date with that progress applied: a started
activity keeps its actual start, and its remaining duration is the planned duration less
its percent complete (the file's own remaining duration while the file's report is the one
used). Planned dates are the file's planned (target) dates, else the early dates of the
file scheduled as of its own data date.

Earned value is in the schedule's cost (its activities' budgets) or, for a schedule that
holds no cost, in planned hours of work (``unit``), where the actual (hours) is known only
where a progress report gave it: the figures that need it are null until then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from ..schedule import Activity, Schedule, ScheduledActivity, ScheduleResult, schedule_cpm
from ..schedule.earned import (
    EVM_FIELDS,
    EarnedValue,
    Variance,
    WorkClock,
    planned_percent,
    variance,
)
from ..schedule.report import format_hours
from .plan import Progress, TwinSchedule
from .plan_records import STATE_OF_STATUS, format_day, progress_state
from .twin import Twin

#: Columns of the CSV report, one row per activity, WBS node and the project.
REPORT_COLUMNS = ("level", "code", "name", "wbs", "early_start", "early_finish",
                  "total_float_hours", "critical", "planned_percent", "actual_percent",
                  "standing", "days", "progress_source", "conflict", *EVM_FIELDS)


@dataclass(frozen=True, slots=True)
class ActivityProgress:
    reported: Progress | None
    from_elements: Progress | None
    chosen: Progress | None

    @property
    def conflict(self) -> bool:
        return (self.reported is not None and self.from_elements is not None
                and self.reported.state != self.from_elements.state)

    def to_dict(self) -> dict[str, Any]:
        return {"percent_complete": round(self.chosen.percent_complete, 2) if self.chosen
                else 0.0,
                "state": self.chosen.state if self.chosen else "not_started",
                "source": self.chosen.source if self.chosen else None,
                "confidence": self.chosen.confidence if self.chosen else None,
                "reported": self.reported.to_dict() if self.reported else None,
                "from_elements": self.from_elements.to_dict() if self.from_elements else None,
                "conflict": self.conflict}


class Analysis:
    """Everything about the twin's schedule as of one date."""

    def __init__(self, plan: TwinSchedule, twin: Twin, as_of: datetime) -> None:
        self.plan = plan
        self.twin = twin
        self.schedule: Schedule = plan.current()
        self.as_of = as_of
        self.links = plan.linked(twin)
        self.clock = WorkClock(self.schedule.calendars, as_of)
        self.in_hours = not any(a.budget_cost for a in self.schedule.activities)

    # What follows is computed on first use: an element's view needs none of it.

    @cached_property
    def progress(self) -> dict[str, ActivityProgress]:
        return {a.code: self._progress(a.code) for a in self.schedule.activities}

    @cached_property
    def result(self) -> ScheduleResult:
        return schedule_cpm(self._progressed(), self.as_of)

    @cached_property
    def scheduled(self) -> dict[str, ScheduledActivity]:
        return self.result.by_code()

    @cached_property
    def baseline(self) -> dict[str, tuple[datetime, datetime]]:
        return planned_dates(self.plan)

    @cached_property
    def values(self) -> dict[str, EarnedValue]:
        return {a.code: self._earned(a) for a in self.schedule.activities}

    # -- progress ------------------------------------------------------------------------

    def _progress(self, code: str) -> ActivityProgress:
        reported = self.plan.direct_progress(code, self.as_of)
        observed = self._from_elements(self.links.get(code, {}))
        chosen = reported
        if observed is not None and (reported is None or (observed.confidence, observed.date)
                                     > (reported.confidence, reported.date)):
            chosen = observed
        return ActivityProgress(reported, observed, chosen)

    def _from_elements(self, element_ids: Iterable[str]) -> Progress | None:
        ids = list(element_ids)
        seen = [self.plan.observed_status(e, self.as_of) for e in ids]
        observed = [s for s in seen if s is not None]
        if not observed:
            return None
        percent = 100.0 * sum(s.done for s in observed) / len(ids)
        begun = [s.date for s in observed if STATE_OF_STATUS[s.status] != "not_started"]
        sources = "+".join(sorted({s.source.value for s in observed}))
        return Progress(percent, min(begun) if begun else None,
                        max(s.date for s in observed) if percent >= 100 else None, None,
                        f"elements:{sources}", min(s.confidence for s in observed),
                        max(s.date for s in observed))

    def _progressed(self) -> Schedule:
        activities = []
        for activity in self.schedule.activities:
            chosen = self.progress[activity.code].chosen
            if chosen is None or chosen.state == "not_started":
                activity = dataclasses.replace(activity, actual_start=None, actual_finish=None,
                                               remaining_duration_hours=None,
                                               physical_percent_complete=0.0)
            elif chosen.source != "schedule" or chosen.date != self.schedule.data_date:
                start = chosen.actual_start or chosen.date
                finish = chosen.actual_finish if chosen.state == "complete" else None
                remaining = activity.planned_duration_hours * (
                    1.0 - chosen.percent_complete / 100.0)
                activity = dataclasses.replace(
                    activity, actual_start=min(start, self.as_of),
                    actual_finish=None if finish is None else min(finish, self.as_of),
                    remaining_duration_hours=0.0 if finish else remaining,
                    physical_percent_complete=chosen.percent_complete)
            activities.append(activity)
        return dataclasses.replace(self.schedule, activities=tuple(activities))

    # -- analysis ------------------------------------------------------------------------

    def _dates(self, activity: Activity) -> tuple[datetime, datetime]:
        return self.baseline[activity.code]

    @cached_property
    def planned(self) -> dict[str, float]:
        """Each activity's planned percent complete as of the date."""
        planned = {}
        for activity in self.schedule.activities:
            start, finish = self._dates(activity)
            planned[activity.code] = planned_percent(self.clock, activity.calendar_id, start,
                                                     finish, self.as_of)
        return planned

    def variance(self, activity: Activity) -> Variance:
        start, finish = self._dates(activity)
        chosen = self.progress[activity.code].chosen
        percent = chosen.percent_complete if chosen else 0.0
        return variance(self.clock, activity.calendar_id, start, finish, self.as_of, percent,
                        chosen.actual_finish if chosen else None,
                        planned=self.planned[activity.code])

    def _earned(self, activity: Activity) -> EarnedValue:
        planned = self.planned[activity.code]
        chosen = self.progress[activity.code].chosen
        budget = activity.planned_duration_hours if self.in_hours else activity.budget_cost
        actual_cost = chosen.actual_cost if chosen else None
        if actual_cost is None and not self.in_hours:
            actual_cost = 0.0  # the file's costs are known: nothing spent is 0, not unknown
        return EarnedValue.of(budget, planned, chosen.percent_complete if chosen else 0.0,
                              actual_cost)

    def activity_view(self, activity: Activity, *, with_elements: bool) -> dict[str, Any]:
        scheduled = self.scheduled[activity.code]
        start, finish = self._dates(activity)
        linked = self.links.get(activity.code, {})
        view: dict[str, Any] = {
            "id": activity.code, "task_id": activity.id, "name": activity.name,
            "type": activity.type.value, "wbs": activity.wbs_id,
            "calendar": activity.calendar_id,
            "planned_start": format_day(start), "planned_finish": format_day(finish),
            "planned_duration_hours": activity.planned_duration_hours,
            **cpm_view(scheduled),
            "progress": self.progress[activity.code].to_dict(),
            "variance": self.variance(activity).to_dict(),
            "earned_value": self.values[activity.code].to_dict(),
            "element_count": len(linked),
        }
        if with_elements:
            view["elements"] = [self.element_brief(e, how) for e, how in linked.items()]
            view["reports"] = [r.to_dict() for r in self.plan.progress.get(activity.code, ())]
        return view

    def element_brief(self, element_id: str, how: str) -> dict[str, Any]:
        element = self.twin.elements[element_id]
        observed = self.plan.observed_status(element_id, self.as_of)
        return {"id": element_id, "type": element.type, "name": element.name, "link": how,
                "status": element.status.value,
                "observed": observed.to_dict() if observed else None}

    def element_view(self, element_id: str) -> dict[str, Any]:
        """The activities an element belongs to, and what they and its observations say."""
        codes = [code for code, elements in self.links.items() if element_id in elements]
        implied = self.plan.implied_status(codes, self.as_of) if codes else None
        observed = self.plan.observed_status(element_id, self.as_of)
        conflict = (implied is not None and observed is not None
                    and STATE_OF_STATUS[implied] != STATE_OF_STATUS[observed.status])
        return {
            "as_of": format_day(self.as_of),
            "activities": [{"id": code, "name": self.plan.activities[code].name,
                            "link": self.links[code][element_id],
                            "progress": self._progress(code).to_dict()}
                           for code in codes],
            "implied_status": implied.value if implied else None,
            "observed": observed.to_dict() if observed else None,
            "conflict": conflict,
        }

    def element_states(self) -> dict[str, Any]:
        """Every activity's linked elements, and for each activity and each linked element
        where the plan and the work stand as of the date: ``planned`` and ``built`` (not
        started, in progress, complete) and ``standing``. It needs no critical path, so the
        dashboard's 4D view can ask for it at every date it plays.

        An element is complete when all its activities are, started when one is; it is
        behind when one of its activities is, else ahead when one is, else on track."""
        activities: dict[str, dict[str, Any]] = {}
        of_element: dict[str, list[str]] = {}
        for activity in self.schedule.activities:
            code = activity.code
            chosen = self.progress[code].chosen
            elements = list(self.links.get(code, {}))
            activities[code] = {"elements": elements,
                                "planned": progress_state(self.planned[code]),
                                "built": chosen.state if chosen else "not_started",
                                "standing": self.variance(activity).standing.value}
            for element_id in elements:
                of_element.setdefault(element_id, []).append(code)
        elements_view = {}
        for element_id, codes in of_element.items():
            states = [activities[code] for code in codes]
            standings = {state["standing"] for state in states}
            elements_view[element_id] = {
                "activities": codes,
                "planned": combined_state(state["planned"] for state in states),
                "built": combined_state(state["built"] for state in states),
                "standing": ("behind" if "behind" in standings
                             else "ahead" if "ahead" in standings else "on_track")}
        return {"as_of": format_day(self.as_of), "activities": activities,
                "elements": elements_view}

    def wbs_values(self) -> dict[str, EarnedValue]:
        """Earned value of every WBS node over its own activities and those below it."""
        members: dict[str, list[EarnedValue]] = {node: [] for node in self.schedule.wbs}
        for activity in self.schedule.activities:
            node, seen = activity.wbs_id, set()
            while node is not None and node in members and node not in seen:
                seen.add(node)
                members[node].append(self.values[activity.code])
                node = self.schedule.wbs[node].parent_id
        return {node: EarnedValue.total(values) for node, values in members.items()}

    def overview(self) -> dict[str, Any]:
        plan = self.plan
        assert plan.version is not None
        wbs = self.wbs_values()
        project = EarnedValue.total(self.values.values())
        activities = [self.activity_view(a, with_elements=False)
                      for a in self.schedule.activities]
        return {
            **plan.version.to_dict(), "as_of": format_day(self.as_of),
            "project_finish": format_day(self.result.project_finish),
            "unit": "hours" if self.in_hours else "cost",
            "earned_value": project.to_dict(),
            "standing": _count(a["variance"]["standing"] for a in activities),
            "conflicts": sum(a["progress"]["conflict"] for a in activities),
            "wbs": [{"id": node.id, "code": node.code, "name": node.name,
                     "parent": node.parent_id, "earned_value": wbs[node.id].to_dict()}
                    for node in self.schedule.wbs.values()],
            "activities": activities,
        }

    def report_rows(self) -> list[list[str]]:
        """``REPORT_COLUMNS`` for each activity, each WBS node and the project."""
        rows = []
        for activity in self.schedule.activities:
            scheduled = self.scheduled[activity.code]
            standing = self.variance(activity)
            progress = self.progress[activity.code]
            rows.append(["activity", activity.code, activity.name, self._wbs_code(activity),
                         format_day(scheduled.early_start) or "",
                         format_day(scheduled.early_finish) or "",
                         format_hours(scheduled.total_float_hours),
                         "true" if scheduled.critical else "false",
                         _figure(standing.planned_percent), _figure(standing.actual_percent),
                         standing.standing.value, _figure(standing.days),
                         progress.chosen.source if progress.chosen else "",
                         "true" if progress.conflict else "false",
                         *_evm(self.values[activity.code])])
        for node_id, value in self.wbs_values().items():
            node = self.schedule.wbs[node_id]
            rows.append(["wbs", node.code, node.name, node.code, "", "", "", "", "", "", "",
                         "", "", "", *_evm(value)])
        rows.append(["project", self.schedule.project_code, self.schedule.name, "", "",
                     format_day(self.result.project_finish) or "", "", "", "", "", "", "", "",
                     "", *_evm(EarnedValue.total(self.values.values()))])
        return rows

    def _wbs_code(self, activity: Activity) -> str:
        node = self.schedule.wbs.get(activity.wbs_id or "")
        return node.code if node else ""


def cpm_view(scheduled: ScheduledActivity) -> dict[str, Any]:
    return {"early_start": format_day(scheduled.early_start),
            "early_finish": format_day(scheduled.early_finish),
            "late_start": format_day(scheduled.late_start),
            "late_finish": format_day(scheduled.late_finish),
            "total_float_hours": scheduled.total_float_hours,
            "free_float_hours": scheduled.free_float_hours,
            "critical": scheduled.critical, "longest_path": scheduled.longest_path}


def planned_dates(plan: TwinSchedule) -> dict[str, tuple[datetime, datetime]]:
    """Each activity's planned start and finish: the file's target dates, else its early
    dates as of the file's data date (computed once per version)."""
    schedule = plan.current()
    if plan.baseline is not None and plan.baseline[0] is schedule:
        return plan.baseline[1]
    early = schedule_cpm(schedule).by_code()
    dates = {}
    for activity in schedule.activities:
        start = activity.planned_start or early[activity.code].early_start
        finish = activity.planned_finish or early[activity.code].early_finish
        dates[activity.code] = (start, max(start, finish))
    plan.baseline = (schedule, dates)
    return dates


def combined_state(states: Iterable[str]) -> str:
    """The state of work that several activities' states make: complete when all are,
    in progress when one has started, else not started."""
    listed = list(states)
    if listed and all(state == "complete" for state in listed):
        return "complete"
    return "in_progress" if any(state != "not_started" for state in listed) else "not_started"


def _count(values: Iterable[str]) -> dict[str, int]:
    counts = {"ahead": 0, "on_track": 0, "behind": 0}
    for value in values:
        counts[value] += 1
    return counts


def _figure(value: float | None) -> str:
    return "" if value is None else format_hours(value)


def _evm(value: EarnedValue) -> list[str]:
    """Figures as ``to_dict`` rounds them (money to cents, indices to 4 decimals)."""
    return ["" if figure is None else f"{figure:.4f}".rstrip("0").rstrip(".")
            for figure in value.to_dict().values()]
