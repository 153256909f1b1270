"""REST for the physics twin on the reading path: an element's sensor models (level,
trend, divergence, last recalibration). The service keeps them (``service/twin_models.py``);
this handler only translates HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from ..service import TwinService
from .contract import errors
from .deps import service
from .responses import JSON
from .schemas.physics import ElementTwinOut

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


@router.get("/elements/{element_id}/twin", response_model=ElementTwinOut,
            responses=errors(404))
async def get_element_twin(element_id: str, svc: Service) -> JSON:
    """Each sensor bound to the element: its local level/trend model as the reading path
    keeps it, whether it is diverging and since when, and its last recalibration. 404 for
    an unknown or archived element."""
    return JSON(await svc.twin_models.of_element(element_id))
