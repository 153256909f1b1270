"""What the twin's routes answer: the project snapshot, elements, sensors, connectors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ...model import Status
from .common import Event


class Storey(BaseModel):
    id: str
    name: str
    elevation: float | None


class ProjectSnapshot(BaseModel):
    """``GET /api/project``: the whole twin at a glance."""

    name: str
    element_count: int
    sensor_count: int
    status_summary: dict[str, int] = Field(examples=[{"planned": 11, "completed": 22}])
    """Elements in each status."""
    health_summary: dict[str, int] = Field(examples=[{"ok": 40, "stale": 2, "unknown": 8}])
    """Sensors in each health state (``unknown``: no reading yet)."""
    alarms: int
    """Active alarms."""
    storeys: list[Storey]
    recent_events: list[Event]
    """The 20 newest events, newest first."""
    time: float
    """The server's clock when the snapshot was taken (epoch seconds)."""


class PropertyOut(BaseModel):
    """One property of an element, with where and when its value came from. A
    sensor-fed property also names its sensors (``sensor_id``: the one with the largest
    share), their shares and the value's uncertainty."""

    value: Any
    unit: str
    time: float
    source: str
    confidence: float
    sensor_id: str | None = None
    sensors: list[str] | None = None
    uncertainty: float | None = None
    """A sensor-fed value's standard uncertainty (its unit): inverse-variance fusion of its
    sensors, widened when they disagree; null while a sensor's noise is being learned."""
    weights: dict[str, float] | None = None
    """Each source's share of a sensor-fed value (summing to 1): each sensor by its id,
    ``field`` for a field measurement (``sources`` names them without ambiguity)."""
    sources: list[FusedSource] | None = None
    """The sources used for a sensor-fed value, each with its share."""
    field: FieldSource | None = None
    """The property's field measurement, aged, and whether it was used."""
    instrument: str | None = None
    """What measured a field measurement (its stored value, before fusion)."""


class FusedSource(BaseModel):
    kind: str
    """``sensor``, ``field`` or ``prediction``."""
    id: str | None = None
    """A sensor's id."""
    weight: float | None


class FieldSource(BaseModel):
    """A field measurement as fusion took it: its variance is its uncertainty squared
    plus ``rate`` (unit² per second, learned from the property's sensors; null while
    unknown) times its ``age`` (seconds)."""

    value: float
    time: float
    age: float
    uncertainty: float
    aged_uncertainty: float
    rate: float | None
    instrument: str | None
    used: bool


class MeasurementRecorded(BaseModel):
    """``POST /api/elements/{id}/measurements``: the property as fused with the new
    measurement, and the committed event: an earlier sending's when ``replayed`` (the
    same measurement id sent again)."""

    property: PropertyOut | None
    event: Event
    replayed: bool = False


class TransformOut(BaseModel):
    gain: float
    offset: float
    unit: str


class BindingOut(BaseModel):
    sensor_id: str
    element_id: str
    property: str
    transform: TransformOut


class SensorHealth(BaseModel):
    """A sensor's health: ``state`` (ok, stale, stuck, spike, drift, noisy, offline,
    clock), ``quality`` 0..1 and why; lost (sequence gaps), duplicate, late and
    quarantined reading counts."""

    sensor_id: str
    state: str
    quality: float
    reason: str
    since: float | None
    last_reading: float | None
    lost: int
    duplicates: int
    late: int
    epochs: int
    quarantined: int


class SensorSnapshot(BaseModel):
    """A sensor, its binding and its live value; ``binding_revision`` is the ``ETag`` for
    ``If-Match`` on the binding (0: never bound)."""

    id: str
    kind: str
    unit: str
    expected_interval: float
    resolution: float
    meta: dict[str, Any]
    binding: BindingOut | None
    binding_state: str = Field(examples=["bound"])
    binding_revision: int
    count: int
    value: float | None
    time: float | None
    received_at: float | None
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    quality: float
    health: SensorHealth


class SensorList(BaseModel):
    sensors: list[SensorSnapshot]


class Alarm(BaseModel):
    key: str
    severity: str
    message: str
    raised_at: float
    element_id: str | None
    acknowledged_at: float | None
    acknowledged_by: str | None
    updated_at: float


class AlarmList(BaseModel):
    alarms: list[Alarm]


class ElementSnapshot(BaseModel):
    """An element with its properties, sensors and alarms; ``revision`` is its ``ETag``.
    ``GET /api/elements/{id}`` adds ``schedule``: its activities and what they imply."""

    id: str
    global_id: str | None
    type: str
    name: str
    parent: str | None
    status: Status
    archived: bool
    properties: dict[str, PropertyOut]
    revision: int
    storey: str | None
    sensors: list[SensorSnapshot]
    alarms: list[Alarm]


class ElementDetail(ElementSnapshot):
    schedule: dict[str, Any] | None
    """The activities that build it, the status they imply and any conflict with what
    was observed on site; null without a schedule."""


class ElementList(BaseModel):
    count: int
    """Elements matching the filters (``elements`` holds at most ``limit`` of them)."""
    elements: list[ElementSnapshot]


class ElementChanged(BaseModel):
    """``PATCH /api/elements/{id}``: the element as the update left it, and its events."""

    element: ElementSnapshot
    events: list[Event]


class ElementAdded(BaseModel):
    element: ElementSnapshot
    event: Event


class ConnectorHealth(BaseModel):
    """A running connector: connected, what it received, what stopped it last."""

    name: str
    kind: str
    state: str
    since: float | None
    connected: bool
    ready: bool
    last_message_at: float | None
    messages: int
    readings: int
    dead_letters: int
    error: str | None
    restarts: int
    last_error: str | None
    last_error_at: float | None
    rejected_deliveries: int
    retries: int
    failed_after_commit: int
    details: dict[str, Any]


class ConnectorList(BaseModel):
    connectors: list[ConnectorHealth]


class ConnectorStopped(BaseModel):
    stopped: str
