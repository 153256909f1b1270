"""What the twin keeps of its schedule besides the schedule file: progress reports of
activities, status reports of elements, explicit links and link rules, and the record of
each imported version, with how each becomes a stored row and back.

Every record is a stored row ``(kind, key, body)``: ``kind`` names the record type, ``key``
is unique within it (a number for reports and rules, an activity code for links), and
``body`` is JSON (a version's file is a row of its own, kind ``file``, its raw bytes).
Dates are naive, in the schedule's local time, as ``YYYY-MM-DD HH:MM``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ..errors import InvalidInput
from ..schedule.calendar import format_date, read_date
from . import validate
from .element import Source, Status

#: A stored row of the twin's schedule: (kind, key, body).
PlanRow = tuple[str, str, bytes]

VERSION, FILE, PROGRESS, STATUS, LINK, RULE, MIX = (
    "version", "file", "progress", "status", "link", "rule", "mix")
KINDS = (VERSION, FILE, PROGRESS, STATUS, LINK, RULE, MIX)


def number_key(number: int) -> str:
    """A key that sorts as its number does."""
    return f"{number:012d}"


def format_day(moment: datetime | None) -> str | None:
    return None if moment is None else format_date(moment)


def parse_day(value: object, what: str) -> datetime | None:
    """``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM`` (or with ``T``), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a date as 'YYYY-MM-DD HH:MM'", "bad_date")
    day = read_date(value)
    if day is not None:
        try:
            # Local time has no instant at the calendar's very ends (0001-01-01 is a
            # spreadsheet's empty date): refused here, not a ValueError where it is used.
            day.timestamp()
        except (ValueError, OverflowError):
            raise InvalidInput(f"{what} {validate.shown(value)} is not a date that has a "
                               "time in this time zone", "bad_date") from None
        return day
    raise InvalidInput(f"{what} {validate.shown(value)} is not a date as 'YYYY-MM-DD HH:MM'",
                       "bad_date")


def _required_day(value: object, what: str) -> datetime:
    day = parse_day(value, what)
    if day is None:
        raise InvalidInput(f"{what} is missing", "bad_date")
    return day


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One imported schedule file: its number, name, project and when it came."""

    number: int
    name: str
    project: str
    data_date: datetime
    imported_at: float
    activities: int
    file_format: str = "xer"

    def row(self) -> PlanRow:
        return (VERSION, number_key(self.number), orjson.dumps({
            "number": self.number, "name": self.name, "project": self.project,
            "data_date": format_day(self.data_date), "imported_at": self.imported_at,
            "activities": self.activities, "format": self.file_format}))

    @classmethod
    def from_body(cls, body: bytes) -> VersionRecord:
        data = orjson.loads(body)
        return cls(int(data["number"]), str(data["name"]), str(data["project"]),
                   _required_day(data["data_date"], "data date"), float(data["imported_at"]),
                   int(data["activities"]), str(data.get("format", "xer")))

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.number, "name": self.name, "project": self.project,
                "data_date": format_day(self.data_date), "imported_at": self.imported_at,
                "activities": self.activities, "format": self.file_format}


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """An activity's progress as someone reported it: the whole state as of ``date``."""

    number: int
    activity: str  # the activity's code (its id in P6's user interface)
    date: datetime
    time: float  # when the twin received it
    source: Source
    confidence: float
    percent_complete: float
    actual_start: datetime | None = None
    actual_finish: datetime | None = None
    actual_cost: float | None = None

    @property
    def state(self) -> str:
        return progress_state(self.percent_complete)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "activity": self.activity,
                "date": format_day(self.date), "time": self.time,
                "source": self.source.value, "confidence": self.confidence,
                "percent_complete": self.percent_complete,
                "actual_start": format_day(self.actual_start),
                "actual_finish": format_day(self.actual_finish),
                "actual_cost": self.actual_cost}

    def row(self) -> PlanRow:
        return (PROGRESS, number_key(self.number), orjson.dumps(self.to_dict()))

    @classmethod
    def from_body(cls, body: bytes) -> ProgressReport:
        data = orjson.loads(body)
        cost = data.get("actual_cost")
        return cls(int(data["number"]), str(data["activity"]),
                   _required_day(data["date"], "date"), float(data["time"]),
                   Source(data["source"]), float(data["confidence"]),
                   float(data["percent_complete"]),
                   parse_day(data.get("actual_start"), "actual start"),
                   parse_day(data.get("actual_finish"), "actual finish"),
                   None if cost is None else float(cost))


