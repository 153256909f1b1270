"""Microsoft Project XML (MSPDI) import: the project of a file as a ``Schedule``.

Reads the project's data date (``StatusDate``, else ``CurrentDate``, else ``StartDate``) and
calendar, its ``Calendars`` (week days 1 = Sunday to 7; exceptions as ``DayType 0`` week
days and as ``Exceptions``; a calendar inherits the week days it does not set, and the
exceptions, of its ``BaseCalendarUID``), and its ``Tasks``: summary tasks become WBS nodes
(their outline gives the tree), the others activities, with their predecessor links.

Activities are keyed by ``UID`` (code = UID: it stays when rows are inserted or moved,
where MS Project's ``ID`` is a row number). Durations are ISO 8601 (``PT16H0M0S``); lags
and slack are tenths of a minute, as MSPDI writes them. Planned dates are baseline 0's,
else the task's start and finish. Cost is the budget, ``ActualCost`` the actual cost.
Lags are counted on the project calendar; total float is the smaller of start and finish
float, as MS Project's total slack is.

A file with a DOCTYPE or entity declaration is refused before it is parsed (MSPDI has
neither, and they are how XML bombs and external entities get in). A field that cannot
be read fails the whole import naming the task; nothing is half-imported.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

from ..errors import InvalidInput, ScheduleImportError
from .calendar import Period, WorkCalendar
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
    WbsNode,
)

CONSTRAINTS = {"1": ConstraintType.AS_LATE_AS_POSSIBLE, "2": ConstraintType.START_ON,
               "3": ConstraintType.FINISH_ON, "4": ConstraintType.START_ON_OR_AFTER,
               "5": ConstraintType.START_ON_OR_BEFORE, "6": ConstraintType.FINISH_ON_OR_AFTER,
               "7": ConstraintType.FINISH_ON_OR_BEFORE}
LINK_TYPES = {"0": RelationType.FF, "1": RelationType.FS, "2": RelationType.SF,
              "3": RelationType.SS}
#: MS Project's working times on a working day that lists none.
DEFAULT_DAY: tuple[Period, ...] = ((8 * 60, 12 * 60), (13 * 60, 17 * 60))
_DURATION = re.compile(r"-?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?"
                       r"(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?")
_REFUSED = (b"<!DOCTYPE", b"<!ENTITY")


def is_mspdi(data: bytes) -> bool:
    """Whether a file looks like XML (after a BOM and blank space) rather than XER."""
    return data.lstrip(b"\xef\xbb\xbf").lstrip()[:1] == b"<"


def read_mspdi(data: bytes) -> Schedule:
    upper = data.upper()
    if any(marker in upper for marker in _REFUSED):
        raise ScheduleImportError("the file declares a DOCTYPE or entities, which MSPDI "
                                  "never does: refused unread", "bad_xml")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise ScheduleImportError(f"line {line}: not well-formed XML: {exc}", "bad_xml",
                                  line=line) from exc
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag != f"{ns}Project":
        raise ScheduleImportError(f"not an MS Project XML file: its root is "
                                  f"{root.tag[len(ns):]!r}, not 'Project'", "bad_xml")
    reader = _Reader(ns)
    return reader.schedule(root)


class _Reader:
    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.hours_per_day = 8.0
        self.unusable: dict[str, str] = {}  # calendars that cannot be built, and why

    def find(self, element: ET.Element, path: str) -> list[ET.Element]:
        return element.findall("/".join(f"{self.ns}{part}" for part in path.split("/")))

    def text(self, element: ET.Element, name: str) -> str:
        found = element.find(f"{self.ns}{name}")
        return (found.text or "").strip() if found is not None else ""

    def schedule(self, root: ET.Element) -> Schedule:
        project_calendar = self.text(root, "CalendarUID")
        data_date = (iso_date(self.text(root, "StatusDate"), "StatusDate", "the project")
                     or iso_date(self.text(root, "CurrentDate"), "CurrentDate", "the project")
                     or iso_date(self.text(root, "StartDate"), "StartDate", "the project"))
        if data_date is None:
            raise ScheduleImportError("the project has no status, current or start date",
                                      "no_data_date")
        minutes_per_day = _number(self.text(root, "MinutesPerDay") or "480", "MinutesPerDay",
                                  "the project")
        self.hours_per_day = minutes_per_day / 60.0
        calendars = self.calendars(root, self.hours_per_day)
        if project_calendar in self.unusable:
            raise ScheduleImportError(self.unusable[project_calendar], "bad_calendar")
        if project_calendar not in calendars:
            raise ScheduleImportError(f"the project names calendar {project_calendar!r}, "
                                      "which the file does not hold", "unknown_calendar")
        wbs: dict[str, WbsNode] = {}
        activities: list[Activity] = []
        links: list[tuple[str, ET.Element]] = []
        parents: list[tuple[int, str]] = []  # the open summary tasks, by outline level
        warnings: list[str] = []
        seen: set[str] = set()
        for task in self.find(root, "Tasks/Task"):
            uid = self.text(task, "UID")
            where = f"task UID {uid or '?'} ({self.text(task, 'Name')[:40]!r})"
            if not uid:
                raise ScheduleImportError(f"{where} has no UID", "bad_activity")
            if uid in seen:
                raise ScheduleImportError(f"{where}: UID {uid} appears twice", "duplicate_id")
            seen.add(uid)
            level = int(_number(self.text(task, "OutlineLevel") or "1", "OutlineLevel", where))
            if level <= 0 or self.text(task, "IsNull") == "1":
                continue  # the project's own summary task, or an empty row
            while parents and parents[-1][0] >= level:
                parents.pop()
            parent = parents[-1][1] if parents else None
            if self.text(task, "Summary") == "1":
                wbs[uid] = WbsNode(uid, self.text(task, "WBS") or self.text(task, "OutlineNumber"),
                                   self.text(task, "Name"), parent)
                parents.append((level, uid))
                continue
            calendar_id = self.text(task, "CalendarUID")
            if calendar_id in ("", "-1"):
                calendar_id = project_calendar
            elif calendar_id in self.unusable:
                raise ScheduleImportError(f"{where}: {self.unusable[calendar_id]}",
                                          "bad_calendar")
            elif calendar_id not in calendars:
                warnings.append(f"{where} names calendar {calendar_id!r}, which the file does "
                                "not hold; it is scheduled on the project's calendar")
                calendar_id = project_calendar
            activities.append(self.activity(task, uid, where, calendar_id, parent))
            links += [(uid, link) for link in self.find(task, "PredecessorLink")]
        relationships, external = self.relationships(links, seen)
        used = {a.calendar_id for a in activities} | {project_calendar}
        return Schedule(
            project_id=self.text(root, "GUID") or self.text(root, "Name") or "project",
            project_code=self.text(root, "Name") or self.text(root, "Title") or "project",
            name=self.text(root, "Title") or self.text(root, "Name"), data_date=data_date,
            default_calendar_id=project_calendar,
            calendars={cid: calendars[cid] for cid in sorted(used)},
            activities=tuple(activities), relationships=tuple(relationships), wbs=wbs,
            options=SchedulingOptions(LagCalendar.PROJECT_DEFAULT, FloatType.SMALLEST,
                                      ProgressMode.RETAINED_LOGIC),
            external_relationships=tuple(external), warnings=tuple(warnings))

    def activity(self, task: ET.Element, uid: str, where: str, calendar_id: str,
                 parent: str | None) -> Activity:
        def day(name: str) -> datetime | None:
            return iso_date(self.text(task, name), name, where)

        duration = iso_duration(self.text(task, "Duration"), "Duration", where,
                             self.hours_per_day) or 0.0
        remaining_text = self.text(task, "RemainingDuration")
        milestone = self.text(task, "Milestone") == "1"
        constraints = []
        kind = CONSTRAINTS.get(self.text(task, "ConstraintType") or "0")
        if kind is not None:
            when = day("ConstraintDate")
            if when is None and kind is not ConstraintType.AS_LATE_AS_POSSIBLE:
                raise ScheduleImportError(f"{where}: its constraint has no ConstraintDate",
                                          "bad_activity")
            constraints.append(Constraint(kind, when))
        planned_start, planned_finish = day("Start"), day("Finish")
        for baseline in self.find(task, "Baseline"):
            if (self.text(baseline, "Number") or "0") == "0":
                planned_start = iso_date(self.text(baseline, "Start"), "Baseline Start",
                                      where) or planned_start
                planned_finish = iso_date(self.text(baseline, "Finish"), "Baseline Finish",
                                       where) or planned_finish
        actual_start, actual_finish = day("ActualStart"), day("ActualFinish")
        if actual_finish is not None and actual_start is None:
            actual_start = actual_finish
        return Activity(
            id=uid, code=uid, name=self.text(task, "Name"),
            type=ActivityType.FINISH_MILESTONE if milestone else ActivityType.TASK,
            calendar_id=calendar_id, wbs_id=parent,
            planned_duration_hours=0.0 if milestone else duration,
            remaining_duration_hours=iso_duration(remaining_text, "RemainingDuration", where,
                                               self.hours_per_day),
            planned_start=planned_start, planned_finish=planned_finish,
            actual_start=actual_start, actual_finish=actual_finish,
            physical_percent_complete=_number(
                self.text(task, "PhysicalPercentComplete") or self.text(task, "PercentComplete")
                or "0", "PercentComplete", where),
            constraints=tuple(constraints),
            reported=ReportedDates(
                early_start=day("EarlyStart"), early_finish=day("EarlyFinish"),
                late_start=day("LateStart"), late_finish=day("LateFinish"),
                total_float_hours=_slack(self.text(task, "TotalSlack"), "TotalSlack", where),
                free_float_hours=_slack(self.text(task, "FreeSlack"), "FreeSlack", where)),
            budget_cost=_number(self.text(task, "Cost") or "0", "Cost", where),
            actual_cost=_number(self.text(task, "ActualCost") or "0", "ActualCost", where))

    def relationships(self, links: list[tuple[str, ET.Element]], tasks: set[str]
                      ) -> tuple[list[Relationship], list[ExternalRelationship]]:
        inside: list[Relationship] = []
        outside: list[ExternalRelationship] = []
        for successor, link in links:
            where = f"task UID {successor}'s predecessor link"
            predecessor = self.text(link, "PredecessorUID")
            kind = LINK_TYPES.get(self.text(link, "Type") or "1")
            if kind is None:
                raise ScheduleImportError(f"{where}: unknown type {self.text(link, 'Type')!r}",
                                          "bad_relationship")
            lag = _slack(self.text(link, "LinkLag") or "0", "LinkLag", where) or 0.0
            if self.text(link, "CrossProject") == "1":
                outside.append(ExternalRelationship(
                    successor, predecessor, self.text(link, "CrossProjectName"), True, kind,
                    lag, 0))
                continue
            if predecessor not in tasks:
                raise ScheduleImportError(f"{where} names task UID {predecessor!r}, which the "
                                          "file does not hold", "bad_relationship")
            inside.append(Relationship(predecessor, successor, kind, lag))
        return inside, outside

    def calendars(self, root: ET.Element, hours_per_day: float) -> dict[str, WorkCalendar]:
        weeks: dict[str, dict[int, tuple[Period, ...]]] = {}
        exceptions: dict[str, dict[date, tuple[Period, ...]]] = {}
        bases: dict[str, str] = {}
        names: dict[str, str] = {}
        for calendar in self.find(root, "Calendars/Calendar"):
            uid = self.text(calendar, "UID")
            where = f"calendar UID {uid} ({self.text(calendar, 'Name')[:40]!r})"
            names[uid] = self.text(calendar, "Name")
            if self.text(calendar, "IsBaseCalendar") != "1" and self.text(
                    calendar, "BaseCalendarUID") not in ("", "-1"):
                bases[uid] = self.text(calendar, "BaseCalendarUID")
            week: dict[int, tuple[Period, ...]] = {}
            days: dict[date, tuple[Period, ...]] = {}
            for weekday in self.find(calendar, "WeekDays/WeekDay"):
                periods = self.periods(weekday, where)
                day_type = self.text(weekday, "DayType")
                if day_type == "0":
                    for period in self.find(weekday, "TimePeriod"):
                        self.spread(period, periods, days, where)
                elif day_type in {"1", "2", "3", "4", "5", "6", "7"}:
                    week[(int(day_type) + 5) % 7] = periods  # 1 = Sunday → weekday() 6
                else:
                    raise ScheduleImportError(f"{where}: unknown DayType {day_type!r}",
                                              "bad_calendar")
            for exception in self.find(calendar, "Exceptions/Exception"):
                periods = self.periods(exception, where)
                for period in self.find(exception, "TimePeriod"):
                    self.spread(period, periods, days, where)
            weeks[uid], exceptions[uid] = week, days
        built: dict[str, WorkCalendar] = {}
        for uid in weeks:
            week, days, seen = dict(weeks[uid]), dict(exceptions[uid]), {uid}
            base = bases.get(uid)
            while base is not None and base in weeks and base not in seen:
                seen.add(base)
                week = {**weeks[base], **week}
                days = {**exceptions[base], **days}
                base = bases.get(base)
            try:
                built[uid] = WorkCalendar(uid, names[uid], tuple(week.get(d, ()) for d in
                                                                 range(7)), days, hours_per_day)
            except InvalidInput as exc:
                # A resource's calendar may have no working day; only a used one must.
                self.unusable[uid] = f"calendar UID {uid}: {exc}"
        return built

    def periods(self, day: ET.Element, where: str) -> tuple[Period, ...]:
        if self.text(day, "DayWorking") != "1":
            return ()
        periods = []
        for working in self.find(day, "WorkingTimes/WorkingTime"):
            start = _minutes(self.text(working, "FromTime"), where)
            end = _minutes(self.text(working, "ToTime"), where) or 1440
            if end <= start:
                raise ScheduleImportError(f"{where}: working time {start // 60:02d}:"
                                          f"{start % 60:02d} to {end // 60:02d}:{end % 60:02d} "
                                          "ends before it starts", "bad_calendar")
            periods.append((start, end))
        return tuple(sorted(periods)) or DEFAULT_DAY

    def spread(self, period: ET.Element, periods: tuple[Period, ...],
               days: dict[date, tuple[Period, ...]], where: str) -> None:
        first = iso_date(self.text(period, "FromDate"), "FromDate", where)
        last = iso_date(self.text(period, "ToDate"), "ToDate", where)
        if first is None or last is None:
            raise ScheduleImportError(f"{where}: an exception without its dates",
                                      "bad_calendar")
        if (last - first).days > 3660:
            raise ScheduleImportError(f"{where}: an exception over more than ten years",
                                      "bad_calendar")
        day = first.date()
        while day <= last.date():
            days[day] = periods
            day += timedelta(days=1)


def iso_date(text: str, name: str, where: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        raise ScheduleImportError(f"{where}: {name} {text[:40]!r} is not a date "
                                  "(YYYY-MM-DDTHH:MM:SS)", "bad_date") from None


def _number(text: str, name: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScheduleImportError(f"{where}: {name} {text[:40]!r} is not a number",
                                  "bad_number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ScheduleImportError(f"{where}: {name} {text[:40]!r} is not a finite number",
                                  "bad_number")
    return value


def iso_duration(text: str, name: str, where: str, hours_per_day: float = 8.0) -> float | None:
    """An ISO 8601 duration as hours (MSPDI writes ``PT16H0M0S``)."""
    if not text:
        return None
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT", "-P"):
        raise ScheduleImportError(f"{where}: {name} {text[:40]!r} is not a duration "
                                  "(PT8H0M0S)", "bad_number")
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    total = days * hours_per_day + hours + minutes / 60 + seconds / 3600
    return -total if text.startswith("-") else total


def _slack(text: str, name: str, where: str) -> float | None:
    """Tenths of a minute, as MSPDI keeps lags and slack, as hours."""
    return None if not text else _number(text, name, where) / 600.0


def _minutes(text: str, where: str) -> int:
    try:
        hours, minutes, *_ = (int(part) for part in text.split(":"))
    except ValueError:
        raise ScheduleImportError(f"{where}: {text[:20]!r} is not a time (HH:MM:SS)",
                                  "bad_calendar") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60):
        raise ScheduleImportError(f"{where}: {text[:20]!r} is not a time of day",
                                  "bad_calendar")
    return hours * 60 + minutes
