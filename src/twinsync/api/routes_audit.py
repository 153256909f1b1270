"""``GET /api/audit``: who changed what, from what to what, and when (admins only: the
entries hold everyone's values and token ids); ``GET /api/audit/verify``: whether its hash
chain holds, and the first entry that breaks it."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..service import TwinService
from ..store.audit import MAX_PAGE, AuditQuery
from ..store.audit_chain import expected_head
from .access import authenticator
from .auth import Authenticator
from .deps import MAX_ID, service, time_param
from .responses import JSON
from .schemas.access import AuditPage, AuditVerdict

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]
Auth = Annotated[Authenticator, Depends(authenticator)]


@router.get("/audit", response_model=AuditPage)
async def list_audit(svc: Service, element_id: str | None = None,
                     sensor_id: str | None = None, token_id: str | None = None,
                     since: str | None = None, until: str | None = None,
                     after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                     before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                     newest_first: bool = False,
                     limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> JSON:
    """Audit entries, oldest first after the id ``after`` (or, with ``newest_first``,
    newest first below the id ``before``), filtered by the element or sensor changed,
    the token that changed it, and a time range (``since`` ≤ time < ``until``, ISO 8601 or
    epoch seconds). ``next`` is the parameter to ask for the following page, or null."""
    query = AuditQuery(element_id=element_id, sensor_id=sensor_id, token_id=token_id,
                       since=None if since is None else time_param(since, 0.0, "since"),
                       until=None if until is None else time_param(until, 0.0, "until"),
                       after=after, limit=limit, newest_first=newest_first, before=before)
    entries = await svc.history(svc.store.audit, query)
    following = None
    if len(entries) == limit and entries[-1].id is not None:
        following = ({"before": entries[-1].id} if newest_first
                     else {"after": entries[-1].id})
    return JSON({"entries": [e.to_dict() for e in entries], "next": following})


@router.get("/audit/verify", response_model=AuditVerdict)
async def verify_audit(auth: Auth, expect: str | None = None) -> JSON:
    """Walk the log's hash chain from its anchor: ``ok``, how many entries were checked,
    the head (keep it elsewhere and pass it back as ``expect=<id>:<hash>`` to find a
    chain rewritten since), and the first broken entry with what is wrong with it."""
    head = None if expect is None else expected_head(expect)
    verdict = await asyncio.to_thread(auth.store.verify_audit, head)
    return JSON(verdict.to_dict())