@dataclass(frozen=True, slots=True)
class StatusReport:
    """An element's status as a source observed it (not as the schedule implied it); a
    survey also says how much of the element is built (``percent_complete``)."""

    number: int
    element_id: str
    date: datetime
    time: float
    status: Status
    source: Source
    confidence: float
    percent_complete: float | None = None

    @property
    def done(self) -> float:
        """The share of the element built (0..1): the survey's, else by its status (one in
        progress or with an issue counts half)."""
        if self.percent_complete is not None:
            return self.percent_complete / 100.0
        return {"complete": 1.0, "in_progress": 0.5}.get(STATE_OF_STATUS[self.status], 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "element_id": self.element_id,
                "date": format_day(self.date), "time": self.time,
                "status": self.status.value, "source": self.source.value,
                "confidence": self.confidence, "percent_complete": self.percent_complete}

    def row(self) -> PlanRow:
        return (STATUS, number_key(self.number), orjson.dumps(self.to_dict()))

    @classmethod
    def from_body(cls, body: bytes) -> StatusReport:
        data = orjson.loads(body)
        percent = data.get("percent_complete")
        return cls(int(data["number"]), str(data["element_id"]),
                   _required_day(data["date"], "date"), float(data["time"]),
                   Status(data["status"]), Source(data["source"]), float(data["confidence"]),
                   None if percent is None else float(percent))


def status_of_percent(percent: float) -> Status:
    """What a surveyed share says of an element's status."""
    if percent >= 100.0:
        return Status.COMPLETED
    return Status.IN_PROGRESS if percent > 0.0 else Status.PLANNED


@dataclass(frozen=True, slots=True)
class LinkRule:
    """Elements an activity takes without naming them: those of an IFC class on a storey,
    or those whose property ``property`` holds the activity's code.

    ``activities`` is an activity code or a pattern of codes (``L1-*``), for the first kind.
    """

    number: int
    activities: str = "*"
    ifc_class: str | None = None
    storey: str | None = None  # a storey's id or name
    property: str | None = None

    def check(self) -> LinkRule:
        if self.property is None and self.ifc_class is None and self.storey is None:
            raise InvalidInput("a link rule names an IFC class, a storey or both, or a "
                               "property that holds activity codes", "bad_rule")
        if self.property is not None and (self.ifc_class or self.storey):
            raise InvalidInput("a link rule by property names neither a class nor a storey",
                               "bad_rule")
        validate.label(self.activities, "activities")
        for value, what in ((self.ifc_class, "IFC class"), (self.storey, "storey")):
            if value is not None:
                validate.label(value, what)
        if self.property is not None:
            validate.property_name(self.property)
        return self

    def takes(self, code: str) -> bool:
        return self.property is None and fnmatch.fnmatchcase(code, self.activities)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "activities": self.activities,
                "ifc_class": self.ifc_class, "storey": self.storey, "property": self.property}

    def row(self) -> PlanRow:
        return (RULE, number_key(self.number), orjson.dumps(self.to_dict()))

    @classmethod
    def from_dict(cls, number: int, data: object) -> LinkRule:
        body = validate.mapping(data, "a link rule")
        unknown = set(body) - {"activities", "ifc_class", "storey", "property", "number"}
        if unknown:
            raise InvalidInput(f"a link rule has no field {sorted(unknown)[0]!r}", "bad_rule")

        def text(name: str) -> str | None:
            value = body.get(name)
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{name} must be text", "bad_rule")
            return value or None

        return cls(number, text("activities") or "*", text("ifc_class"), text("storey"),
                   text("property")).check()

    @classmethod
    def from_body(cls, body: bytes) -> LinkRule:
        data = orjson.loads(body)
        return cls.from_dict(int(data["number"]), data)


def link_row(activity: str, element_ids: list[str]) -> PlanRow:
    return (LINK, activity, orjson.dumps({"activity": activity, "elements": element_ids}))


def progress_state(percent: float) -> str:
    if percent >= 100.0:
        return "complete"
    return "in_progress" if percent > 0.0 else "not_started"


STATE_OF_STATUS = {Status.PLANNED: "not_started", Status.IN_PROGRESS: "in_progress",
                   Status.COMPLETED: "complete", Status.ISSUE: "in_progress"}
