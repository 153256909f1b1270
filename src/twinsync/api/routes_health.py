"""REST for trust and time: sensor health, sources' clocks and latency, time sync, alarms."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, BeforeValidator, Field

from ..errors import Forbidden, InvalidInput
from ..service import TwinService
from ..tokens import Role
from .access import actor_of, identity_of
from .contract import errors
from .deps import service
from .responses import JSON
from .schemas.common import Event
from .schemas.trust import ClockSynced, FleetHealth, SourceList, TimeAnswer
from .schemas.twin import AlarmList, SensorHealth

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


@router.get("/sensors/{sensor_id:id}/health", response_model=SensorHealth, responses=errors(404))
async def get_sensor_health(sensor_id: str, svc: Service) -> JSON:
    """State (ok, stale, stuck, spike, drift, noisy, offline, clock), quality 0..1 and the reason;
    lost (sequence gaps), duplicate and late reading counts."""
    return JSON(await svc.view(svc.sensor_health, sensor_id))


@router.get("/health", response_model=FleetHealth)
async def get_fleet_health(svc: Service) -> JSON:
    """How many sensors are in each state, which are not ok and why, reading counters; the
    store's connection (up, last error, reconnects) and stored rows it had to skip."""
    fleet = await svc.view(svc.fleet_health)
    # The store's own state is read beside the writer: a store that is reconnecting may
    # take seconds to answer, and live state must not wait for it.
    store = await svc.history(svc.store.health)
    problems = await svc.history(svc.store.load_problems)
    return JSON({**fleet, "store": store,
                 "store_problems": [problem.to_dict() for problem in problems[:100]],
                 "store_problem_count": len(problems)})


@router.get("/sources", response_model=SourceList)
async def get_sources(svc: Service) -> JSON:
    """Per source: estimated clock offset and end-to-end latency percentiles."""
    return JSON({"sources": await svc.view(svc.sources)})


#: How old the server's half of an exchange may be when it is sent back: a round trip
#: takes well under a second, and an exchange replayed later (or a ``t2`` made up in the
#: future, which would keep a sync "recent" for ever) must not move a clock.
SYNC_WINDOW = 120.0

#: ``t0`` of a time sync: epoch seconds; left out (or empty, as it always was) it is null.
ClientTime = Annotated[float | None, BeforeValidator(lambda value: value or None),
                       Query(description="Your clock's time as you send this, epoch seconds")]


@router.get("/time", response_model=TimeAnswer)
def get_time(t0: ClientTime = None) -> JSON:
    """Time sync, step one (a device may call it, like any signed-in reader). Send your
    clock's time as ``t0``; keep the answer's ``t1`` (we received) and ``t2`` (we
    answered), note ``t3`` when it arrives, and ``POST /api/time`` all four so twinsync
    learns your offset and round trip. Your offset from our clock is
    ``((t1 - t0) + (t2 - t3)) / 2`` and the round trip ``(t3 - t0) - (t2 - t1)``, NTP's
    formulas, should you want to set your own clock."""
    received = time.time()
    return JSON({"t0": t0, "t1": received, "t2": time.time()})


class TimeSync(BaseModel):
    source: str | None = Field(default=None, min_length=1, max_length=200)
    """Whose clock: a device token's own (``device:<its name>``, the default for one);
    an admin names any source."""
    t0: float
    t1: float
    t2: float
    t3: float


@router.post("/time", response_model=ClockSynced)
async def post_time(sync: TimeSync, svc: Service, request: Request) -> JSON:
    """Time sync, step two: the four timestamps of an exchange with ``GET /api/time``.
    A device syncs only its own clock, the one its readings are placed by."""
    identity = identity_of(request)
    if identity.role is Role.DEVICE:
        own = f"device:{identity.name}"
        if sync.source is not None and sync.source != own:
            raise Forbidden(f"a device syncs its own clock ({own!r}), not "
                            f"{sync.source[:40]!r}", "source_not_yours")
        source = own
    elif sync.source is None:
        raise InvalidInput("name the source whose clock this exchange is of", "bad_time_sync")
    else:
        source = sync.source
    now = time.time()
    if not (now - SYNC_WINDOW <= sync.t1 <= sync.t2 <= now):
        raise InvalidInput(f"time sync: t1 and t2 must be this server's times from the "
                           f"last {SYNC_WINDOW:g} s, as GET /api/time answered them",
                           "bad_time_sync")
    clock = await svc.sync_clock(source, sync.t0, sync.t1, sync.t2, sync.t3)
    return JSON({"source": source, **clock})


@router.get("/alarms", response_model=AlarmList)
async def get_alarms(svc: Service) -> JSON:
    def read() -> list[dict[str, Any]]:
        return [a.to_dict() for a in svc.alarms.active.values()]
    return JSON({"alarms": await svc.view(read)})


# A key holds what its sensor's id does, slashes too ("site/L1/t1", named by topic): ``:id``.
@router.post("/alarms/{key:id}/ack", response_model=Event, responses=errors(404, 409))
async def ack_alarm(key: str, svc: Service, request: Request) -> JSON:
    """Acknowledge an alarm, as the signed-in token's name (a ``by`` in the body is not
    read: who acknowledged is who asked). 404 for no active alarm of that key; 409
    (``already_acknowledged``) for one acknowledged already: the first stands."""
    identity = identity_of(request)
    event = await svc.acknowledge_alarm(key, by=identity.name, actor=actor_of(identity))
    return JSON(event.to_dict())
