"""REST for declared site events (a pour, a load step, a heating schedule): operators
declare and withdraw them, readers list them. The service does the work
(``service/site_events.py``); these handlers only translate HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from ..service import TwinService
from .access import actor
from .contract import errors
from .deps import service, time_param
from .responses import JSON
from .schemas.trust import SiteEventList, SiteEventOut

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


class SiteEventIn(BaseModel):
    """A site event. ``start`` and ``end``: ISO 8601 (UTC unless it says) or epoch
    seconds; without ``end`` a pour lasts 72 h and a load step 24 h, and any other kind
    must give one. It concerns the sensors named and every sensor bound to an element
    named."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "pour", "start": "2026-03-04T08:00:00Z", "element_ids": ["L1-slab"]},
                {
                    "kind": "load step",
                    "start": 1772611200.0,
                    "end": 1772697600.0,
                    "sensor_ids": ["L1-slab-t2"],
                    "note": "the formwork of level 2",
                },
            ]
        },
    )
    kind: str
    start: str | float
    end: str | float | None = None
    element_ids: list[str] = []
    sensor_ids: list[str] = []
    note: str | None = None


@router.post("/site-events", status_code=201, response_model=SiteEventOut)
async def declare_site_event(body: SiteEventIn, svc: Service, request: Request) -> JSON:
    """Declare a site event: within its span the drift check does not judge the sensors
    it concerns against their peers."""
    event = await svc.site_events.declare(body.model_dump(), actor=actor(request))
    return JSON(event, status_code=201)


@router.get("/site-events", response_model=SiteEventList)
async def list_site_events(
    svc: Service,
    since: str | None = None,
    until: str | None = None,
    element_id: str | None = None,
    withdrawn: bool = False,
) -> JSON:
    """Events whose span overlaps ``since`` ≤ t < ``until`` (ISO 8601 or epoch seconds)
    and that concern ``element_id`` (name it, or a sensor bound to it), by start; withdrawn
    ones too with ``withdrawn=true``."""
    events = await svc.site_events.matching(
        since=None if since is None else time_param(since, 0.0, "since"),
        until=None if until is None else time_param(until, 0.0, "until"),
        element_id=element_id,
        withdrawn=withdrawn,
    )
    return JSON({"events": events})


@router.delete("/site-events/{event_id:id}", response_model=SiteEventOut, responses=errors(404))
async def withdraw_site_event(event_id: str, svc: Service, request: Request) -> JSON:
    """Withdraw a live event (404 for an id that is none): it is kept, with the time it
    was withdrawn, and no longer taken into account."""
    return JSON(await svc.site_events.withdraw(event_id, actor=actor(request)))
