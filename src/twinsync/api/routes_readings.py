"""REST for readings: push a batch, read history, see what was refused."""

from __future__ import annotations

import time
from typing import Annotated, Any, TypedDict

import orjson
from fastapi import APIRouter, Depends, Query, Request

from ..ingest.senml import decode_senml_records, looks_like_senml
from ..pipeline import DeadLetter, IncomingBatch, RawReading
from ..service import IngestResult, TwinService
from .deps import service, time_param
from .responses import JSON

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]

_FIELDS = ("sensor_id", "value", "time", "unit", "seq")


class Refusal(TypedDict):
    """One refused reading in the answer to a batch; ``index`` is None when unknown."""

    index: int | None
    reason: str
    detail: str


def source_of(request: Request) -> str:
    """Whose clock the readings' times come from: a named source, else the client address."""
    named = request.headers.get("x-twinsync-source") or request.query_params.get("source")
    if named:
        return named
    host = request.client.host if request.client else "unknown"
    return f"http:{host}"


def decode_readings(body: Any, received_at: float, source: str
                    ) -> tuple[list[RawReading], list[int], list[tuple[int, DeadLetter]]]:
    """Body → raw readings, the body position of each, and dead letters for bad items.

    The body is ``[reading, …]``, ``{"readings": [reading, …]}`` or a SenML pack (RFC 8428
    JSON); for SenML, positions count the resolved records."""
    if looks_like_senml(body):
        records = body if isinstance(body, list) else [body]
        resolved, rejects = decode_senml_records(records, now=received_at)
        letters = [(-1, DeadLetter(received_at, source, r.reason, r.detail, r.payload))
                   for r in rejects]
        return resolved, list(range(len(resolved))), letters
    items = body.get("readings") if isinstance(body, dict) else body
    if not isinstance(items, list):
        letter = DeadLetter(received_at, source, "bad_payload",
                            'expected a list of readings or {"readings": [...]}', body)
        return [], [], [(0, letter)]
    readings: list[RawReading] = []
    positions: list[int] = []
    rejected: list[tuple[int, DeadLetter]] = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append((position, DeadLetter(received_at, source, "bad_reading",
                                                  "a reading must be a JSON object", item)))
            continue
        if "value" not in item:
            rejected.append((position, DeadLetter(received_at, source, "missing_value",
                                                  "the reading has no value", item)))
            continue
        readings.append(RawReading(*(item.get(name) for name in _FIELDS)))
        positions.append(position)
    return readings, positions, rejected


@router.post("/readings")
async def post_readings(request: Request, svc: Service) -> JSON:
    """A batch of readings ``{sensor_id, value, unit?, time?, seq?}``.

    Answers how many were accepted (committed) and, for each refused one, its position in
    the batch and the reason. Refused readings are kept as dead letters.
    """
    received_at = time.time()
    source = source_of(request)
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        letter = DeadLetter(received_at, source, "malformed_json", str(exc), raw)
        await svc.add_dead_letters([letter])
        return JSON({"error": "malformed_json", "detail": str(exc), "accepted": 0,
                     "rejected": [{"index": None, "reason": "malformed_json",
                                   "detail": str(exc)}]}, status_code=400)
    readings, positions, early = decode_readings(body, received_at, source)
    if readings:
        result = await svc.ingest(IncomingBatch(readings, source, received_at, "http"),
                                  [d for _, d in early])
    else:
        await svc.add_dead_letters([d for _, d in early])
        result = IngestResult(0)
    rejected: list[Refusal] = [{"index": positions[i], "reason": r, "detail": d}
                               for i, r, d in result.rejected]
    rejected += [{"index": p if p >= 0 else None, "reason": d.reason, "detail": d.detail}
                 for p, d in early]
    rejected.sort(key=lambda r: -1 if r["index"] is None else r["index"])
    return JSON({"accepted": result.accepted, "duplicates": result.duplicates,
                 "late": result.late, "stale": result.stale, "rejected": rejected})


@router.get("/sensors/{sensor_id}/readings")
async def get_readings(sensor_id: str, svc: Service, start: str | None = None,
                       end: str | None = None,
                       every: Annotated[float | None, Query(gt=0)] = None,
                       limit: Annotated[int, Query(ge=1, le=1_000_000)] = 100_000) -> JSON:
    """History of a sensor as columns, raw or downsampled to ``every`` seconds
    (min, max, mean and count per bucket). Times are ISO 8601 or epoch seconds;
    the default window is the last 24 hours."""
    now = time.time()
    end_time = time_param(end, now + 1.0, "end")
    start_time = time_param(start, end_time - 86_400.0, "start")
    row, unit = await svc.view(svc.sensor_row_and_unit, sensor_id)
    head = {"sensor_id": sensor_id, "unit": unit, "start": start_time, "end": end_time}
    if every is not None:
        buckets = await svc.history(svc.store.downsample, row, start_time, end_time, every)
        return JSON({**head, "every": every, "time": buckets.start, "min": buckets.minimum,
                     "max": buckets.maximum, "mean": buckets.mean, "count": buckets.count})
    history = await svc.history(svc.store.history, row, start_time, end_time, limit)
    return JSON({**head, "every": None, "time": history.event_time, "value": history.value,
                 "raw_value": history.raw_value, "received_at": history.received_at,
                 "seq": history.seq, "quality": history.quality, "flags": history.flags})


@router.get("/dead-letters")
def get_dead_letters(svc: Service, after: int = 0, reason: str | None = None,
                     limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> JSON:
    """Input that could not be used, oldest first, with the reason. A page holds at most
    ``limit`` letters and a few MB (the store's page bound), so it may hold fewer; when
    more follow, ``next_after`` is the ``after`` of the next page (else null)."""
    letters = svc.store.dead_letters(after=after, reason=reason, limit=limit)
    out = []
    for letter in letters:
        data = letter.to_dict()
        if isinstance(letter.payload, bytes):
            data["payload"] = letter.payload.decode("utf-8", "backslashreplace")
            data["payload_encoding"] = "bytes"
        out.append(data)
    last = letters[-1].id if letters else None
    more = last is not None and bool(svc.store.dead_letters(after=last, reason=reason, limit=1))
    return JSON({"dead_letters": out, "next_after": last if more else None,
                 "count": svc.store.counts()["dead_letters"]})
