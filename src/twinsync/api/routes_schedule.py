"""REST for the schedule: upload a version, read it as of a date, link elements to
activities, report progress, and the CSV report. The service does the work
(``service/schedules.py``); these handlers only translate HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput
from ..model.plan_records import parse_day
from ..service import TwinService
from .access import actor, earned_source, identity_of
from .contract import FILE_BODY, errors, json_body
from .deps import service
from .responses import JSON
from .schemas.common import EventList
from .schemas.plans import (
    ActivityDetail,
    ActivityLinks,
    ElementStates,
    LinkRule,
    LinkRuleIn,
    ScheduleImported,
    ScheduleOverview,
)
from .uploads import uploaded_file

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]
MAX_SCHEDULE_BYTES = 256 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A survey is JSON, or CSV sent as bytes (``text/csv`` is refused like any text type).
SURVEY_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["elements"], "properties": {
        "elements": {"type": "array", "items": {"type": "object"}}}}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


class ProgressIn(BaseModel):
    """An activity's progress as of ``date`` (``YYYY-MM-DD HH:MM``, the schedule's local
    time; default now). Dates left out follow from the percent."""

    model_config = ConfigDict(extra="forbid")
    percent_complete: float = Field(ge=0, le=100)
    date: str | None = None
    actual_start: str | None = None
    actual_finish: str | None = None
    actual_cost: float | None = Field(default=None, ge=0)
    confidence: float | None = Field(default=None, ge=0, le=1)
    source: str | None = None
    """Set by who sends it (``field`` for a person); another value is refused."""


class LinksIn(BaseModel):
    """The elements an activity builds, by id or IFC GlobalId (replacing the ones it had)."""

    model_config = ConfigDict(extra="forbid")
    elements: list[str]


def as_of_param(value: str | None) -> datetime | None:
    return parse_day(value, "as_of")


@router.post("/schedules", status_code=201, response_model=ScheduleImported,
             openapi_extra=FILE_BODY, responses=errors(409))
async def post_schedule(request: Request, svc: Service, project: str | None = None,
                        force: bool = False) -> JSON:
    """Import a version of the schedule (Primavera P6 XER, MS Project XML, an IFC file's
    work schedule or CSV, told apart by their content), sent as the raw body or as a
    multipart form field ``file``. Progress entered in the twin, element links and link
    rules are kept (by activity code). ``project`` chooses one of several projects (XER)
    or work schedules (IFC). A schedule of another project than the twin's is refused
    with 409 unless ``force=1``."""
    name, data = await uploaded_file(request, "schedule.xer", "schedule", MAX_SCHEDULE_BYTES)
    report = await svc.schedules.import_bytes(data, name=name, project=project, force=force,
                                              actor=actor(request))
    return JSON(report, status_code=201)


@router.get("/schedule", response_model=ScheduleOverview, responses=errors(404))
async def get_schedule(svc: Service, as_of: str | None = None) -> JSON:
    """Every activity as of ``as_of`` (default now): dates and floats of the critical path
    with the twin's progress, progress and its sources, planned vs actual, earned value;
    WBS nodes and the project's earned value."""
    return JSON(await svc.schedules.overview(as_of_param(as_of)))


@router.get("/schedule/elements", response_model=ElementStates, responses=errors(404))
async def get_element_states(svc: Service, as_of: str | None = None) -> JSON:
    """Every activity's linked elements in one answer, and for each activity and linked
    element its planned and built state and its standing as of ``as_of`` (default now):
    what the dashboard's Gantt links to the model and its 4D view plays."""
    return JSON(await svc.schedules.element_states(as_of_param(as_of)))


@router.get("/schedule/activities/{activity_id:id}", response_model=ActivityDetail,
            responses=errors(404))
async def get_activity(activity_id: str, svc: Service, as_of: str | None = None) -> JSON:
    """One activity (by its code) as of ``as_of``, with its elements and progress reports."""
    return JSON(await svc.schedules.activity(activity_id, as_of_param(as_of)))


