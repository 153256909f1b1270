"""What the trust and time routes answer: fleet health, sources' clocks, time sync."""

from __future__ import annotations

from pydantic import BaseModel


class Unhealthy(BaseModel):
    sensor_id: str
    state: str
    quality: float
    reason: str


class StoreHealth(BaseModel):
    """The store's connection: up, the last error and when, reconnections."""

    backend: str
    connected: bool
    last_error: str | None
    last_error_at: float | None
    down_since: float | None
    reconnects: int


class LoadProblem(BaseModel):
    """A stored row the store skipped on reading, and why."""

    table: str
    key: str
    reason: str


class FleetHealth(BaseModel):
    summary: dict[str, int]
    """Sensors in each health state."""
    unhealthy: list[Unhealthy]
    readings: dict[str, int]
    """Readings by outcome since start (accepted, duplicates, late, …)."""
    store: StoreHealth
    store_problems: list[LoadProblem]
    """The first 100."""
    store_problem_count: int


class Percentiles(BaseModel):
    """Latency in seconds over the recent window (null: no sample yet)."""

    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None = None


class SourceLatency(BaseModel):
    receive: Percentiles
    commit: Percentiles


class SourceClock(BaseModel):
    offset_from_readings: float | None
    synced_offset: float | None
    round_trip: float | None
    last_sync: float | None
    samples: int
    jumps: int
    quarantined: int


class SourceOut(BaseModel):
    source: str
    clock_offset: float
    """Seconds to add to the source's times to get the server's clock."""
    clock: SourceClock | None
    latency: SourceLatency


class SourceList(BaseModel):
    sources: list[SourceOut]


class TimeAnswer(BaseModel):
    """Time sync, step one: ``t0`` as sent, ``t1`` when the server received it, ``t2``
    when it answered (epoch seconds)."""

    t0: float | None
    t1: float
    t2: float


class ClockSynced(SourceClock):
    source: str


class SiteEventOut(BaseModel):
    """A declared site event (a pour, a load step): within ``start`` ≤ t ≤ ``end`` (epoch
    seconds) the drift check does not judge the sensors it concerns against their peers."""

    id: str
    kind: str
    start: float
    end: float
    element_ids: list[str]
    """Every sensor bound to one of these is concerned."""
    sensor_ids: list[str]
    note: str
    declared_at: float
    declared_by: str
    withdrawn_at: float | None
    """When it was withdrawn (it is kept, no longer taken into account), or null."""


class SiteEventList(BaseModel):
    events: list[SiteEventOut]


class ExpectedAnomaly(BaseModel):
    """A span of event time (``start`` ≤ t ≤ ``end``, epoch seconds) in which a sensor's
    anomalies are expected (a pour, a load test): they are events marked expected, and
    raise no alarm."""

    id: str
    """The mark's id: the spans one mark made (one a sensor) share it; withdraw it with
    ``DELETE /api/anomalies/expected/{id}``."""
    sensor_id: str
    start: float
    end: float
    reason: str
    by: str
    """Who said so."""
    marked_at: float
    """When it was marked (epoch seconds)."""
    withdrawn_at: float | None = None
    """When the mark was withdrawn (epoch seconds); null while it stands."""
    withdrawn_by: str | None = None
    """Who withdrew it; null while it stands."""
    withdrawn_reason: str | None = None
    """Why it was withdrawn; null while it stands."""


class ExpectedMarked(BaseModel):
    """The spans a mark made (one a sensor), and the anomaly alarms it cleared."""

    expected: list[ExpectedAnomaly]
    cleared: list[str]


class ExpectedWithdrawn(BaseModel):
    """A mark taken back: its sensors and span, who took it back, when and why. From then
    on its spans suppress no alarm."""

    id: str
    sensors: list[str]
    start: float
    end: float
    withdrawn_by: str
    withdrawn_at: float
    reason: str
    """Why it was withdrawn."""


class ExpectedAnomalyList(BaseModel):
    """A page of spans marked expected (standing, withdrawn or both, as asked)."""

    expected: list[ExpectedAnomaly]
    next: str | None = None
    """The ``after`` of the following page, while more follow; the last page has none."""
