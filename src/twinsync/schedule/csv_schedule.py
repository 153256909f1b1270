"""A schedule as CSV, for plans kept in a spreadsheet: one row per activity.

::

    # project=TOWER
    # data_date=2026-03-02 08:00
    code,name,wbs,duration_hours,predecessors,planned_start,budget
    A100,Slab L1,Tower/L1,16,,2026-03-02 08:00,1000
    A110,Columns L1,Tower/L1,24,A100 FS +8,,2000
    M900,Topped out,Tower,0,A110,,

Lines starting with ``#`` before the header set ``project`` and ``data_date`` (default:
the earliest planned start). Columns: ``code``, ``name`` and ``duration_hours`` are
needed; ``wbs`` (a path, ``/`` between levels), ``type`` (``task``, ``start_milestone``,
``finish_milestone``, ``level_of_effort``; a task of 0 hours is a finish milestone),
``predecessors`` (``;`` between them, each ``CODE [FS|SS|FF|SF] [+/-hours]``),
``planned_start``, ``planned_finish``, ``actual_start``, ``actual_finish``,
``percent_complete``, ``remaining_hours`` (else what the percent leaves of a started
activity), ``budget``, ``actual_cost``, ``constraint``
(a ``ConstraintType`` value) and ``constraint_date`` are read when present. Every
activity works Monday to Friday, 08:00-12:00 and 13:00-17:00 (a warning says so). Text
is UTF-8 (a BOM is skipped). A field that cannot be read fails the import with its line;
nothing is half-imported.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from ..errors import ScheduleImportError
from .calendar import WorkCalendar, read_date
from .model import (
    Activity,
    ActivityType,
    Constraint,
    ConstraintType,
    Relationship,
    RelationType,
    Schedule,
    WbsNode,
)
from .mspdi import DEFAULT_DAY

NEEDED = ("code", "name", "duration_hours")
CALENDAR_ID = "csv-standard"
CALENDAR_WARNING = ("a CSV schedule has no calendars: every activity is scheduled Monday "
                    "to Friday, 08:00-12:00 and 13:00-17:00")
_LINK = re.compile(r"^\s*(\S+)(?:\s+(FS|SS|FF|SF))?(?:\s*([+-])\s*(\d+(?:\.\d+)?)\s*h?)?\s*$",
                   re.IGNORECASE)
_TYPES = {kind.value: kind for kind in ActivityType if kind is not ActivityType.WBS_SUMMARY}


def is_csv(data: bytes) -> bool:
    """Whether a file looks like this CSV: its first line that is not a comment names
    the ``code`` column."""
    for line in data.lstrip(b"\xef\xbb\xbf").splitlines()[:50]:
        text = line.strip()
        if text and not text.startswith(b"#"):
            return b"," in text and b"code" in [c.strip().lower() for c in text.split(b",")]
    return False


def read_csv_schedule(data: bytes) -> Schedule:
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScheduleImportError(f"the CSV schedule is not UTF-8 text: {exc}",
                                  "bad_encoding") from exc
    lines = text.splitlines()
    settings: dict[str, str] = {}
    first = 0
    while first < len(lines) and (not lines[first].strip()
                                  or lines[first].lstrip().startswith("#")):
        key, _, value = lines[first].lstrip().lstrip("#").partition("=")
        if value:
            settings[key.strip().lower()] = value.strip()
        first += 1
    reader = csv.reader(io.StringIO("\n".join(lines[first:])))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in NEEDED if name not in header]
    if missing:
        raise ScheduleImportError(f"line {first + 1}: the header lacks "
                                  f"{', '.join(missing)}", "missing_field", line=first + 1)
    activities: list[Activity] = []
    links: list[tuple[int, str, str]] = []
    wbs: dict[str, WbsNode] = {}
    seen: set[str] = set()
    for offset, cells in enumerate(reader, start=first + 2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise ScheduleImportError(f"line {offset}: {len(cells)} fields, the header has "
                                      f"{len(header)}", "bad_row", line=offset)
        row = {name: (cells[i].strip() if i < len(cells) else "")
               for i, name in enumerate(header)}
        activity = _activity(row, offset, wbs)
        if activity.code in seen:
            raise ScheduleImportError(f"line {offset}: activity {activity.code} appears "
                                      "twice", "duplicate_id", line=offset)
        seen.add(activity.code)
        activities.append(activity)
        links += [(offset, activity.code, text) for text in row.get("predecessors", "")
                  .split(";") if text.strip()]
    if not activities:
        raise ScheduleImportError("the CSV schedule has no activity", "no_tasks")
    relationships = [_link(line, successor, text, seen) for line, successor, text in links]
    data_date = _date(settings.get("data_date", ""), "data_date", 1) or min(
        (a.planned_start for a in activities if a.planned_start), default=None)
    if data_date is None:
        raise ScheduleImportError("the CSV schedule has no '# data_date=' line and no "
                                  "planned start to take it from", "no_data_date")
    calendar = WorkCalendar(CALENDAR_ID, "Standard", tuple(
        DEFAULT_DAY if day < 5 else () for day in range(7)), {}, 8.0)
    project = settings.get("project", "csv")
    return Schedule(project_id=project, project_code=project, name=project,
                    data_date=data_date, default_calendar_id=CALENDAR_ID,
                    calendars={CALENDAR_ID: calendar}, activities=tuple(activities),
                    relationships=tuple(relationships), wbs=wbs,
                    warnings=(CALENDAR_WARNING,))


def _activity(row: dict[str, str], line: int, wbs: dict[str, WbsNode]) -> Activity:
    code = row["code"]
    if not code:
        raise ScheduleImportError(f"line {line}: an activity without a code", "bad_activity",
                                  line=line)
    hours = _number(row, "duration_hours", line, low=0.0) or 0.0
    kind_text = row.get("type", "").lower()
    kind = _TYPES.get(kind_text) if kind_text else (
        ActivityType.FINISH_MILESTONE if hours == 0 else ActivityType.TASK)
    if kind is None:
        raise ScheduleImportError(f"line {line}: activity {code} has an unknown type "
                                  f"{kind_text!r}", "bad_activity", line=line)
    constraints = []
    if row.get("constraint"):
        try:
            constraint = ConstraintType(row["constraint"].lower())
        except ValueError:
            raise ScheduleImportError(f"line {line}: activity {code} has an unknown "
                                      f"constraint {row['constraint']!r}", "bad_activity",
                                      line=line) from None
        when = _date(row.get("constraint_date", ""), "constraint_date", line)
        if when is None and constraint is not ConstraintType.AS_LATE_AS_POSSIBLE:
            raise ScheduleImportError(f"line {line}: activity {code}'s constraint has no "
                                      "constraint_date", "bad_activity", line=line)
        constraints.append(Constraint(constraint, when))
    actual_start = _date(row.get("actual_start", ""), "actual_start", line)
    actual_finish = _date(row.get("actual_finish", ""), "actual_finish", line)
    percent = _number(row, "percent_complete", line, low=0.0, high=100.0) or 0.0
    planned = 0.0 if kind in (ActivityType.START_MILESTONE,
                              ActivityType.FINISH_MILESTONE) else hours
    remaining = _number(row, "remaining_hours", line, low=0.0)
    if remaining is None and (actual_start or actual_finish):
        remaining = planned * (1.0 - percent / 100.0)  # what the percent leaves
    return Activity(
        id=code, code=code, name=row["name"], type=kind, calendar_id=CALENDAR_ID,
        wbs_id=_wbs(row.get("wbs", ""), wbs),
        planned_duration_hours=planned, remaining_duration_hours=remaining,
        planned_start=_date(row.get("planned_start", ""), "planned_start", line),
        planned_finish=_date(row.get("planned_finish", ""), "planned_finish", line),
        actual_start=actual_start or actual_finish, actual_finish=actual_finish,
        physical_percent_complete=percent,
        constraints=tuple(constraints),
        budget_cost=_number(row, "budget", line, low=0.0) or 0.0,
        actual_cost=_number(row, "actual_cost", line, low=0.0) or 0.0)


def _wbs(path: str, wbs: dict[str, WbsNode]) -> str | None:
    """The node of a WBS path (``Tower/L1``), adding it and its parents as needed."""
    parts = [part.strip() for part in path.split("/") if part.strip()]
    parent = None
    for depth, name in enumerate(parts):
        node_id = "/".join(parts[:depth + 1])
        wbs.setdefault(node_id, WbsNode(node_id, name, name, parent))
        parent = node_id
    return parent


def _link(line: int, successor: str, text: str, codes: set[str]) -> Relationship:
    match = _LINK.match(text)
    if match is None:
        raise ScheduleImportError(f"line {line}: predecessor {text.strip()!r} is not "
                                  "'CODE [FS|SS|FF|SF] [+/-hours]'", "bad_relationship",
                                  line=line)
    code, kind, sign, hours = match.groups()
    if code not in codes:
        raise ScheduleImportError(f"line {line}: predecessor {code!r} is not an activity of "
                                  "the file", "bad_relationship", line=line)
    lag = float(hours or 0.0) * (-1 if sign == "-" else 1)
    return Relationship(code, successor, RelationType((kind or "FS").upper()), lag)


def _date(text: str, name: str, line: int) -> datetime | None:
    if not text:
        return None
    day = read_date(text)
    if day is not None:
        return day
    raise ScheduleImportError(f"line {line}: {name} {text[:40]!r} is not a date "
                              "(YYYY-MM-DD HH:MM)", "bad_date", line=line)


def _number(row: dict[str, str], name: str, line: int, *, low: float = float("-inf"),
            high: float = float("inf")) -> float | None:
    text = row.get(name, "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also NaN and infinities
        raise ScheduleImportError(f"line {line}: {name} {text[:40]!r} is not a number "
                                  f"from {low:g} to {high:g}", "bad_number", line=line)
    return value
