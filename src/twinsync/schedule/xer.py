"""Primavera P6 XER import: one project of a file as a ``Schedule``.

Reads PROJECT, CALENDAR, SCHEDOPTIONS, PROJWBS, TASK and TASKPRED, and the costs of
TASKRSRC (resource assignments) and PROJCOST (expenses); other tables are skipped. A file
may hold several projects: one is chosen by ``proj_id`` or short name.
A relationship between the chosen project and another one is kept in
``Schedule.external_relationships`` (and so reported), not scheduled and not dropped. A
field that cannot be read fails the whole import with its line; nothing is half-imported,
because the schedule is only built once every row has been read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..errors import ScheduleImportError
from .calendar import WorkCalendar, read_date
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
from .xer_calendar import parse_clndr_data
from .xer_tables import Row, Table, read_tables

TASK_TYPES = {
    "TT_Task": ActivityType.TASK, "TT_Rsrc": ActivityType.TASK,
    "TT_Mile": ActivityType.START_MILESTONE, "TT_FinMile": ActivityType.FINISH_MILESTONE,
    "TT_LOE": ActivityType.LEVEL_OF_EFFORT, "TT_WBS": ActivityType.WBS_SUMMARY,
}
CONSTRAINTS = {
    "CS_MSO": ConstraintType.START_ON, "CS_MSOA": ConstraintType.START_ON_OR_AFTER,
    "CS_MSOB": ConstraintType.START_ON_OR_BEFORE, "CS_MEO": ConstraintType.FINISH_ON,
    "CS_MEOA": ConstraintType.FINISH_ON_OR_AFTER, "CS_MEOB": ConstraintType.FINISH_ON_OR_BEFORE,
    "CS_ALAP": ConstraintType.AS_LATE_AS_POSSIBLE,
    "CS_MANDSTART": ConstraintType.MANDATORY_START, "CS_MS": ConstraintType.MANDATORY_START,
    "CS_MANDFIN": ConstraintType.MANDATORY_FINISH, "CS_ME": ConstraintType.MANDATORY_FINISH,
}
RELATION_TYPES = {"PR_FS": RelationType.FS, "PR_SS": RelationType.SS,
                  "PR_FF": RelationType.FF, "PR_SF": RelationType.SF}
LAG_CALENDARS = {"rcal_predecessor": LagCalendar.PREDECESSOR,
                 "rcal_successor": LagCalendar.SUCCESSOR,
                 "rcal_24hour": LagCalendar.TWENTY_FOUR_HOUR,
                 "rcal_projdefault": LagCalendar.PROJECT_DEFAULT}

_NEEDED_FIELDS = {
    "PROJECT": ("proj_id",), "TASK": ("task_id", "proj_id", "task_type"),
    "TASKPRED": ("task_id", "pred_task_id", "pred_type"), "CALENDAR": ("clndr_id",),
    "PROJWBS": ("wbs_id", "proj_id"),
}


def read_xer(data: bytes, project: str | None = None) -> Schedule:
    """The schedule of one project of an XER file (``project``: its id or short name;
    needed only when the file holds more than one)."""
    tables = read_tables(data)
    for name in ("PROJECT", "TASK"):
        if name not in tables:
            raise ScheduleImportError(f"the file has no {name} table", "missing_table")
    for name, needed in _NEEDED_FIELDS.items():
        table = tables.get(name)
        missing = [f for f in needed if table is not None and f not in table.fields]
        if table is not None and missing:
            raise ScheduleImportError(f"line {table.line}: table {name} lacks the field(s) "
                                      f"{', '.join(missing)}", "missing_field", line=table.line)
    chosen = _choose_project(tables["PROJECT"], project)
    project_id = chosen["proj_id"]
    # the short name is optional to the reader; without one the project goes by its id
    project_code = chosen.get("proj_short_name") or project_id
    warnings: list[str] = []

    wbs = {row["wbs_id"]: WbsNode(row["wbs_id"], row.get("wbs_short_name", ""),
                                  row.get("wbs_name", ""), row.get("parent_wbs_id") or None)
           for row in _rows(tables, "PROJWBS") if row.get("proj_id") == project_id}
    task_rows = [row for row in _rows(tables, "TASK") if row.get("proj_id") == project_id]
    project_of: dict[str, str] = {}
    for row in _rows(tables, "TASK"):
        if row["task_id"] in project_of:
            raise ScheduleImportError(f"line {row.line}: task_id {row['task_id']} appears "
                                      "twice", "duplicate_id", line=row.line)
        project_of[row["task_id"]] = row["proj_id"]

    calendar_rows = {row["clndr_id"]: row for row in _rows(tables, "CALENDAR")}
    default_id = chosen.get("clndr_id") or next(
        (cid for cid, row in calendar_rows.items() if row.get("default_flag") == "Y"), "")
    if default_id not in calendar_rows:
        raise ScheduleImportError(f"line {chosen.line}: project {project_code} "
                                  f"names default calendar {default_id!r}, which the file "
                                  "does not hold", "unknown_calendar", line=chosen.line)
    wanted = {default_id}
    activities = []
    for row in task_rows:
        calendar_id = row.get("clndr_id", "")
        if calendar_id not in calendar_rows:
            warnings.append(f"line {row.line}: activity {row.get('task_code')} names calendar "
                            f"{calendar_id!r}, which the file does not hold; it is scheduled "
                            "on the project's default calendar")
            calendar_id = default_id
        wanted.add(calendar_id)
        activities.append(_activity(row, calendar_id))
    budgets, actuals = _costs(tables, {row["task_id"] for row in task_rows})
    activities = [replace(a, budget_cost=budgets.get(a.id, 0.0),
                          actual_cost=actuals.get(a.id, 0.0)) for a in activities]
    calendars = {cid: _calendar(calendar_rows[cid]) for cid in sorted(wanted)}

    relationships, external = _relationships(tables, project_id, project_of)
    data_date = _date(chosen, "last_recalc_date") or _date(chosen, "plan_start_date")
    if data_date is None:
        raise ScheduleImportError(f"line {chosen.line}: project {project_code} "
                                  "has neither a data date (last_recalc_date) nor a planned "
                                  "start", "no_data_date", line=chosen.line)
    return Schedule(
        project_id=project_id, project_code=project_code,
        name=chosen.get("proj_short_name", ""), data_date=data_date,
        default_calendar_id=default_id, calendars=calendars, activities=tuple(activities),
        relationships=tuple(relationships), wbs=wbs,
        options=_options(tables, project_id), must_finish_by=_date(chosen, "plan_end_date"),
        planned_start=_date(chosen, "plan_start_date"),
        external_relationships=tuple(external), warnings=tuple(warnings))


def _rows(tables: dict[str, Table], name: str) -> list[Row]:
    table = tables.get(name)
    return table.rows if table is not None else []


def _choose_project(table: Table, wanted: str | None) -> Row:
    projects = [row for row in table if row.get("proj_id")]
    listing = ", ".join(f"{row.get('proj_short_name', '?')} (id {row['proj_id']})"
                        for row in projects)
    if wanted is None:
        if len(projects) == 1:
            return projects[0]
        if not projects:
            raise ScheduleImportError("the file holds no project", "no_project")
        raise ScheduleImportError(f"the file holds {len(projects)} projects: {listing}; "
                                  "choose one by its id or short name", "choose_project")
    for row in projects:
        if wanted in (row["proj_id"], row.get("proj_short_name")):
            return row
    raise ScheduleImportError(f"no project {wanted!r} in the file; it holds {listing}",
                              "no_project")


def _date(row: Row, name: str) -> datetime | None:
    text = row.get(name, "").strip()
    if not text:
        return None
    day = read_date(text)
    if day is not None:
        return day
    raise ScheduleImportError(f"line {row.line}: {name} {text!r} is not a date "
                              "(YYYY-MM-DD HH:MM)", "bad_date", line=row.line)


def _number(row: Row, name: str, default: float | None = 0.0) -> float | None:
    text = row.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ScheduleImportError(f"line {row.line}: {name} {text!r} is not a number",
                                  "bad_number", line=row.line) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ScheduleImportError(f"line {row.line}: {name} {text!r} is not a finite number",
                                  "bad_number", line=row.line)
    return value


def _activity(row: Row, calendar_id: str) -> Activity:
    code = row.get("task_code", "") or row["task_id"]
    kind = TASK_TYPES.get(row.get("task_type", ""))
    if kind is None:
        raise ScheduleImportError(f"line {row.line}: activity {code} has an unknown type "
                                  f"{row.get('task_type')!r}", "bad_activity", line=row.line)
    constraints = []
    for type_field, date_field in (("cstr_type", "cstr_date"), ("cstr_type2", "cstr_date2")):
        code_text = row.get(type_field, "").strip()
        if not code_text:
            continue
        constraint = CONSTRAINTS.get(code_text)
        if constraint is None:
            raise ScheduleImportError(f"line {row.line}: activity {code} has an unknown "
                                      f"constraint {code_text!r}", "bad_activity",
                                      line=row.line)
        when = _date(row, date_field)
        if when is None and constraint is not ConstraintType.AS_LATE_AS_POSSIBLE:
            raise ScheduleImportError(f"line {row.line}: activity {code}'s constraint "
                                      f"{code_text} has no date", "bad_activity",
                                      line=row.line)
        constraints.append(Constraint(constraint, when))
    status = row.get("status_code", "")
    actual_start = _date(row, "act_start_date")
    actual_finish = _date(row, "act_end_date")
    if status == "TK_NotStart":
        actual_start = actual_finish = None  # stale actuals of an activity put back
    elif status == "TK_Active":
        actual_finish = None
    if actual_finish is not None and actual_start is None:
        actual_start = actual_finish
    return Activity(
        id=row["task_id"], code=code, name=row.get("task_name", ""), type=kind,
        calendar_id=calendar_id, wbs_id=row.get("wbs_id") or None,
        planned_duration_hours=_number(row, "target_drtn_hr_cnt") or 0.0,
        remaining_duration_hours=_number(row, "remain_drtn_hr_cnt", None),
        planned_start=_date(row, "target_start_date"),
        planned_finish=_date(row, "target_end_date"),
        actual_start=actual_start, actual_finish=actual_finish,
        physical_percent_complete=_number(row, "phys_complete_pct") or 0.0,
        constraints=tuple(constraints),
        reported=ReportedDates(
            early_start=_date(row, "early_start_date"), early_finish=_date(row, "early_end_date"),
            late_start=_date(row, "late_start_date"), late_finish=_date(row, "late_end_date"),
            remaining_start=_date(row, "restart_date"), remaining_finish=_date(row, "reend_date"),
            total_float_hours=_number(row, "total_float_hr_cnt", None),
            free_float_hours=_number(row, "free_float_hr_cnt", None)))


#: Per cost table: the fields of the budget at completion and of the actual cost to date.
_COST_FIELDS = {"TASKRSRC": (("target_cost",), ("act_reg_cost", "act_ot_cost")),
                "PROJCOST": (("target_cost",), ("act_cost",))}


def _costs(tables: dict[str, Table], task_ids: set[str]
           ) -> tuple[dict[str, float], dict[str, float]]:
    """Budget at completion and actual cost per activity: the sums over its resource
    assignments (TASKRSRC) and expenses (PROJCOST)."""
    budgets: dict[str, float] = {}
    actuals: dict[str, float] = {}
    for name, (budget_fields, actual_fields) in _COST_FIELDS.items():
        for row in _rows(tables, name):
            task_id = row.get("task_id", "")
            if task_id not in task_ids:
                continue
            for fields, sums in ((budget_fields, budgets), (actual_fields, actuals)):
                for field_name in fields:
                    sums[task_id] = sums.get(task_id, 0.0) + (_number(row, field_name) or 0.0)
    return budgets, actuals


def _calendar(row: Row) -> WorkCalendar:
    hours = _number(row, "day_hr_cnt", 8.0) or 8.0
    try:
        return parse_clndr_data(row["clndr_id"], row.get("clndr_name", ""),
                                row.get("clndr_data", ""), hours)
    except ScheduleImportError as exc:
        raise ScheduleImportError(f"line {row.line}: calendar {row.get('clndr_name')}: {exc}",
                                  exc.reason, line=row.line) from exc
    except ValueError as exc:
        raise ScheduleImportError(f"line {row.line}: calendar {row.get('clndr_name')}: {exc}",
                                  "bad_calendar", line=row.line) from exc


def _relationships(tables: dict[str, Table], project_id: str, project_of: dict[str, str]
                   ) -> tuple[list[Relationship], list[ExternalRelationship]]:
    inside: list[Relationship] = []
    outside: list[ExternalRelationship] = []
    for row in _rows(tables, "TASKPRED"):
        successor, predecessor = row.get("task_id", ""), row.get("pred_task_id", "")
        successor_project = project_of.get(successor) or row.get("proj_id", "")
        predecessor_project = project_of.get(predecessor) or row.get("pred_proj_id", "")
        if project_id not in (successor_project, predecessor_project):
            continue
        kind = RELATION_TYPES.get(row.get("pred_type", ""))
        if kind is None:
            raise ScheduleImportError(f"line {row.line}: unknown relationship type "
                                      f"{row.get('pred_type')!r}", "bad_relationship",
                                      line=row.line)
        lag = _number(row, "lag_hr_cnt") or 0.0
        for end, end_project in ((successor, successor_project),
                                 (predecessor, predecessor_project)):
            if end not in project_of and end_project in ("", project_id):
                raise ScheduleImportError(f"line {row.line}: a relationship names activity "
                                          f"{end!r}, which the file does not hold",
                                          "bad_relationship", line=row.line)
        if successor_project == predecessor_project:
            inside.append(Relationship(predecessor, successor, kind, lag))
        elif successor_project == project_id:
            outside.append(ExternalRelationship(successor, predecessor, predecessor_project,
                                                True, kind, lag, row.line))
        else:
            outside.append(ExternalRelationship(predecessor, successor, successor_project,
                                                False, kind, lag, row.line))
    return inside, outside


def _options(tables: dict[str, Table], project_id: str) -> SchedulingOptions:
    row = next((r for r in _rows(tables, "SCHEDOPTIONS") if r.get("proj_id") == project_id),
               None)
    if row is None:
        return SchedulingOptions()
    lag = LAG_CALENDARS.get(row.get("sched_calendar_on_relationship_lag", "").lower(),
                            LagCalendar.PREDECESSOR)
    float_code = row.get("sched_float_type", "").lower()
    if "small" in float_code or "min" in float_code:
        float_type = FloatType.SMALLEST
    elif float_code in ("ft_ff", "ft_finish", "ft_finishflt", ""):
        float_type = FloatType.FINISH
    else:
        float_type = FloatType.START
    if row.get("sched_retained_logic") == "Y":
        progress = ProgressMode.RETAINED_LOGIC
    elif row.get("sched_progress_override") == "Y":
        progress = ProgressMode.PROGRESS_OVERRIDE
    else:
        progress = ProgressMode.ACTUAL_DATES
    return SchedulingOptions(lag_calendar=lag, float_type=float_type, progress=progress)
