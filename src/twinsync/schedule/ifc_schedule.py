"""IFC4 work schedule import: an ``IfcWorkSchedule`` of an IFC file as a ``Schedule``, with
the elements each task builds.

Tasks are those the schedule controls (``IfcRelAssignsToControl``) and the tasks nested in
them (``IfcRelNests``): a task with nested tasks is a WBS node, the others activities
(code: ``Identification``, else the GlobalId; id: the GlobalId). ``IfcTaskTime`` gives the
planned start and finish (``ScheduleStart``/``ScheduleFinish``), the duration
(``ScheduleDuration``, ISO 8601, else the work between the planned dates), actual dates,
``Completion`` (0..1) and ``RemainingTime`` (else the share not complete);
``IsMilestone`` makes a finish milestone. ``IfcRelSequence`` gives the relationships
(``FINISH_START`` … with ``TimeLag`` as an ``IfcDuration``). The elements a task builds
are its ``IfcRelAssignsToProcess`` objects and the products that
``IfcRelAssignsToProduct`` assigns it to, by GlobalId (``Schedule.element_links``).

The data date is the schedule's ``StartTime`` (else its ``CreationDate``). Work calendars
(``IfcWorkCalendar``) are not read: every task works Monday to Friday, 08:00-12:00 and
13:00-17:00, and the import says so in its warnings. Nothing is half-imported: a file
that does not parse, or a task that cannot be read (named by its code), fails it whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..errors import ModelImportError, ScheduleImportError
from .calendar import WorkCalendar, WorkTime, instant
from .model import (
    Activity,
    ActivityType,
    Relationship,
    RelationType,
    Schedule,
    SchedulingOptions,
    WbsNode,
)
from .mspdi import DEFAULT_DAY, iso_date, iso_duration

SEQUENCES = {"FINISH_START": RelationType.FS, "START_START": RelationType.SS,
             "FINISH_FINISH": RelationType.FF, "START_FINISH": RelationType.SF}
CALENDAR_ID = "ifc-standard"
CALENDAR_WARNING = ("the IFC file's work calendars are not read: every task is scheduled "
                    "Monday to Friday, 08:00-12:00 and 13:00-17:00")


def is_ifc(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf").lstrip()[:13] == b"ISO-10303-21;"


def read_ifc_schedule(data: bytes, schedule: str | None = None) -> Schedule:
    """The work schedule of an IFC file (``schedule``: its Identification, name or GlobalId,
    needed only when the file holds more than one)."""
    from ..bim.importer import check_header, open_ifc

    try:
        check_header(data)
        model = open_ifc(data, data)
    except ModelImportError as exc:
        raise ScheduleImportError(str(exc), exc.reason, line=getattr(exc, "line", None)
                                  ) from exc
    chosen = _choose(model.by_type("IfcWorkSchedule"), schedule)
    calendar = WorkCalendar(CALENDAR_ID, "Standard", tuple(
        DEFAULT_DAY if day < 5 else () for day in range(7)), {}, 8.0)
    start = iso_date(str(chosen.StartTime or ""), "StartTime", "the work schedule") or iso_date(
        str(chosen.CreationDate or ""), "CreationDate", "the work schedule")
    if start is None:
        raise ScheduleImportError("the work schedule has neither a StartTime nor a "
                                  "CreationDate to schedule from", "no_data_date")
    reader = _Reader(calendar, start)
    for relation in getattr(chosen, "Controls", None) or ():
        for task in relation.RelatedObjects or ():
            if task.is_a("IfcTask"):
                reader.walk(task, None)
    if not reader.activities:
        raise ScheduleImportError(f"work schedule {_label(chosen)} controls no task",
                                  "no_tasks")
    relationships = reader.relationships(model.by_type("IfcRelSequence"))
    links = reader.element_links(model.by_type("IfcRelAssignsToProcess"),
                                 model.by_type("IfcRelAssignsToProduct"))
    return Schedule(
        project_id=str(chosen.GlobalId), project_code=_label(chosen),
        name=str(chosen.Name or ""), data_date=start, default_calendar_id=CALENDAR_ID,
        calendars={CALENDAR_ID: calendar}, activities=tuple(reader.activities),
        relationships=tuple(relationships), wbs=reader.wbs, options=SchedulingOptions(),
        warnings=(CALENDAR_WARNING,), element_links=links)


def _label(entity: Any) -> str:
    return str(entity.Identification or entity.Name or entity.GlobalId)


def _choose(schedules: Sequence[Any], wanted: str | None) -> Any:
    listing = ", ".join(f"{_label(s)} ({s.GlobalId})" for s in schedules)
    if not schedules:
        raise ScheduleImportError("the IFC file holds no IfcWorkSchedule", "no_project")
    if wanted is None:
        if len(schedules) == 1:
            return schedules[0]
        raise ScheduleImportError(f"the IFC file holds {len(schedules)} work schedules: "
                                  f"{listing}; choose one", "choose_project")
    for candidate in schedules:
        if wanted in (candidate.Identification, candidate.Name, candidate.GlobalId):
            return candidate
    raise ScheduleImportError(f"no work schedule {wanted!r} in the file; it holds {listing}",
                              "no_project")


class _Reader:
    def __init__(self, calendar: WorkCalendar, origin: datetime) -> None:
        self.work = WorkTime(calendar, origin.toordinal())
        self.activities: list[Activity] = []
        self.wbs: dict[str, WbsNode] = {}
        self.tasks: set[str] = set()

    def walk(self, task: Any, parent: str | None) -> None:
        gid = str(task.GlobalId)
        if gid in self.tasks:
            return  # controlled and nested both: read once
        self.tasks.add(gid)
        children = [child for nest in task.IsNestedBy or () for child in nest.RelatedObjects
                    if child.is_a("IfcTask")]
        if children:
            self.wbs[gid] = WbsNode(gid, str(task.Identification or task.Name or gid),
                                    str(task.Name or ""), parent)
            for child in children:
                self.walk(child, gid)
            return
        self.activities.append(self.activity(task, parent))

    def activity(self, task: Any, parent: str | None) -> Activity:
        gid = str(task.GlobalId)
        code = str(task.Identification or gid)
        where = f"task {code} ({str(task.Name or '')[:40]!r})"
        time = task.TaskTime
        if time is None:
            raise ScheduleImportError(f"{where} has no IfcTaskTime", "bad_activity")

        def day(name: str) -> datetime | None:
            return iso_date(str(getattr(time, name) or ""), name, where)

        start, finish = day("ScheduleStart"), day("ScheduleFinish")
        hours = iso_duration(str(time.ScheduleDuration or ""), "ScheduleDuration", where)
        if hours is None:
            if start is None or finish is None:
                raise ScheduleImportError(f"{where} has neither a ScheduleDuration nor its "
                                          "ScheduleStart and ScheduleFinish", "bad_activity")
            hours = (self.work.position(instant(finish))
                     - self.work.position(instant(start))) / 60.0
        milestone = bool(task.IsMilestone)
        actual_start, actual_finish = day("ActualStart"), day("ActualFinish")
        completion = time.Completion
        percent = 100.0 if actual_finish else float(completion or 0.0) * 100.0
        planned = 0.0 if milestone else max(hours, 0.0)
        # what is left: RemainingTime, else the share of the duration not yet complete
        remaining = iso_duration(str(time.RemainingTime or ""), "RemainingTime", where)
        if remaining is None and (actual_start or actual_finish):
            remaining = planned * (1.0 - min(percent, 100.0) / 100.0)
        return Activity(
            id=gid, code=code, name=str(task.Name or ""),
            type=ActivityType.FINISH_MILESTONE if milestone else ActivityType.TASK,
            calendar_id=CALENDAR_ID, wbs_id=parent,
            planned_duration_hours=planned, remaining_duration_hours=remaining,
            planned_start=start, planned_finish=finish,
            actual_start=actual_start or actual_finish, actual_finish=actual_finish,
            physical_percent_complete=min(percent, 100.0))

    def relationships(self, sequences: Iterable[Any]) -> list[Relationship]:
        found = []
        for sequence in sequences:
            before, after = sequence.RelatingProcess, sequence.RelatedProcess
            if str(before.GlobalId) not in self.tasks or str(after.GlobalId) not in self.tasks:
                continue
            where = f"the sequence from {_label(before)} to {_label(after)}"
            kind = SEQUENCES.get(str(sequence.SequenceType or "FINISH_START"))
            if kind is None:
                raise ScheduleImportError(f"{where} has SequenceType "
                                          f"{sequence.SequenceType}, which cannot be "
                                          "scheduled", "bad_relationship")
            lag = 0.0
            if sequence.TimeLag is not None:
                value = sequence.TimeLag.LagValue
                if value is None or not value.is_a("IfcDuration"):
                    raise ScheduleImportError(f"{where}: only a lag given as an IfcDuration "
                                              "is read", "bad_relationship")
                lag = iso_duration(str(value.wrappedValue), "TimeLag", where) or 0.0
            found.append(Relationship(str(before.GlobalId), str(after.GlobalId), kind, lag))
        return found

    def element_links(self, to_process: Iterable[Any], to_product: Iterable[Any]
                      ) -> dict[str, tuple[str, ...]]:
        links: dict[str, list[str]] = {}
        for relation in to_process:
            task = relation.RelatingProcess
            if task is not None and str(task.GlobalId) in self.tasks:
                for thing in relation.RelatedObjects or ():
                    if thing.is_a("IfcProduct"):
                        links.setdefault(str(task.GlobalId), []).append(str(thing.GlobalId))
        for relation in to_product:
            product = relation.RelatingProduct
            for thing in relation.RelatedObjects or ():
                if thing.is_a("IfcTask") and str(thing.GlobalId) in self.tasks:
                    links.setdefault(str(thing.GlobalId), []).append(str(product.GlobalId))
        return {task: tuple(dict.fromkeys(gids)) for task, gids in links.items()}
