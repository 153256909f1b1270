"""Shapes every part of the API shares: the error answer and the event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """Every refusal: a stable code to branch on and a sentence for a person. Some add
    figures: ``limit`` (413), ``retry_after`` (503), ``line`` (a file refused at a line),
    ``refusals`` and ``counts`` (an import refused with 409), the batch's ``accepted`` and
    ``rejected`` (a batch of readings refused whole, 400)."""

    error: str = Field(examples=["not_found"])
    detail: str = Field(examples=["no element 'L9-slab'"])


class Event(BaseModel):
    """One change to the twin, in the order it was committed (``seq``)."""

    seq: int | None
    kind: str = Field(examples=["status_changed"])
    time: float
    """Seconds since the epoch."""
    element_id: str | None
    source: str = Field(examples=["field"])
    data: dict[str, Any]
    """What changed; its keys depend on ``kind``."""


class EventList(BaseModel):
    events: list[Event]
