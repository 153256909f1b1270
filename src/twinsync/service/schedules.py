"""The twin's schedule in the service: import a version, link elements, report progress,
and read it as of a date.

Changes run as transactions on the writer like every change of the twin (the schedule's
rows, the elements whose status follows, the events and the audit entry commit together,
or nothing does). Reading a file and analysing the schedule are CPU-bound: a file is read
in a worker thread before its transaction, and an analysis runs in a worker thread on a
snapshot taken on the writer (the schedule's registries are replaced, never changed in
place, so a shallow copy is a consistent one).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import TwinsyncError
from ..model import DEFAULT_CONFIDENCE, Event, Source, Status, Twin, validate
from ..model.plan import TwinSchedule, local_date
from ..model.plan_analysis import Analysis
from ..model.plan_records import PlanRow, VersionRecord, format_day
from ..model.plan_report import csv_text, xlsx_bytes
from ..model.survey import parse_survey
from ..schedule import Schedule, schedule_cpm
from ..schedule.files import file_format_of, read_schedule
from ..store import Store
from ..store.audit import SYSTEM, Actor, AuditEntry
from .commit import Change
from .revisions import element_key

if TYPE_CHECKING:
    from .twin_service import TwinService

log = logging.getLogger(__name__)


def _readable_and_schedulable(data: bytes, file_format: str, project: str | None
                              ) -> Schedule:
    """The file's schedule, once it is known to schedule: a file whose logic loops is
    refused at import, naming the loop, rather than failing every view afterwards."""
    schedule = read_schedule(data, file_format, project)
    schedule_cpm(schedule)
    return schedule


def _read_version(data: bytes, record: VersionRecord) -> Schedule:
    return read_schedule(data, record.file_format, record.project)


def load_plan(store: Store) -> TwinSchedule:
    """The twin's schedule as stored. A stored file that no longer reads leaves the twin
    without a schedule (logged), not without a service."""
    plan = TwinSchedule()
    try:
        for problem in plan.load(store.load_plan(), _read_version):
            log.warning("a stored schedule row was skipped: %s", problem)
    except TwinsyncError as exc:
        log.error("the stored schedule could not be read; the twin starts without one: %s",
                  exc)
        plan.schedule = None
        plan.activities = {}
    return plan


class ScheduleDesk:
    """The schedule operations and views of one ``TwinService``."""

    def __init__(self, service: TwinService) -> None:
        self.service = service

    # -- changes -------------------------------------------------------------------------

    def observed(self, event: Event, confidence: float | None) -> list[PlanRow]:
        """On the writer, in the transaction of a status change a source made: its
        confidence on the event, and the observation kept for the schedule."""
        source = Source(event.source)
        trust = DEFAULT_CONFIDENCE[source] if confidence is None else validate.confidence(
            confidence)
        event.data["confidence"] = trust
        return self.service.plan.observe_status(
            event.element_id or "", Status(event.data["status"]), source=source,
            date=local_date(event.time), time=event.time, confidence=trust)

    async def import_bytes(self, data: bytes, *, name: str = "schedule.xer",
                           project: str | None = None, force: bool = False,
                           actor: Actor = SYSTEM) -> dict[str, Any]:
        """Import a version of the schedule (P6 XER or MS Project XML, told apart by their
        content): all of it, or nothing (ScheduleImportError)."""
        file_format = file_format_of(data)
        schedule = await asyncio.to_thread(_readable_and_schedulable, data, file_format,
                                           project)
        service = self.service
        reports: list[dict[str, Any]] = []

        def propose() -> Change:
            event, rows, report = service.plan.import_schedule(
                schedule, data, name=name, time=service.clock(), file_format=file_format,
                force=force)
            reports.append(report)
            entry = service._entry("import_schedule", f"schedule:{report['version']}", actor,
                                   after={k: report[k] for k in ("name", "project",
                                                                 "activities", "added",
                                                                 "removed")})
            return Change([event], audit=[entry], plan=rows)

        await service._run(propose)
        return reports[0]

    async def set_links(self, code: str, elements: list[Any], *, actor: Actor = SYSTEM
                        ) -> dict[str, Any]:
        service = self.service

        def propose() -> Change:
            before = list(service.plan.links.get(code, ()))
            event, rows = service.plan.set_links(service.twin, code, elements,
                                                 time=service.clock())
            entry = service._entry("link_activity", f"activity:{code}", actor,
                                   {"elements": before}, {"elements": event.data["elements"]})
            return Change([event], audit=[entry], plan=rows)

        events = await service._run(propose)
        return events[0].data

    async def add_rule(self, body: object, *, actor: Actor = SYSTEM) -> dict[str, Any]:
        service = self.service
        rules: list[dict[str, Any]] = []

        def propose() -> Change:
            event, rows, rule = service.plan.add_rule(body, time=service.clock())
            rules.append(rule.to_dict())
            entry = service._entry("add_link_rule", f"link_rule:{rule.number}", actor,
                                   after=rule.to_dict())
            return Change([event], audit=[entry], plan=rows)

        await service._run(propose)
        return rules[0]

    async def report_progress(self, code: str, *, percent_complete: object,
                              date: datetime | None = None, source: Source = Source.FIELD,
                              confidence: float | None = None,
                              actual_start: datetime | None = None,
                              actual_finish: datetime | None = None,
                              actual_cost: object = None, actor: Actor = SYSTEM
                              ) -> list[dict[str, Any]]:
        """An activity's progress as of ``date`` (default now); its elements follow."""
        service = self.service

        def propose() -> Change:
            now = service.clock()
            events, rows, changed = service.plan.report_progress(
                service.twin, code, percent_complete=percent_complete,
                date=date or local_date(now), source=source, confidence=confidence,
                actual_start=actual_start, actual_finish=actual_finish,
                actual_cost=actual_cost, time=now)
            entries = [service._entry("report_progress", f"activity:{code}", actor,
                                      after=events[0].data)]
            entries += _status_entries(service, events[1:], actor)
            return Change(events, elements=changed, audit=entries, plan=rows)

        events = await service._run(propose)
        return [event.to_dict() for event in events]

    async def record_survey(self, data: bytes, *, date: datetime | None = None,
                            source: Source = Source.DRONE, actor: Actor = SYSTEM
                            ) -> list[dict[str, Any]]:
        """A reality-capture survey (JSON or CSV, ``model/survey.py``): all of it, or
        nothing. ``date`` is what it shows (else the survey's own, else now)."""
        survey = await asyncio.to_thread(parse_survey, data)
        service = self.service

        def propose() -> Change:
            now = service.clock()
            when = date or survey.date or local_date(now)
            events, rows, changed = service.plan.record_survey(
                service.twin, survey, source=source, date=when, time=now)
            entries = [service._entry("record_survey", f"survey:{format_day(when)}", actor,
                                      after=events[0].data)]
            entries += _status_entries(service, events[1:], actor)
            return Change(events, elements=changed, audit=entries, plan=rows)

        events = await service._run(propose)
        return [event.to_dict() for event in events]

    # -- views ---------------------------------------------------------------------------

    async def _analysis(self, as_of: datetime | None) -> Analysis:
        service = self.service

        def snapshot() -> tuple[TwinSchedule, Twin]:
            plan = TwinSchedule()
            plan.rollback(service.plan.savepoint())
            plan.current()  # NotFound before any work when there is no schedule
            twin = Twin()
            twin.elements = dict(service.twin.elements)
            return plan, twin

        plan, twin = await service.view(snapshot)
        when = as_of or local_date(service.clock())
        analysis = await asyncio.to_thread(Analysis, plan, twin, when)
        if plan.baseline is not None and service.plan.schedule is plan.schedule:
            service.plan.baseline = plan.baseline  # planned dates, kept for the next view
        return analysis

    async def overview(self, as_of: datetime | None = None) -> dict[str, Any]:
        analysis = await self._analysis(as_of)
        return await asyncio.to_thread(analysis.overview)

    async def activity(self, code: str, as_of: datetime | None = None) -> dict[str, Any]:
        analysis = await self._analysis(as_of)
        return analysis.activity_view(analysis.plan.activity(code), with_elements=True)

    async def element_states(self, as_of: datetime | None = None) -> dict[str, Any]:
        """The elements of every activity, and where each stands as of the date."""
        analysis = await self._analysis(as_of)
        return await asyncio.to_thread(analysis.element_states)

    async def element(self, element_id: str, as_of: datetime | None = None
                      ) -> dict[str, Any] | None:
        """An element's activities and what they say of it; None without a schedule."""
        if self.service.plan.schedule is None:
            return None
        analysis = await self._analysis(as_of)
        return analysis.element_view(element_id)

    async def report(self, as_of: datetime | None = None, *, file_format: str = "csv"
                     ) -> bytes:
        """Planned vs actual and earned value per activity, WBS node and the project, as
        CSV (UTF-8) or an XLSX workbook."""
        analysis = await self._analysis(as_of)
        rows = await asyncio.to_thread(analysis.report_rows)
        if file_format == "xlsx":
            version = analysis.plan.version
            about = [("schedule", analysis.schedule.project_code),
                     ("version", str(version.number if version else "")),
                     ("file", version.name if version else ""),
                     ("as of", format_day(analysis.as_of) or ""),
                     ("unit", "hours" if analysis.in_hours else "cost")]
            return await asyncio.to_thread(xlsx_bytes, rows, about)
        return csv_text(rows).encode("utf-8")

    async def rules(self) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            return [rule.to_dict() for rule in self.service.plan.rules.values()]
        return await self.service.view(read)


def _status_entries(service: TwinService, events: list[Event], actor: Actor
                    ) -> list[AuditEntry]:
    """The audit entries of the element statuses a progress report or a survey changed."""
    return [service._entry("update_element", element_key(event.element_id or ""), actor,
                           {"status": event.data["previous"]},
                           {"status": event.data["status"]}, element_id=event.element_id)
            for event in events]
