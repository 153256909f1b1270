"""REST for forecasts: a property's readings looked ahead from its recent history, or a
thermal zone's air temperature from its zone's model. The service does the work
(``service/forecasts.py``); this handler only translates HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..service import TwinService
from ..service.forecasts import forecast, parse_quantiles
from .contract import errors
from .deps import service
from .responses import JSON
from .schemas.forecast import PropertyForecast

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]

#: The furthest a forecast looks: 30 days.
MAX_HORIZON = 30 * 86_400.0


@router.get(
    "/elements/{element_id:id}/forecast",
    response_model=PropertyForecast,
    responses=errors(404, 409),
)
async def get_forecast(
    element_id: str,
    svc: Service,
    property: Annotated[str, Query(min_length=1)],
    horizon: Annotated[float, Query(gt=0, le=MAX_HORIZON)],
    quantiles: str | None = None,
    threshold: float | None = None,
    steps: Annotated[int, Query(ge=1, le=500)] = 12,
) -> JSON:
    """The sensor-fed ``property``'s readings forecast ``steps`` times up to ``horizon``
    seconds after its newest reading: mean, 90 % interval and the ``quantiles`` asked for
    (``0.05,0.5,0.95``), from the local level or trend fitted to its last two days of
    readings, or for a thermal zone's air temperature from the zone's model after its last
    reading (``model``: ``thermal_zone``; its inputs persisted with the spread their own
    stored readings show); with ``threshold``, when the mean reaches it. 409 when too few
    readings."""
    return JSON(
        await forecast(
            svc,
            element_id,
            property,
            horizon,
            quantiles=parse_quantiles(quantiles),
            threshold=threshold,
            steps=steps,
        )
    )
