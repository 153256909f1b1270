"""REST for anomalies a person expects (a pour, a load test): operators mark them and
withdraw a mark made in error, readers list them. The service does the work
(``service/anomalies.py``); these handlers only translate HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from ..service import TwinService
from ..service.expected_marks import MAX_PAGE, Withdrawn
from .access import actor
from .contract import errors
from .deps import service
from .responses import JSON
from .schemas.trust import ExpectedAnomalyList, ExpectedMarked, ExpectedWithdrawn

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


class ExpectedIn(BaseModel):
    """Anomalies of a sensor, or of every sensor bound to an element (one of the two),
    expected from ``start`` to ``end`` (ISO 8601, UTC unless it says, or epoch seconds)
    for a reason."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"element_id": "L1-slab", "start": "2026-03-04T08:00:00Z",
                 "end": "2026-03-05T08:00:00Z", "reason": "pour of slab L1"},
                {"sensor_id": "L1-slab-t2", "start": 1772611200.0, "end": 1772614800.0,
                 "reason": "heater test"},
            ]
        },
    )
    sensor_id: str | None = None
    element_id: str | None = None
    start: str | float
    end: str | float
    reason: str


class WithdrawIn(BaseModel):
    """Why a mark is withdrawn (made in error, the wrong span or element)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "marked the wrong slab"}]},
    )
    reason: str


@router.post("/anomalies/expected", status_code=201, response_model=ExpectedMarked,
             responses=errors(404))
async def mark_anomaly_expected(body: ExpectedIn, svc: Service, request: Request) -> JSON:
    """Mark anomalies as expected: in the span they raise no alarm (they stay events,
    marked expected, with the reason), and an active anomaly alarm raised in it is
    cleared. Kept across restarts, audited. 404 for a sensor or element that is none;
    422 for a span that ends before it starts, no reason, or detection switched off."""
    marked = await svc.anomalies.mark_expected(
        sensor_id=body.sensor_id, element_id=body.element_id, start=body.start,
        end=body.end, reason=body.reason, actor=actor(request))
    return JSON(marked, status_code=201)


@router.get("/anomalies/expected", response_model=ExpectedAnomalyList)
async def list_expected_anomalies(
    svc: Service,
    sensor_id: str | None = None,
    element_id: str | None = None,
    withdrawn: Withdrawn = Withdrawn.EXCLUDE,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: Annotated[str | None, Query(max_length=2048)] = None,
) -> JSON:
    """The spans marked expected, of a sensor, of the sensors bound to an element, or
    all, by sensor and in the order they were marked. Standing marks only by default;
    ``withdrawn=include`` lists withdrawn marks too and ``withdrawn=only`` them alone,
    each with who withdrew it, when and why (``withdrawn_by``, ``withdrawn_at``,
    ``withdrawn_reason``; null while a mark stands). At most ``limit`` spans a page;
    while more follow, ``next`` is the ``after`` of the following page (the last page
    has no ``next``)."""
    page = await svc.anomalies.expected_page(sensor_id=sensor_id, element_id=element_id,
                                             withdrawn=withdrawn, limit=limit, after=after)
    return JSON(page)


@router.delete("/anomalies/expected/{mark_id:id}", response_model=ExpectedWithdrawn,
               responses=errors(404, 409))
async def withdraw_anomaly_expected(mark_id: str, body: WithdrawIn, svc: Service,
                                    request: Request) -> JSON:
    """Withdraw a mark made in error (every span it made, one a sensor), saying why: from
    then on its spans suppress no alarm. Alarms it suppressed while it stood are not
    raised after the fact; a sensor still anomalous raises its alarm on its next
    anomalous reading. Kept across restarts, recorded as events and audited. 404 for an
    id that is no mark, 409 for a mark withdrawn already, 422 without a reason."""
    withdrawn = await svc.anomalies.withdraw_expected(mark_id, reason=body.reason,
                                                      actor=actor(request))
    return JSON(withdrawn)
