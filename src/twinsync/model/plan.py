"""The twin's schedule: the current version of the schedule file, the progress reported
in the twin, and which elements each activity builds. Pure: no I/O.

Changes go through named operations, each returning the ``Event`` that records it and the
stored rows (``plan_records``) the store must write in the same transaction:

- ``import_schedule``: a new version of the schedule file. What was entered in the twin
  outlives it: progress reports and explicit links are keyed by activity code and rules
  match codes, so an activity that keeps its code in the new version keeps them.
- ``set_links`` / ``add_rule``: elements named by id or GlobalId, or by rules (an IFC
  work schedule's file names them itself: ``Schedule.element_links``).
- ``report_progress``: an activity's percent complete (and dates, cost) from a source with
  a confidence; its elements' statuses follow, each change an event with source
  ``schedule``, unless a more trusted observation of the element says otherwise (then the
  element keeps it, and the disagreement is shown by ``plan_analysis``).
- ``observe_status``: an element's status as a source saw it, which the activities it
  belongs to read as progress (``plan_analysis``); ``record_survey``: a survey's share
  built of each element it saw, observed the same way, the elements' statuses following.
- Progress from sensors (``curing_ops``): concrete mixes, kept here as rows of kind
  ``mix``, and a strength reached, observed as a survey's row is with source ``sensor``.

Progress is read as of a date: the latest report dated on or before it. The file's own
progress counts as a report of source ``schedule`` dated at the file's data date, for
activities the file has started (a new version that has not recorded progress the twin
holds does not erase it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import Conflict, InvalidInput, NotFound
from ..schedule import Activity, Schedule
from . import validate
from .element import DEFAULT_CONFIDENCE, Element, Source, Status
from .events import Event
from .mix import Mix
from .plan_records import (
    FILE,
    LINK,
    MIX,
    PROGRESS,
    RULE,
    STATUS,
    VERSION,
    LinkRule,
    PlanRow,
    ProgressReport,
    StatusReport,
    VersionRecord,
    format_day,
    link_row,
    number_key,
    progress_state,
    status_of_percent,
)
from .survey import Survey
from .twin import SPATIAL_TYPES, Twin

#: At most this many elements named in one link.
MAX_LINKED = 100_000
#: A report lists at most this many codes of each kind.
LISTED = 100


@dataclass(frozen=True, slots=True)
class Progress:
    """An activity's progress as one source has it."""

    percent_complete: float
    actual_start: datetime | None
    actual_finish: datetime | None
    actual_cost: float | None
    source: str
    confidence: float
    date: datetime

    @property
    def state(self) -> str:
        return progress_state(self.percent_complete)

    def to_dict(self) -> dict[str, Any]:
        return {"percent_complete": round(self.percent_complete, 2), "state": self.state,
                "actual_start": format_day(self.actual_start),
                "actual_finish": format_day(self.actual_finish),
                "actual_cost": self.actual_cost, "source": self.source,
                "confidence": self.confidence, "date": format_day(self.date)}

    @classmethod
    def of_report(cls, report: ProgressReport) -> Progress:
        return cls(report.percent_complete, report.actual_start, report.actual_finish,
                   report.actual_cost, report.source.value, report.confidence, report.date)


def file_progress(activity: Activity, data_date: datetime) -> Progress | None:
    """What the schedule file says of an activity's progress; None if it has not started."""
    if activity.actual_start is None:
        return None
    if activity.actual_finish is not None:
        percent = 100.0
    else:
        percent = activity.physical_percent_complete or activity.duration_percent_complete
        percent = min(percent, 99.0)  # started and not finished is not complete
    return Progress(percent, activity.actual_start, activity.actual_finish,
                    activity.actual_cost, Source.SCHEDULE.value,
                    DEFAULT_CONFIDENCE[Source.SCHEDULE], data_date)


