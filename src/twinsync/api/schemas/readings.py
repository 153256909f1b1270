"""What the reading routes read and answer: a batch of readings, history, dead letters.

``POST /api/readings`` decodes its body itself (msgspec, one decoder for every transport:
``twinsync.ingest.payloads``), so ``ReadingsBody`` is put in the document as the request
body's schema and never parsed by FastAPI, which would otherwise parse every batch a
second time, with pydantic, on the ingest path.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from .common import ErrorOut


class ReadingIn(BaseModel):
    """One reading. Short keys are read too: ``id``, ``v``, ``t`` or ``ts``, ``u``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sensor_id": "L1-slab-t1",
                    "value": 21.5,
                    "unit": "degC",
                    "time": "2026-03-04T12:00:00Z",
                    "seq": 41,
                }
            ]
        }
    )
    sensor_id: str = Field(min_length=1, max_length=200)
    value: float
    unit: str | None = None
    """The sensor's unit when left out; another unit of the same dimension is converted."""
    time: float | str | None = None
    """When it was measured: epoch seconds or ISO 8601; the time it arrived if left out."""
    seq: int | None = None
    """The device's counter, to find lost and repeated readings."""


class SenMLRecord(BaseModel):
    """A SenML record (RFC 8428, JSON): base fields (``bn``, ``bt``, ``bu``, ``bv``) apply
    to it and to every later record of the pack; its sensor id is ``bn`` + ``n``."""

    bn: str | None = None
    bt: float | None = None
    bu: str | None = None
    bv: float | None = None
    bver: int | None = None
    n: str | None = None
    t: float | None = None
    u: str | None = None
    v: float | None = None
    vb: bool | None = None
    s: float | None = None
    seq: int | None = None


class ReadingsEnvelope(BaseModel):
    readings: list[ReadingIn]


class ReadingsBody(RootModel[ReadingIn | list[ReadingIn] | ReadingsEnvelope | list[SenMLRecord]]):
    """A reading, a list of readings, ``{"readings": [...]}``, or a SenML pack."""


class Refusal(BaseModel):
    """One refused reading: its position in the batch (null when the body was refused as
    a whole) and the reason; it is kept as a dead letter."""

    index: int | None
    reason: str = Field(examples=["unknown_sensor"])
    detail: str


class IngestAnswer(BaseModel):
    """What became of a batch: the readings committed and those refused, by position."""

    accepted: int
    duplicates: int
    late: int
    stale: int
    quarantined: int
    out_of_range: int
    rejected: list[Refusal]


class BatchRefused(ErrorOut):
    """400: the body is not JSON or holds no reading (kept as a dead letter)."""

    accepted: int
    rejected: list[Refusal]


class TooLarge(ErrorOut):
    """413: the body or the batch is past its limit (docs/LIMITS.md); nothing is kept."""

    limit: int
    readings: int | None = None


class History(BaseModel):
    """A sensor's history as columns. Raw (``every`` null): ``time``, ``value`` (in the
    bound property's unit), ``raw_value`` (the sensor's), ``received_at``, ``seq`` (-1:
    none), ``quality``, ``flags``, ``anomaly`` (the anomaly score in [0, 1]; null: not
    scored). Downsampled to ``every`` seconds: ``time`` (each bucket's start), ``min``,
    ``max``, ``mean``, ``count``, ``anomaly`` (the highest score in the bucket)."""

    sensor_id: str
    unit: str
    start: float
    end: float
    every: float | None
    time: list[float]
    value: list[float] | None = None
    raw_value: list[float] | None = None
    received_at: list[float] | None = None
    seq: list[int] | None = None
    quality: list[float] | None = None
    flags: list[int] | None = None
    min: list[float | None] | None = None
    max: list[float | None] | None = None
    mean: list[float | None] | None = None
    count: list[int] | None = None
    anomaly: list[float | None] | None = None


class DeadLetter(BaseModel):
    """Input that could not be used: what arrived (``payload``; undecodable bytes as text
    with ``payload_encoding: "bytes"``), from where, and why."""

    id: int | None
    received_at: float
    source: str
    reason: str
    detail: str
    payload: Any
    payload_encoding: str | None = None


class DeadLetterPage(BaseModel):
    dead_letters: list[DeadLetter]
    next_after: int | None
    """The ``after`` of the next page, or null when this is the last."""
    count: int
    """Dead letters kept in all."""
