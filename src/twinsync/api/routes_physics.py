"""REST for the physics twin on the reading path: an element's sensor models (level,
trend, divergence, last recalibration) and a space's thermal zone (R, C, its temperature
ahead). The service keeps them (``service/twin_models.py``, ``service/zone_models.py``);
these handlers only translate HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..service import TwinService
from ..service.zone_models import MAX_HOURS
from .contract import errors
from .deps import service
from .responses import JSON
from .schemas.physics import ElementTwinOut
from .schemas.zone import ZoneOut

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


@router.get("/elements/{element_id:id}/twin", response_model=ElementTwinOut,
            responses=errors(404))
async def get_element_twin(element_id: str, svc: Service) -> JSON:
    """Each sensor bound to the element: its local level/trend model as the reading path
    keeps it, whether it is diverging and since when, and its last recalibration. 404 for
    an unknown or archived element."""
    return JSON(await svc.twin_models.of_element(element_id))


@router.get("/elements/{element_id:id}/zone", response_model=ZoneOut, responses=errors(404))
async def get_element_zone(
    element_id: str, svc: Service,
    hours: Annotated[float, Query(gt=0, le=MAX_HOURS)] = 6.0,
) -> JSON:
    """The element as a thermal zone: whether it is modelled (or why not), its R, C and
    time constant learned online with their standard deviations, its temperature, and its
    temperature ``hours`` ahead (6 by default, at most 168) with the outdoor temperature
    and heating held. 404 for an unknown or archived element."""
    return JSON(await svc.zones.of_element(element_id, hours))
