"""REST for looking back at the twin's models: a property's readings beside the one-step
predictions and interval of its sensors' level/trend models with their divergence spans,
and every element's model state for colouring the model. The service does the work
(``service/twin_track.py``, ``service/twin_fleet.py``); these handlers translate HTTP."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..service import TwinService
from ..service.twin_fleet import fleet_states
from ..service.twin_track import COVERAGE, track
from .contract import errors
from .deps import service, time_param
from .responses import JSON
from .schemas.twin_track import FleetStatesOut, PropertyTrackOut

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


@router.get("/elements/{element_id:id}/twin/track", response_model=PropertyTrackOut,
            responses=errors(404, 409))
async def get_twin_track(
    element_id: str,
    svc: Service,
    property: Annotated[str, Query(min_length=1)],
    start: str | None = None,
    end: str | None = None,
    every: Annotated[float | None, Query(gt=0)] = None,
    coverage: Annotated[float, Query(gt=0, lt=1)] = COVERAGE,
) -> JSON:
    """Each sensor of the element's ``property`` between ``start`` and ``end`` (ISO 8601 or
    epoch seconds; the last 24 hours by default): every reading its model takes, with the
    model's one-step prediction and the ``coverage`` interval (90 %), raw or in buckets of
    ``every`` seconds, and the spans its live model diverged. Predictions are computed
    now over the stored readings, the model started from up to 512 readings before
    ``start``; the first readings without enough history before them have none
    (``warming_up``). 404 for an unknown element or a property no sensor feeds, 409 when
    the models are off, 422 for a range past 31 days or 200,000 readings."""
    now = time.time()
    end_time = time_param(end, now + 1.0, "end")
    start_time = time_param(start, end_time - 86_400.0, "start")
    return JSON(await track(svc, element_id, property, start_time, end_time, every=every,
                            coverage=coverage))


@router.get("/twin/states", response_model=FleetStatesOut)
async def get_twin_states(svc: Service) -> JSON:
    """Every element with a sensor modelled: the worst state of its sensors' models
    (diverging, in_control, learning, off), how many are diverging and since when."""
    return JSON(await fleet_states(svc))