class TwinSchedule:
    """The schedule of one twin. Its registries are replaced, never changed in place, so
    ``savepoint``/``rollback`` are shallow copies."""

    def __init__(self) -> None:
        self.version: VersionRecord | None = None
        self.schedule: Schedule | None = None
        self.activities: dict[str, Activity] = {}  # by code
        self.progress: dict[str, tuple[ProgressReport, ...]] = {}  # by code, oldest first
        self.statuses: dict[str, tuple[StatusReport, ...]] = {}  # by element id
        self.links: dict[str, tuple[str, ...]] = {}  # code → element ids
        self.rules: dict[int, LinkRule] = {}
        self.mixes: dict[str, Mix] = {}  # by name (``model/curing_ops.py``)
        self.next_number = 1
        # the planned dates of ``schedule`` (``plan_analysis.planned_dates``), once computed
        self.baseline: tuple[Schedule, dict[str, tuple[datetime, datetime]]] | None = None
        self._codes: tuple[Schedule | None, dict[str, str]] | None = None  # id → code

    # -- transactions --------------------------------------------------------------------

    def savepoint(self) -> dict[str, Any]:
        return {name: (dict(value) if isinstance(value, dict) else value)
                for name, value in vars(self).items()}

    def rollback(self, saved: Mapping[str, Any]) -> None:
        for name, value in saved.items():
            setattr(self, name, value)

    def _number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    # -- queries -------------------------------------------------------------------------

    def current(self) -> Schedule:
        if self.schedule is None:
            raise NotFound("the twin has no schedule: import one with "
                           "`twinsync schedule import FILE`")
        return self.schedule

    def activity(self, code: str) -> Activity:
        self.current()
        try:
            return self.activities[code]
        except KeyError:
            raise NotFound(f"no activity {validate.shown(code)} in the schedule") from None

    def _code_of(self, activity_id: str) -> str:
        if self._codes is None or self._codes[0] is not self.schedule:
            self._codes = (self.schedule, {a.id: a.code for a in self.activities.values()})
        return self._codes[1].get(activity_id, "")

    def direct_progress(self, code: str, as_of: datetime) -> Progress | None:
        """The latest report of the activity's progress dated on or before ``as_of``: the
        twin's own, or the file's (see the module's text)."""
        best: Progress | None = None
        for report in self.progress.get(code, ()):
            if report.date <= as_of:
                best = Progress.of_report(report)  # reports are kept in date order
        activity = self.activities.get(code)
        if activity is not None and self.schedule is not None:
            from_file = file_progress(activity, self.schedule.data_date)
            if from_file is not None and from_file.date <= as_of and (
                    best is None or from_file.date > best.date):
                best = from_file
        return best

    def observed_status(self, element_id: str, as_of: datetime) -> StatusReport | None:
        found = None
        for report in self.statuses.get(element_id, ()):
            if report.date <= as_of:
                found = report
        return found

    def linked(self, twin: Twin) -> dict[str, dict[str, str]]:
        """code → element id → how it is linked (``explicit``, ``rule <n>``), over the
        current schedule's activities and the twin's elements that are not archived."""
        result: dict[str, dict[str, str]] = {code: {} for code in self.activities}
        for code, element_ids in self.links.items():
            if code in result:
                for element_id in element_ids:
                    element = twin.elements.get(element_id)
                    if element is not None and not element.archived:
                        result[code][element_id] = "explicit"
        by_global_id = {e.global_id: e.id for e in twin.elements.values() if e.global_id}
        if self.schedule is not None:
            # the elements the file itself names, by GlobalId (an IFC work schedule's)
            for activity_id, global_ids in self.schedule.element_links.items():
                code = self._code_of(activity_id)
                for global_id in global_ids if code in result else ():
                    named = (global_id if global_id in twin.elements
                             else by_global_id.get(global_id))
                    if named is not None and not twin.elements[named].archived:
                        result[code].setdefault(named, "file")
        live = [e for e in twin.elements.values()
                if not e.archived and e.type not in SPATIAL_TYPES]
        for rule in self.rules.values():
            how = f"rule {rule.number}"
            if rule.property is not None:
                for element in live:
                    value = element.properties.get(rule.property)
                    if value is not None and str(value.value) in result:
                        result[str(value.value)].setdefault(element.id, how)
                continue
            codes = [code for code in result if rule.takes(code)]
            if not codes:
                continue
            chosen = [e.id for e in live if _rule_takes_element(rule, twin, e)]
            for code in codes:
                for element_id in chosen:
                    result[code].setdefault(element_id, how)
        return result

    # -- operations ----------------------------------------------------------------------

    def import_schedule(self, schedule: Schedule, data: bytes, *, name: str, time: float,
                        file_format: str = "xer", force: bool = False
                        ) -> tuple[Event, list[PlanRow], dict[str, Any]]:
        """A new version of the schedule: it replaces the current one; the twin's progress,
        links and rules stay. A schedule of another project than the current one is refused
        (``Conflict``) unless ``force``: its codes would orphan what the twin holds."""
        time = validate.event_time(time)
        if self.version is not None and self.version.project != schedule.project_code and (
                not force):
            raise Conflict(f"the twin's schedule is project {self.version.project!r}; this "
                           f"file is project {schedule.project_code!r}: its activities would "
                           "leave the twin's progress and links behind. Import it with "
                           "force to replace the schedule anyway")
        seen: set[str] = set()
        for activity in schedule.activities:
            if activity.code in seen:
                raise InvalidInput(f"activity code {activity.code!r} appears twice in the "
                                   "schedule: the twin keys progress and links by code",
                                   "duplicate_code")
            seen.add(activity.code)
        number = self.version.number + 1 if self.version else 1
        record = VersionRecord(number, name, schedule.project_code, schedule.data_date, time,
                               len(schedule.activities), file_format)
        before = set(self.activities)
        self.version, self.schedule = record, schedule
        self.activities = {a.code: a for a in schedule.activities}
        after = set(self.activities)
        report = {
            **record.to_dict(), "relationships": len(schedule.relationships),
            "added": len(after - before), "removed": len(before - after) if before else 0,
            "removed_codes": sorted(before - after)[:LISTED],
            "kept": {"progress": sum(1 for c in self.progress if c in after),
                     "links": sum(1 for c in self.links if c in after),
                     "rules": len(self.rules)},
            "orphaned": {"progress": sorted(c for c in self.progress if c not in after)[:LISTED],
                         "links": sorted(c for c in self.links if c not in after)[:LISTED]},
            "external_relationships": len(schedule.external_relationships),
            "warnings": list(schedule.warnings[:LISTED]),
        }
        event = Event("schedule_imported", time, None, Source.SCHEDULE.value,
                      {key: report[key] for key in ("version", "name", "project", "data_date",
                                                     "activities", "added", "removed")})
        rows = [record.row(), (FILE, number_key(number), data)]
        return event, rows, report

    def set_links(self, twin: Twin, code: str, elements: Iterable[object], *,
                  time: float) -> tuple[Event, list[PlanRow]]:
        """The elements an activity builds, named by id or GlobalId (replacing the
        explicit links it had; rules still add theirs)."""
        self.activity(code)
        time = validate.event_time(time)
        named = list(elements)
        if len(named) > MAX_LINKED:
            raise InvalidInput(f"{len(named)} elements; at most {MAX_LINKED}", "too_many")
        by_global_id = {e.global_id: e.id for e in twin.elements.values() if e.global_id}
        element_ids: list[str] = []
        for name in named:
            if not isinstance(name, str):
                raise InvalidInput("elements are named by their id or GlobalId, as text",
                                   "bad_link")
            element_id = name if name in twin.elements else by_global_id.get(name)
            if element_id is None or twin.elements[element_id].archived:
                raise NotFound(f"no element {validate.shown(name)} (by id or GlobalId)")
            if element_id not in element_ids:
                element_ids.append(element_id)
        self.links = {**self.links, code: tuple(element_ids)}
        event = Event("activity_linked", time, None, Source.MANUAL.value,
                      {"activity": code, "elements": element_ids})
        return event, [link_row(code, element_ids)]

    def add_rule(self, data: object, *, time: float) -> tuple[Event, list[PlanRow], LinkRule]:
        time = validate.event_time(time)
        rule = LinkRule.from_dict(self.next_number, data)
        self._number()
        self.rules = {**self.rules, rule.number: rule}
        event = Event("link_rule_added", time, None, Source.MANUAL.value, rule.to_dict())
        return event, [rule.row()], rule

    def report_progress(
        self, twin: Twin, code: str, *, percent_complete: object, date: datetime,
        source: Source, confidence: float | None = None, actual_start: datetime | None = None,
        actual_finish: datetime | None = None, actual_cost: object = None, time: float,
        links: Mapping[str, Mapping[str, str]] | None = None,
    ) -> tuple[list[Event], list[PlanRow], list[Element]]:
        """Record an activity's progress as of ``date`` and move its elements' statuses.

        Dates left out follow from the percent: the first report above 0 % starts the
        activity on its date, a report of 100 % finishes it; a cost left out stays as the
        last report had it. Returns the events, the rows, and the elements changed."""
        activity = self.activity(code)
        time = validate.event_time(time)
        percent = validate.number(percent_complete, "percent_complete", low=0.0, high=100.0)
        trust = DEFAULT_CONFIDENCE[source] if confidence is None else validate.confidence(
            confidence)
        cost = None if actual_cost is None else validate.number(actual_cost, "actual_cost",
                                                                 low=0.0)
        earlier = self.direct_progress(code, date)
        if actual_start is None and percent > 0:
            actual_start = earlier.actual_start if earlier and earlier.actual_start else date
        if actual_finish is None and percent >= 100:
            actual_finish = date
        if percent < 100:
            actual_finish = None
        if percent == 0:
            actual_start = None
        if actual_start and actual_finish and actual_finish < actual_start:
            raise InvalidInput("the actual finish is before the actual start", "bad_date")
        if cost is None and earlier is not None:
            cost = earlier.actual_cost
        report = ProgressReport(self._number(), activity.code, date, time, source, trust,
                                percent, actual_start, actual_finish, cost)
        # A report of an earlier date (a late field sheet) goes in its place among them.
        reports = sorted((*self.progress.get(code, ()), report), key=lambda r: (r.date, r.number))
        self.progress = {**self.progress, code: tuple(reports)}
        events = [Event("activity_progress", time, None, source.value, report.to_dict())]
        linked = links if links is not None else self.linked(twin)
        changed = self._follow(twin, code, linked, report, events)
        return events, [report.row()], changed

    def _follow(self, twin: Twin, code: str, linked: Mapping[str, Mapping[str, str]],
                report: ProgressReport, events: list[Event]) -> list[Element]:
        """Statuses of the activity's elements, as its progress now implies them."""
        activities_of: dict[str, list[str]] = {}
        for other, elements in linked.items():
            for element_id in elements:
                activities_of.setdefault(element_id, []).append(other)
        changed = []
        for element_id in linked.get(code, {}):
            element = twin.elements[element_id]
            implied = self.implied_status(activities_of[element_id], report.date)
            if implied is None or element.status in (implied, Status.ISSUE):
                continue
            observed = self.observed_status(element_id, report.date)
            if (observed is not None and observed.status is not implied
                    and observed.confidence > report.confidence):
                continue  # the more trusted observation stands; the views show both
            # Replaced, not changed in place, so a failed commit's rollback restores it.
            copy = dataclasses.replace(element, properties=dict(element.properties))
            twin.elements[element_id] = copy
            event = twin.update_status(element_id, implied, source=Source.SCHEDULE,
                                       time=report.time)
            event.data.update({"activity": code, "confidence": report.confidence,
                               "reported_by": report.source.value})
            events.append(event)
            changed.append(copy)
        return changed

    def implied_status(self, codes: Iterable[str], as_of: datetime) -> Status | None:
        """What the activities' own progress says of an element they build: completed
        when all are complete, in progress when one has started; None without a schedule."""
        states = []
        for code in codes:
            progress = self.direct_progress(code, as_of)
            states.append(progress.state if progress else "not_started")
        if not states:
            return None
        if all(state == "complete" for state in states):
            return Status.COMPLETED
        if any(state != "not_started" for state in states):
            return Status.IN_PROGRESS
        return Status.PLANNED

    def observe_status(self, element_id: str, status: Status, *, source: Source,
                       date: datetime, time: float, confidence: float | None = None
                       ) -> list[PlanRow]:
        """Keep an element's status as a source observed it (a field report, a survey)."""
        if source is Source.SCHEDULE:
            return []  # implied by the schedule, not observed
        trust = DEFAULT_CONFIDENCE[source] if confidence is None else confidence
        report = StatusReport(self._number(), element_id, date, time, status, source, trust)
        kept = [r for r in self.statuses.get(element_id, ()) if r.date <= date]
        later = [r for r in self.statuses.get(element_id, ()) if r.date > date]
        self.statuses = {**self.statuses, element_id: (*kept, report, *later)}
        return [report.row()]

    def record_survey(self, twin: Twin, survey: Survey, *, source: Source, date: datetime,
                      time: float) -> tuple[list[Event], list[PlanRow], list[Element]]:
        """A survey's observations: per element the share built, with a confidence. Every
        row is checked first (``InvalidInput`` naming it: nothing is kept); then each
        element is observed, and its status follows what was surveyed (events of the
        survey's source), unless it has an ``issue``."""
        time = validate.event_time(time)
        by_global_id = {e.global_id: e.id for e in twin.elements.values() if e.global_id}
        found = []
        for number, row in enumerate(survey.rows, start=1):
            element_id = row.element if row.element in twin.elements else by_global_id.get(
                row.element)
            if element_id is None or twin.elements[element_id].archived:
                raise NotFound(f"survey row {number}: no element {validate.shown(row.element)}"
                               " (by id or GlobalId)")
            found.append((element_id, row))
        trust = DEFAULT_CONFIDENCE[source]
        events = [Event("survey_recorded", time, None, source.value,
                        {"date": format_day(date), "elements": len(found)})]
        rows: list[PlanRow] = []
        changed: list[Element] = []
        for element_id, row in found:
            status = status_of_percent(row.percent_complete)
            seen = StatusReport(self._number(), element_id, date, time, status, source,
                                trust if row.confidence is None else row.confidence,
                                row.percent_complete)
            self.statuses = {**self.statuses, element_id: tuple(sorted(
                (*self.statuses.get(element_id, ()), seen), key=lambda r: (r.date, r.number)))}
            rows.append(seen.row())
            element = twin.elements[element_id]
            if element.status in (status, Status.ISSUE):
                continue
            copy = dataclasses.replace(element, properties=dict(element.properties))
            twin.elements[element_id] = copy
            event = twin.update_status(element_id, status, source=source, time=time)
            event.data.update({"confidence": seen.confidence,
                               "percent_complete": row.percent_complete})
            events.append(event)
            changed.append(copy)
        return events, rows, changed

    # -- loading -------------------------------------------------------------------------

    def load(self, rows: Iterable[PlanRow], read: Callable[[bytes, VersionRecord], Schedule]
             ) -> list[str]:
        """Rebuild from stored rows (no events: they are in the store already). A row that
        no longer decodes is skipped, not fatal; the reasons are returned. The current
        version's file is read with ``read``, whose errors reach the caller."""
        files: dict[str, bytes] = {}
        progress: dict[str, list[ProgressReport]] = {}
        statuses: dict[str, list[StatusReport]] = {}
        skipped: list[str] = []
        highest = 0
        for kind, key, body in sorted(rows, key=lambda row: (row[0], row[1])):
            if kind in (PROGRESS, STATUS, RULE) and key.isdigit():
                # A skipped row's number is not given out again either.
                highest = max(highest, int(key))
            try:
                if kind == VERSION:
                    record = VersionRecord.from_body(body)
                    if self.version is None or record.number > self.version.number:
                        self.version = record
                elif kind == FILE:
                    files[key] = body
                elif kind == PROGRESS:
                    report = ProgressReport.from_body(body)
                    progress.setdefault(report.activity, []).append(report)
                    highest = max(highest, report.number)
                elif kind == STATUS:
                    seen = StatusReport.from_body(body)
                    statuses.setdefault(seen.element_id, []).append(seen)
                    highest = max(highest, seen.number)
                elif kind == LINK:
                    self.links[key] = tuple(_link_elements(body))
                elif kind == MIX:
                    mix = Mix.from_body(body)
                    self.mixes = {**self.mixes, mix.name: mix}
                elif kind == RULE:
                    rule = LinkRule.from_body(body)
                    self.rules[rule.number] = rule
                    highest = max(highest, rule.number)
            except (ValueError, KeyError, TypeError, InvalidInput) as exc:
                skipped.append(f"{kind} {key}: {type(exc).__name__}: {exc}")
        self.progress = {code: tuple(sorted(reports, key=lambda r: (r.date, r.number)))
                         for code, reports in progress.items()}
        self.statuses = {element_id: tuple(sorted(seen, key=lambda r: (r.date, r.number)))
                         for element_id, seen in statuses.items()}
        self.next_number = highest + 1
        if self.version is not None:
            data = files.get(number_key(self.version.number))
            if data is None:
                raise InvalidInput(f"the file of schedule version {self.version.number} is "
                                   "not in the store", "corrupt_store")
            self.schedule = read(data, self.version)
            self.activities = {a.code: a for a in self.schedule.activities}
        return skipped


def local_date(epoch: float) -> datetime:
    """An instant as the schedule's dates are kept: naive local time, to the minute (the
    schedule's local time is this machine's)."""
    return datetime.fromtimestamp(epoch).replace(second=0, microsecond=0)


def _rule_takes_element(rule: LinkRule, twin: Twin, element: Element) -> bool:
    if rule.ifc_class is not None and element.type != rule.ifc_class:
        return False
    if rule.storey is None:
        return True
    storey_id = twin.storey_of(element.id)
    if storey_id is None:
        return False
    storey = twin.elements.get(storey_id)
    return rule.storey in (storey_id, storey.name if storey else None)


def _link_elements(body: bytes) -> list[str]:
    import orjson

    return [str(e) for e in orjson.loads(body)["elements"]]
