"""What the schedule's routes read and answer. The activities' figures are many and
nested (dates, floats, progress, earned value); the top of each answer is typed here and
the rest is described in docs/SCHEDULE.md."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class ScheduleImported(BaseModel):
    """A version of the schedule imported: its counts and what was kept by code."""

    version: int
    name: str
    project: str | None
    data_date: str | None
    imported_at: float
    activities: int
    format: str
    relationships: int
    added: int
    removed: int
    removed_codes: list[str]
    kept: dict[str, int]
    orphaned: dict[str, list[Any]]
    external_relationships: int
    warnings: list[Any]


class EarnedValue(BaseModel):
    bac: float | None
    pv: float | None
    ev: float | None
    ac: float | None
    sv: float | None
    cv: float | None
    spi: float | None
    cpi: float | None
    eac: float | None
    etc: float | None
    vac: float | None
    tcpi: float | None


class ActivityOut(BaseModel):
    """One activity as of a date. Its remaining figures (early and late dates, float,
    ``progress``, ``variance``) are described in docs/SCHEDULE.md."""

    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    progress: dict[str, Any]
    earned_value: EarnedValue | None = None


class ScheduleOverview(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: int
    name: str
    project: str | None
    as_of: str
    activities: list[ActivityOut]
    wbs: list[dict[str, Any]]
    earned_value: EarnedValue | None


class ActivityDetail(ActivityOut):
    elements: list[dict[str, Any]]
    reports: list[dict[str, Any]]


class ActivityLinks(BaseModel):
    activity: str
    elements: list[str]


class LinkRuleIn(BaseModel):
    """Elements linked to activities by rule: by activity code pattern, IFC class and
    storey, or by a property holding an activity's code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"activities": "L1-*", "ifc_class": "IfcSlab", "storey": "Level 1"},
                {"property": "ActivityCode"},
            ]
        },
    )
    activities: str | None = None
    ifc_class: str | None = None
    storey: str | None = None
    property: str | None = None


class LinkRule(BaseModel):
    number: int
    activities: str
    ifc_class: str | None
    storey: str | None
    property: str | None


#: Where the plan or the work stands for an activity or an element.
WorkState = Literal["not_started", "in_progress", "complete"]
#: The work against the plan.
Standing = Literal["ahead", "on_track", "behind"]


class ActivityState(BaseModel):
    elements: list[str]
    """The activity's linked elements."""
    planned: WorkState
    built: WorkState
    standing: Standing


class ElementState(BaseModel):
    """An element takes all its activities: complete when all are, in progress when one
    has started; behind when one is, else ahead when one is, else on track."""

    activities: list[str]
    planned: WorkState
    built: WorkState
    standing: Standing


class ElementStates(BaseModel):
    """Every activity's linked elements and each one's planned and built state as of a
    date, keyed by activity code and by element id: what the Gantt and 4D read."""

    as_of: str
    activities: dict[str, ActivityState]
    elements: dict[str, ElementState]
