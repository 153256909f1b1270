"""REST for the twin: the project snapshot, elements, field updates, sensors, bindings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, StrictFloat

from ..model import Binding, Element, Sensor, Source, Status, Transform
from ..model.measurement import measurement_id
from ..service import TwinService
from ..service.measurements import record_once
from ..store.audit import AuditEntry
from .access import actor, earned_source, identity_of
from .connector_rules import confine
from .contract import errors
from .deps import Position, service, time_param
from .preconditions import IfMatch, etag, if_match
from .responses import JSON
from .schemas.common import EventList
from .schemas.twin import (
    ConnectorHealth,
    ConnectorList,
    ConnectorStopped,
    ElementAdded,
    ElementChanged,
    ElementDetail,
    ElementList,
    MeasurementRecorded,
    ProjectSnapshot,
    SensorList,
    SensorSnapshot,
)

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


class ElementPatch(BaseModel):
    """A field update. Properties are ``{"name": value}`` or
    ``{"name": {"value": v, "unit": "m", "confidence": 0.8}}``."""

    status: Status | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    source: Source | None = None
    """Set by who sends the update (``field`` for a person); another value is refused."""
    time: float | str | None = None
    status_confidence: float | None = Field(default=None, ge=0, le=1)
    """How sure the sender is of the status (default: the source's, field 0.8)."""


class ElementIn(BaseModel):
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    name: str = ""
    global_id: str | None = None
    parent: str | None = None
    status: Status = Status.PLANNED


class SensorIn(BaseModel):
    id: str = Field(min_length=1)
    kind: str = "generic"
    unit: str = ""
    expected_interval: StrictFloat = 0.0
    resolution: StrictFloat = 0.0


class TransformIn(BaseModel):
    gain: StrictFloat = 1.0
    offset: StrictFloat = 0.0
    unit: str = ""


class BindingIn(BaseModel):
    element_id: str
    property: str = Field(min_length=1)
    transform: TransformIn = Field(default_factory=TransformIn)


@router.get("/project", response_model=ProjectSnapshot)
async def get_project(svc: Service) -> JSON:
    """Snapshot: element count, status summary, storeys, recent events."""
    return JSON(await svc.view(svc.project_snapshot))


@router.get("/elements", response_model=ElementList)
async def list_elements(svc: Service, type: str | None = None, status: Status | None = None,
                        storey: str | None = None, archived: bool = False,
                        limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> JSON:
    def read() -> dict[str, Any]:
        found = svc.find_elements(type=type, status=status.value if status else None,
                                  storey=storey, include_archived=archived)
        return {"count": len(found),
                "elements": svc.elements_snapshot([e.id for e in found[:limit]])}
    return JSON(await svc.view(read))


@router.get("/elements/{element_id:id}", response_model=ElementDetail, responses=errors(404))
async def get_element(element_id: str, svc: Service) -> JSON:
    """An element with its properties (value, unit, time, source, confidence) and sensors;
    ``ETag`` is its revision, for ``If-Match`` on a PATCH."""
    element = await svc.view(svc.element_snapshot, element_id)
    # its activities, and what they and the sources that observed it say of its status
    element["schedule"] = await svc.schedules.element(element_id)
    return JSON(element, headers={"ETag": etag(element["revision"])})


@router.patch("/elements/{element_id:id}", response_model=ElementChanged,
              responses=errors(404, 412))
async def patch_element(element_id: str, patch: ElementPatch, svc: Service,
                        request: Request, precondition: IfMatch = None) -> JSON:
    source = earned_source(identity_of(request), patch.source.value if patch.source else None)
    when = None if patch.time is None else time_param(str(patch.time), 0.0, "time")
    events = await svc.update_element(
        element_id, status=patch.status.value if patch.status else None,
        properties=patch.properties, source=source.value, time=when,
        actor=actor(request), if_match=if_match(precondition),
        status_confidence=patch.status_confidence)
    element = await svc.view(svc.element_snapshot, element_id)
    return JSON({"element": element, "events": [e.to_dict() for e in events]},
                headers={"ETag": etag(element["revision"])})


@router.post("/elements/{element_id:id}/measurements", status_code=201,
             response_model=MeasurementRecorded, responses=errors(404, 409))
async def post_measurement(element_id: str, body: dict[str, Any], svc: Service,
                           request: Request) -> JSON:
    """A field measurement of a sensor-fed property, e.g. ``{"property": "temperature",
    "value": 21.4, "unit": "degC", "uncertainty": 0.3, "instrument": "probe HT-2",
    "id": "phone-7/0001"}`` (``time`` optional: now); the uncertainty is required. Fused
    with the property's sensors by inverse variance, its variance growing with its age
    (docs/PHYSICS.md). ``id`` (or an ``Idempotency-Key`` header) makes a retry safe: the
    same measurement sent again is answered with its first event (``replayed``); the same
    id with another measurement is a 409."""
    key = measurement_id(body, request.headers.get("Idempotency-Key"))
    if key is not None:
        body = {**body, "id": key}
    recorded = await record_once(svc, element_id, body, actor=actor(request))
    event = recorded.event
    fused = await svc.view(svc.fused_value, element_id, event.data["property"])
    return JSON({"property": fused, "event": event.to_dict(), "replayed": recorded.replayed},
                status_code=201)


@router.post("/elements", status_code=201, response_model=ElementAdded,
             responses=errors(404, 409))
async def post_element(body: ElementIn, svc: Service, request: Request) -> JSON:
    element = Element(body.id, body.type, body.name, body.global_id, body.parent, body.status)
    event = await svc.add_element(element, actor=actor(request))
    snapshot = await svc.view(svc.element_snapshot, element.id)
    return JSON({"element": snapshot, "event": event.to_dict()}, status_code=201,
                headers={"ETag": etag(snapshot["revision"])})


@router.get("/sensors", response_model=SensorList)
async def list_sensors(svc: Service) -> JSON:
    def read() -> dict[str, Any]:
        return {"sensors": [svc.sensor_snapshot(s) for s in svc.twin.sensors]}
    return JSON(await svc.view(read))


@router.post("/sensors", status_code=201, response_model=SensorSnapshot,
             responses=errors(409))
async def post_sensor(body: SensorIn, svc: Service, request: Request) -> JSON:
    sensor = Sensor(body.id, body.kind, body.unit, body.expected_interval, body.resolution)
    await svc.add_sensor(sensor, actor=actor(request))
    return JSON(await svc.view(svc.sensor_snapshot, sensor.id), status_code=201)


@router.get("/sensors/{sensor_id:id}", response_model=SensorSnapshot, responses=errors(404))
async def get_sensor(sensor_id: str, svc: Service) -> JSON:
    """A sensor, its binding and live value; ``ETag`` is its binding's revision, for
    ``If-Match`` on a PUT or DELETE of ``/binding``."""
    return _sensor(await svc.view(svc.sensor_snapshot, sensor_id))


def _sensor(snapshot: dict[str, Any]) -> JSON:
    return JSON(snapshot, headers={"ETag": etag(snapshot["binding_revision"])})


@router.put("/sensors/{sensor_id:id}/binding", response_model=SensorSnapshot,
            responses=errors(404, 409, 412))
async def put_binding(sensor_id: str, body: BindingIn, svc: Service, request: Request,
                      precondition: IfMatch = None) -> JSON:
    binding = Binding(sensor_id, body.element_id, body.property,
                      Transform(body.transform.gain, body.transform.offset, body.transform.unit))
    await svc.rebind_sensor(binding, actor=actor(request), if_match=if_match(precondition))
    return _sensor(await svc.view(svc.sensor_snapshot, sensor_id))


@router.delete("/sensors/{sensor_id:id}/binding", response_model=SensorSnapshot,
               responses=errors(404, 412))
async def delete_binding(sensor_id: str, svc: Service, request: Request,
                         precondition: IfMatch = None) -> JSON:
    await svc.unbind_sensor(sensor_id, actor=actor(request), if_match=if_match(precondition))
    return _sensor(await svc.view(svc.sensor_snapshot, sensor_id))


@router.get("/events", response_model=EventList)
async def list_events(svc: Service, after: Position = 0, element_id: str | None = None,
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                      kind: Annotated[str | None, Query(max_length=100)] = None,
                      newest_first: bool = False) -> JSON:
    """Events after ``after`` (a sequence number), oldest first, of an element and of a
    kind if asked; ``newest_first``: the newest ``limit`` of them, newest first (the
    dashboard reads the fleet's latest ``anomaly_storm`` so)."""
    events = await svc.history(lambda: svc.store.events(
        after=after, element_id=element_id, limit=limit, kind=kind,
        newest_first=newest_first))
    return JSON({"events": [e.to_dict() for e in events]})


@router.get("/connectors", response_model=ConnectorList)
async def list_connectors(svc: Service) -> JSON:
    """Each running connector's health: connected, last message, counts, error."""
    return JSON({"connectors": [h.to_dict() for h in svc.connector_health()]})


@router.post("/connectors", status_code=201, response_model=ConnectorHealth,
             responses=errors(409))
async def post_connector(spec: dict[str, Any], svc: Service, request: Request) -> JSON:
    """Start a connector from the same settings a ``[[connectors]]`` table takes, e.g.
    ``{"kind": "mqtt", "name": "gw", "topics": ["site/{sensor_id}"]}``. It may reach only
    the hosts of ``connector_hosts`` and read only files under ``data_folder``
    (docs/SECURITY.md), and checks its source before it is accepted."""
    connector = await confine(spec, request.app.state.settings, svc)
    health = connector.health().to_dict()
    name = str(health.get("name", ""))
    # A connector lives in the process, not the store: its entry is written once it runs.
    # If the entry cannot be written (the database is down) the connector is stopped
    # again, so the error answered is true: nothing was started, and a retry is not a 409.
    try:
        await svc.audit_change(AuditEntry("add_connector", f"connector:{name}",
                                          actor(request), svc.clock(), None,
                                          spec_for_audit(spec)))
    except BaseException:
        await svc.stop_connector(name)
        raise
    return JSON(health, status_code=201)


def spec_for_audit(spec: dict[str, Any]) -> dict[str, Any]:
    """A connector's settings as the audit log keeps them: never a password."""
    return {key: ("***" if "password" in key.lower() or "secret" in key.lower() else value)
            for key, value in spec.items()}


@router.delete("/connectors/{name:id}", response_model=ConnectorStopped, responses=errors(404))
async def delete_connector(name: str, svc: Service, request: Request) -> JSON:
    await svc.stop_connector(name)
    await svc.audit_change(AuditEntry("stop_connector", f"connector:{name}", actor(request),
                                      svc.clock(), {"name": name}, None))
    return JSON({"stopped": name})
