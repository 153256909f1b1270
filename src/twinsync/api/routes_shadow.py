"""REST for the shadow twin: start a shadow tracker with other parameters beside the live
one, read how the two track the same readings, promote it or stop it. The service does the
work (``service/twin_shadow.py``); these handlers only translate HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ..service import TwinService
from .access import actor
from .contract import errors
from .deps import service
from .responses import JSON
from .schemas.shadow import ShadowEndedOut, ShadowIn, ShadowReportOut

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


@router.get("/twin/shadow", response_model=ShadowReportOut)
async def get_twin_shadow(svc: Service,
                          limit: Annotated[int, Query(ge=0, le=1000)] = 10) -> JSON:
    """The live tracker's parameters, the running shadow's, and their tracking error on
    the same readings since it started: fleet-wide, and the ``limit`` sensors where the
    shadow does best and worst."""
    return JSON(await svc.twin_models.shadow.report(limit))


@router.post("/twin/shadow", status_code=201, response_model=ShadowReportOut,
             responses=errors(409))
async def start_twin_shadow(body: ShadowIn, svc: Service, request: Request) -> JSON:
    """Start a shadow: the live parameters with those given changed, run beside the live
    tracker on every reading from now on. 409 while a shadow runs or with the models
    off; 422 for a parameter out of its range."""
    report = await svc.twin_models.shadow.start(
        body.parameters.model_dump(exclude_none=True), start_from=body.start_from,
        actor=actor(request))
    return JSON(report, status_code=201)


@router.post("/twin/shadow/promote", response_model=ShadowEndedOut, responses=errors(409))
async def promote_twin_shadow(svc: Service, request: Request) -> JSON:
    """Make the shadow live: its parameters and every sensor's state; the answer is the
    comparison at promotion. 409 when no shadow runs."""
    return JSON(await svc.twin_models.shadow.promote(actor=actor(request)))


@router.delete("/twin/shadow", response_model=ShadowEndedOut, responses=errors(409))
async def stop_twin_shadow(svc: Service, request: Request) -> JSON:
    """Stop the shadow, the live tracker unchanged; the answer is the comparison as it
    stood. 409 when no shadow runs."""
    return JSON(await svc.twin_models.shadow.stop(actor=actor(request)))