@router.put("/schedule/activities/{activity_id:id}/elements", response_model=ActivityLinks,
            responses=errors(404))
async def put_activity_elements(activity_id: str, body: LinksIn, svc: Service,
                                request: Request) -> JSON:
    return JSON(await svc.schedules.set_links(activity_id, body.elements,
                                              actor=actor(request)))


@router.post("/schedule/activities/{activity_id:id}/progress", status_code=201,
             response_model=EventList, responses=errors(404))
async def post_progress(activity_id: str, body: ProgressIn, svc: Service,
                        request: Request) -> JSON:
    """Report an activity's progress; the statuses of its elements follow (events of
    source ``schedule``) unless a more trusted observation of an element says otherwise."""
    source = earned_source(identity_of(request), body.source)
    events = await svc.schedules.report_progress(
        activity_id, percent_complete=body.percent_complete, date=parse_day(body.date, "date"),
        source=source, confidence=body.confidence,
        actual_start=parse_day(body.actual_start, "actual_start"),
        actual_finish=parse_day(body.actual_finish, "actual_finish"),
        actual_cost=body.actual_cost, actor=actor(request))
    return JSON({"events": events}, status_code=201)


@router.post("/schedule/surveys", status_code=201, response_model=EventList,
             responses=errors(404), openapi_extra=SURVEY_BODY)
async def post_survey(request: Request, svc: Service, date: str | None = None) -> JSON:
    """A reality-capture survey: per element (id or GlobalId) the percent built and a
    confidence, as JSON or CSV (sent as ``application/octet-stream``). Its source is
    ``drone``; the surveyed elements' statuses follow. ``date``: what it shows."""
    data = await request.body()
    if len(data) > MAX_SCHEDULE_BYTES:
        raise InvalidInput(f"survey larger than {MAX_SCHEDULE_BYTES} bytes", "too_large")
    events = await svc.schedules.record_survey(data, date=parse_day(date, "date"),
                                               actor=actor(request))
    return JSON({"events": events}, status_code=201)


@router.get("/schedule/link-rules", response_model=list[LinkRule])
async def get_link_rules(svc: Service) -> JSON:
    return JSON(await svc.schedules.rules())


@router.post("/schedule/link-rules", status_code=201, response_model=LinkRule,
             responses=errors(404), openapi_extra=json_body(LinkRuleIn, "A link rule"))
async def post_link_rule(request: Request, svc: Service) -> JSON:
    """A rule that links elements to activities: ``{"activities": "L1-*", "ifc_class":
    "IfcSlab", "storey": "Level 1"}``, or ``{"property": "ActivityCode"}`` (elements whose
    property holds an activity's code)."""
    try:
        body: Any = await request.json()
    except ValueError as exc:  # not JSON, or not UTF-8
        raise InvalidInput("a link rule is a JSON object; the body is not JSON",
                           "bad_json") from exc
    return JSON(await svc.schedules.add_rule(body, actor=actor(request)), status_code=201)


@router.get("/schedule/report.csv", response_class=Response, responses={
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
    **errors(404)})
async def get_report(svc: Service, as_of: str | None = None) -> Response:
    """Planned vs actual and earned value per activity, WBS node and the project, as CSV."""
    body = await svc.schedules.report(as_of_param(as_of))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="schedule.csv"'})


@router.get("/schedule/report.xlsx", response_class=Response, responses={
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
          "description": "An XLSX workbook"}, **errors(404)})
async def get_report_xlsx(svc: Service, as_of: str | None = None) -> Response:
    """The CSV report's rows as an XLSX workbook (figures as numbers), with a sheet
    saying which schedule, version and date it is of."""
    body = await svc.schedules.report(as_of_param(as_of), file_format="xlsx")
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="schedule.xlsx"'})
