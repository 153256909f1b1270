"""REST for progress from sensors: concrete mixes, and an element's maturity and estimated
strength from its temperature sensors. The service does the work (``service/curing.py``);
these handlers only translate HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from ..errors import InvalidInput
from ..model.plan_records import parse_day
from ..service import TwinService
from .access import actor
from .contract import errors, json_body
from .deps import service
from .responses import JSON
from .schemas.curing import Maturity, MixIn, MixOut

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


@router.get("/mixes", response_model=list[MixOut])
async def get_mixes(svc: Service) -> JSON:
    return JSON(await svc.curing.mixes())


@router.post(
    "/mixes",
    status_code=201,
    response_model=MixOut,
    openapi_extra=json_body(MixIn, "A concrete mix"),
)
async def post_mix(request: Request, svc: Service) -> JSON:
    """A concrete mix (or a new version of one, by name): its strength-maturity curve
    (or lab breaks to fit it from), the strength its elements must reach, and which
    elements are of it (``model/mix.py``)."""
    try:
        body: Any = await request.json()
    except ValueError as exc:  # not JSON, or not UTF-8
        raise InvalidInput("a mix is a JSON object; the body is not JSON", "bad_json") from exc
    return JSON(await svc.curing.add_mix(body, actor=actor(request)), status_code=201)


@router.get("/elements/{element_id:id}/maturity", response_model=Maturity, responses=errors(404))
async def get_maturity(element_id: str, svc: Service, as_of: str | None = None) -> JSON:
    """The element's concrete maturity and estimated strength as of ``as_of`` (the
    schedule's local time, default now): per sensor and governing, with gaps, excluded
    readings and the confidence."""
    day = parse_day(as_of, "as_of")
    return JSON(await svc.curing.assess(element_id, None if day is None else day.timestamp()))
